import { ConcordError, ErrorCode } from '../../core/errors.js';
import { type DeliveryMode, isDeliveryMode } from './types.js';

export interface DeliveryConfig {
  readonly mode: DeliveryMode;
  /** First retransmission timeout; doubles per attempt up to `retransmitMaxTicks`. */
  readonly retransmitBaseTicks: number;
  /** Ceiling of the exponential backoff. */
  readonly retransmitMaxTicks: number;
  /** Up to this many extra ticks drawn per timeout, so retransmissions of many senders spread out. */
  readonly retransmitJitterTicks: number;
  /**
   * Sends of one message before the sender gives up and replies `info` (at-least-once and
   * exactly-once; at-most-once always sends once). Together with the backoff this is the give-up
   * horizon; it must outlast every outage the guarantees are meant to survive.
   */
  readonly maxAttempts: number;
  /** at-most-once: ticks to wait for the single ack before replying `info`. */
  readonly ackTimeoutTicks: number;
  /**
   * Unresolved messages per destination. A request beyond it is rejected at once with
   * `fail OVERLOADED` (backpressure: nothing was sent, so the failure is definite).
   */
  readonly maxInflightPerPeer: number;
  /** Receiver: seqs tracked above the contiguous watermark per sender; ≥ `maxInflightPerPeer`. */
  readonly dedupWindowMax: number;
  /** Sequence numbers reserved (one synced record) at a time per link. */
  readonly seqBlockSize: number;
}

export const defaultDeliveryConfig: DeliveryConfig = Object.freeze({
  mode: 'exactly-once',
  retransmitBaseTicks: 4,
  retransmitMaxTicks: 64,
  retransmitJitterTicks: 2,
  maxAttempts: 200,
  ackTimeoutTicks: 32,
  maxInflightPerPeer: 64,
  dedupWindowMax: 256,
  seqBlockSize: 64,
});

/** Fills defaults and validates; throws `ConcordError(INVALID_CONFIG)`. */
export function deliveryConfig(options: Partial<DeliveryConfig> = {}): DeliveryConfig {
  const config: DeliveryConfig = { ...defaultDeliveryConfig, ...options };
  if (!isDeliveryMode(config.mode)) invalid(`unknown mode ${String(config.mode)}`);
  for (const key of [
    'retransmitBaseTicks',
    'retransmitMaxTicks',
    'maxAttempts',
    'ackTimeoutTicks',
    'maxInflightPerPeer',
    'dedupWindowMax',
    'seqBlockSize',
  ] as const) {
    if (!Number.isSafeInteger(config[key]) || config[key] < 1) invalid(`${key} must be a positive integer, got ${config[key]}`);
  }
  if (!Number.isSafeInteger(config.retransmitJitterTicks) || config.retransmitJitterTicks < 0) {
    invalid(`retransmitJitterTicks must be a non-negative integer, got ${config.retransmitJitterTicks}`);
  }
  if (config.retransmitMaxTicks < config.retransmitBaseTicks) invalid('retransmitMaxTicks must be ≥ retransmitBaseTicks');
  // Why: a sender never has a seq more than maxInflightPerPeer above its floor, so a receiver
  // window at least that wide never has to drop a legitimate message.
  if (config.dedupWindowMax < config.maxInflightPerPeer) invalid('dedupWindowMax must be ≥ maxInflightPerPeer');
  return config;
}

/**
 * Longest time (ticks) a sender keeps retrying one message before giving up, when its peer stays
 * silent (no ack at all resets the backoff). at-most-once: the ack timeout. While acks from the
 * peer for other messages keep resetting the backoff, giving up can come sooner, but never before
 * `maxAttempts × retransmitBaseTicks`.
 */
export function giveUpHorizonTicks(config: DeliveryConfig): number {
  if (config.mode === 'at-most-once') return config.ackTimeoutTicks;
  let total = 0;
  for (let attempt = 1; attempt <= config.maxAttempts; attempt += 1) {
    total += backoffTicks(config, attempt) + config.retransmitJitterTicks;
  }
  return total;
}

/** Timeout after the `attempt`-th send (1-based), before jitter: base·2^(attempt−1), capped. */
export function backoffTicks(config: DeliveryConfig, attempt: number): number {
  const doublings = Math.min(attempt - 1, 30);
  return Math.min(config.retransmitMaxTicks, config.retransmitBaseTicks * 2 ** doublings);
}

function invalid(message: string): never {
  throw new ConcordError(ErrorCode.InvalidConfig, `reliable-delivery: ${message}`);
}
