import { requirePositiveIntegers, withOverrides } from '../../core/config-check.js';
import { ConcordError, ErrorCode } from '../../core/errors.js';
import type { NodeId } from '../../core/ids.js';
import { type CoreContext, type Input, type InputHandlers, type Output, OutputBuilder, type ProtocolCore, stepWith } from '../../core/protocol.js';

/**
 * An eventually perfect failure detector (◇P, Chandra & Toueg) from heartbeats with adaptive
 * timeouts. Every node sends a heartbeat to every peer every `heartbeatTicks`; it suspects a peer
 * it has not heard from for longer than that peer's timeout. A heartbeat from a suspected peer
 * proves the suspicion false: the peer is trusted again and its timeout grows by
 * `timeoutIncrementTicks` (up to `maxTimeoutTicks`).
 *
 * - Strong completeness: a crashed peer sends nothing, so every live node suspects it within its
 *   timeout (≤ `maxTimeoutTicks`) and keeps suspecting it while it stays down.
 * - Eventual strong accuracy: once message delays are bounded (after GST, or after healing) each
 *   timeout stops growing as soon as it exceeds the bound, and no live peer is suspected again.
 *
 * Nothing is durable: a restarted node starts trusting everyone and relearns. Time is the node's
 * own ticks (tick-driven), so clock drift stretches or shrinks its timeouts as on a real machine.
 */
export type FdMessage = { readonly type: 'heartbeat'; readonly seq: number };

export type FdRequest = { readonly type: 'suspects' };
export type FdReply = { readonly type: 'suspects'; readonly suspects: readonly NodeId[] };

export interface FdConfig {
  readonly heartbeatTicks: number;
  readonly initialTimeoutTicks: number;
  readonly timeoutIncrementTicks: number;
  readonly maxTimeoutTicks: number;
  /**
   * TEST-ONLY bug switches: `anyHeartbeatRefreshesAll` — a heartbeat from any peer counts as
   * hearing from every peer (a crashed node is never suspected while others live);
   * `neverTrustAgain` — a suspicion is never withdrawn.
   */
  readonly testingBugs: { readonly anyHeartbeatRefreshesAll: boolean; readonly neverTrustAgain: boolean };
}

export const defaultFdConfig: FdConfig = {
  heartbeatTicks: 5,
  initialTimeoutTicks: 15,
  timeoutIncrementTicks: 5,
  maxTimeoutTicks: 100,
  testingBugs: { anyHeartbeatRefreshesAll: false, neverTrustAgain: false },
};

export function fdConfig(overrides: Partial<FdConfig> = {}): FdConfig {
  const config = withOverrides(defaultFdConfig, overrides);
  requirePositiveIntegers('failure detector', config, ['heartbeatTicks', 'initialTimeoutTicks', 'timeoutIncrementTicks', 'maxTimeoutTicks']);
  if (config.maxTimeoutTicks < config.initialTimeoutTicks) throw new ConcordError(ErrorCode.InvalidConfig, 'failure detector: maxTimeoutTicks below initialTimeoutTicks');
  return config;
}

interface PeerView {
  lastHeardTick: number;
  /** Heartbeats received from the peer by this incarnation. */
  received: number;
  timeoutTicks: number;
  suspected: boolean;
}

export interface FdStats {
  heartbeatsSent: number;
  heartbeatsReceived: number;
  suspicions: number;
  /** Suspicions withdrawn because the peer turned out alive. */
  falseSuspicions: number;
  malformedDropped: number;
}

type FdOutput = Output<FdMessage, never, FdReply>;

export class FailureDetectorCore implements ProtocolCore<FdMessage, never, FdRequest, FdReply> {
  readonly id: NodeId;
  readonly tickDriven = true;
  readonly stats: FdStats = { heartbeatsSent: 0, heartbeatsReceived: 0, suspicions: 0, falseSuspicions: 0, malformedDropped: 0 };
  private readonly out: OutputBuilder<FdMessage, never, FdReply>;
  private readonly peers = new Map<NodeId, PeerView>();
  private now = 0;
  private seq = 0;

  constructor(context: CoreContext<never>, private readonly config: FdConfig) {
    this.id = context.id;
    this.out = new OutputBuilder(context.id);
    for (const peer of context.peers) if (peer !== context.id) this.peers.set(peer, { lastHeardTick: 0, received: 0, timeoutTicks: config.initialTimeoutTicks, suspected: false });
  }

  start(): FdOutput {
    this.sendHeartbeats();
    return this.out.take();
  }

  private readonly handlers: InputHandlers<FdMessage, FdRequest> = {
    tick: () => this.onTick(),
    message: (from, message) => this.onHeartbeat(from, message),
    request: (requestId) => this.out.reply(requestId, { type: 'suspects', suspects: this.suspects() }),
  };

  step(input: Input<FdMessage, FdRequest>): FdOutput {
    return stepWith(this.out, input, this.handlers);
  }

  /** Peers currently suspected, sorted. */
  suspects(): NodeId[] {
    return [...this.peers].filter(([, view]) => view.suspected).map(([id]) => id).sort();
  }

  isSuspected(peer: NodeId): boolean {
    return this.peers.get(peer)?.suspected ?? false;
  }

  /** Heartbeats received from `peer` by this incarnation. */
  heartbeatsFrom(peer: NodeId): number {
    return this.peers.get(peer)?.received ?? 0;
  }

  timeoutOf(peer: NodeId): number | null {
    return this.peers.get(peer)?.timeoutTicks ?? null;
  }

  private onTick(): void {
    this.now += 1;
    if (this.now % this.config.heartbeatTicks === 0) this.sendHeartbeats();
    for (const view of this.peers.values()) {
      if (!view.suspected && this.now - view.lastHeardTick > view.timeoutTicks) {
        view.suspected = true;
        this.stats.suspicions += 1;
      }
    }
  }

  private onHeartbeat(from: NodeId, message: FdMessage): void {
    const view = this.peers.get(from);
    if (view === undefined || typeof message !== 'object' || message === null || message.type !== 'heartbeat' || !Number.isSafeInteger(message.seq)) {
      this.stats.malformedDropped += 1;
      return;
    }
    this.stats.heartbeatsReceived += 1;
    view.received += 1;
    const heard = this.config.testingBugs.anyHeartbeatRefreshesAll ? [...this.peers.values()] : [view];
    for (const peer of heard) this.hear(peer);
  }

  private hear(view: PeerView): void {
    view.lastHeardTick = this.now;
    if (!view.suspected || this.config.testingBugs.neverTrustAgain) return;
    view.suspected = false;
    view.timeoutTicks = Math.min(this.config.maxTimeoutTicks, view.timeoutTicks + this.config.timeoutIncrementTicks);
    this.stats.falseSuspicions += 1;
  }

  private sendHeartbeats(): void {
    this.seq += 1;
    for (const peer of this.peers.keys()) this.out.send(peer, { type: 'heartbeat', seq: this.seq });
    this.stats.heartbeatsSent += this.peers.size;
  }
}

export function failureDetectorFactory(overrides: Partial<FdConfig> = {}): (context: CoreContext<never>) => FailureDetectorCore {
  const config = fdConfig(overrides);
  return (context) => new FailureDetectorCore(context, config);
}
