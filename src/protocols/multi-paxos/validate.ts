import type { PaxosConfig } from './core.js';
import type { PaxosMessage } from './types.js';

/**
 * Shape checks for what crosses a trust boundary: a peer's message (`TcpTransport.validateMessage`)
 * and a record read back from disk (`WriteAheadLog.validateRecord`). Null when well formed, else
 * the reason. Multi-Paxos tolerates crashes, not lies: these keep well-typed junk (a slot 0 or 1.5,
 * a ballot that is a string, an unbounded catch-up batch) from reaching a handler, nothing more.
 */
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
/** Ballots are `round × ballotStride + proposer index`; the "none yet" ballot −1 never leaves a node. */
const isBallot = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
/** Slots count from 1. */
const isSlot = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 1;

export function valueProblem(value: unknown): string | null {
  if (!isObject(value)) return 'value must be an object';
  if (value.type === 'noop') return null;
  if (value.type !== 'command') return `unknown value type ${JSON.stringify(value.type)}`;
  if (typeof value.id !== 'string' || value.id.length === 0) return 'command: id must be a non-empty string';
  return typeof value.command === 'string' ? null : 'command: command must be a string';
}

function acceptedEntryProblem(value: unknown): string | null {
  if (!isObject(value)) return 'accepted entry must be an object';
  if (!isSlot(value.slot)) return 'accepted entry: slot must be a positive integer';
  if (!isBallot(value.ballot)) return 'accepted entry: ballot must be a non-negative integer';
  return valueProblem(value.value);
}

function slotValueProblem(value: unknown): string | null {
  if (!isObject(value)) return 'entry must be an object';
  return isSlot(value.slot) ? valueProblem(value.value) : 'entry: slot must be a positive integer';
}

function listProblem(value: unknown, itemProblem: (item: unknown) => string | null, max: number | null): string | null {
  if (!Array.isArray(value)) return 'must be a list';
  if (max !== null && value.length > max) return `more than ${max} entries`;
  for (const item of value) {
    const problem = itemProblem(item);
    if (problem !== null) return problem;
  }
  return null;
}

/**
 * A peer's message. `config` must be the sender's too (a catch-up answer carries at most
 * `catchupBatch` entries). A promise's accepted list is not bounded by count: it holds every
 * entry the acceptor accepted from the candidate's first open slot on (the frame size bounds it).
 */
export function validatePaxosMessage(value: unknown, config: PaxosConfig): string | null {
  if (!isObject(value)) return 'not an object';
  const message = value as Partial<PaxosMessage> & Record<string, unknown>;
  switch (message.type) {
    case 'prepare':
      if (!isBallot(message.ballot)) return 'prepare: ballot must be a non-negative integer';
      return isSlot(message.fromSlot) ? null : 'prepare: fromSlot must be a positive integer';
    case 'promise': {
      if (!isBallot(message.ballot)) return 'promise: ballot must be a non-negative integer';
      const problem = listProblem(message.accepted, acceptedEntryProblem, null);
      return problem === null ? null : `promise: accepted ${problem}`;
    }
    case 'accept':
      if (!isBallot(message.ballot) || !isSlot(message.slot)) return 'accept: ballot and slot must be integers (slot ≥ 1)';
      return valueProblem(message.value);
    case 'accepted':
      return isBallot(message.ballot) && isSlot(message.slot) ? null : 'accepted: ballot and slot must be integers (slot ≥ 1)';
    case 'nack':
      return isBallot(message.promised) ? null : 'nack: promised must be a non-negative integer';
    case 'chosen':
      return isSlot(message.slot) ? valueProblem(message.value) : 'chosen: slot must be a positive integer';
    case 'heartbeat':
      if (!isBallot(message.ballot)) return 'heartbeat: ballot must be a non-negative integer';
      return Number.isSafeInteger(message.chosenThrough) && message.chosenThrough! >= 0 ? null : 'heartbeat: chosenThrough must be a non-negative integer';
    case 'catchup':
      return isSlot(message.fromSlot) ? null : 'catchup: fromSlot must be a positive integer';
    case 'entries': {
      const problem = listProblem(message.entries, slotValueProblem, config.catchupBatch);
      return problem === null ? null : `entries: ${problem}`;
    }
    default:
      return `unknown message type ${JSON.stringify(message.type)}`;
  }
}

/** A record read back from the log. */
export function validatePaxosRecord(value: unknown): string | null {
  if (!isObject(value)) return 'not an object';
  switch (value.type) {
    case 'promised':
      return isBallot(value.ballot) ? null : 'promised: ballot must be a non-negative integer';
    case 'accepted':
      return acceptedEntryProblem(value.entry);
    case 'chosen':
      return isSlot(value.slot) ? valueProblem(value.value) : 'chosen: slot must be a positive integer';
    default:
      return `unknown record type ${JSON.stringify(value.type)}`;
  }
}
