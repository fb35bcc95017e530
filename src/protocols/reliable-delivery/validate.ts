import type { DeliveryMessage, DeliveryRecord } from './types.js';

/**
 * Shape checks for what crosses a trust boundary: a peer's message (after decoding) and a record
 * read back from disk. Each returns null when `value` is well formed, else the reason — the form
 * `validatingCodec` (src/core/codec.ts) takes, so a host builds a codec for this protocol as
 * `validatingCodec(binaryCodec, validateDeliveryMessage)`. The core itself drops (and counts) a
 * malformed message rather than trusting its peers to be bug-free.
 */
export function validateDeliveryMessage(value: unknown): string | null {
  if (!isObject(value)) return 'not an object';
  const message = value as Partial<DeliveryMessage> & Record<string, unknown>;
  switch (message.type) {
    case 'data':
      if (!isPositiveInteger(message.seq) || !isPositiveInteger(message.floorSeq)) return 'data: seq and floorSeq must be positive integers';
      if (message.floorSeq > message.seq) return 'data: floorSeq above seq';
      if (typeof message.appId !== 'string' || typeof message.payload !== 'string') return 'data: appId and payload must be strings';
      return null;
    case 'ack':
      return isPositiveInteger(message.seq) ? null : 'ack: seq must be a positive integer';
    default:
      return `unknown message type ${JSON.stringify(message.type)}`;
  }
}

export function validateDeliveryRecord(value: unknown): string | null {
  if (!isObject(value)) return 'not an object';
  const record = value as Record<string, unknown>;
  const peer = record.type === 'applied' ? record.from : record.to;
  if (typeof peer !== 'string' || peer.length === 0) return `${String(record.type)}: missing peer`;
  switch (record.type) {
    case 'reserve':
      return isPositiveInteger(record.throughSeq) ? null : 'reserve: throughSeq must be a positive integer';
    case 'sent':
      return isPositiveInteger(record.seq) && typeof record.appId === 'string' && typeof record.payload === 'string' ? null : 'sent: bad fields';
    case 'resolved':
      return isPositiveInteger(record.seq) && (record.outcome === 'acked' || record.outcome === 'abandoned') ? null : 'resolved: bad fields';
    case 'applied':
      return isPositiveInteger(record.seq) && isPositiveInteger(record.floorSeq) && typeof record.appId === 'string' && typeof record.payload === 'string'
        ? null
        : 'applied: bad fields';
    default:
      return `unknown record type ${JSON.stringify(record.type)}`;
  }
}

/** Type guard form of `validateDeliveryRecord`. */
export function isDeliveryRecord(value: unknown): value is DeliveryRecord {
  return validateDeliveryRecord(value) === null;
}

function isObject(value: unknown): value is object {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}
