import { KvStateMachine, type KvCommand } from '../protocols/raft/kv.js';
import { raftMessageProblem } from '../protocols/raft/validate.js';

/**
 * Shape checks for what arrives from the network (peer messages) and from disk (WAL records)
 * before it reaches the Raft core: the transport and the WAL refuse values that fail them (the
 * connection is closed / recovery stops with a clear message) instead of letting a malformed value
 * break a core invariant. They check the discriminant and the fields every handler reads first;
 * payload contents (entries, commands) are checked by the core itself (`validateCommand`).
 */
const isCount = (value: unknown): boolean => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

const commandChecker = new KvStateMachine();

/** Peer messages: Raft's structural check, with KV commands checked by the state machine's own rule. */
export function kvRaftMessageProblem(value: unknown): string | null {
  return raftMessageProblem(value, (command) => commandChecker.validateCommand(command as KvCommand));
}

function isEntry(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  return isCount(entry.index) && isCount(entry.term) && typeof entry.payload === 'object' && entry.payload !== null;
}

export function raftRecordProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'record must be an object';
  const record = value as Record<string, unknown>;
  switch (record.type) {
    case 'hardState':
      return typeof record.hardState === 'object' && record.hardState !== null ? null : 'hardState record without hard state';
    case 'entries':
      return Array.isArray(record.entries) && record.entries.every(isEntry) ? null : 'entries record with malformed entries';
    case 'checkpoint':
      return record.data instanceof Uint8Array && typeof record.snapshot === 'object' && Array.isArray(record.entries) ? null : 'malformed checkpoint record';
    default:
      return `unknown record type ${JSON.stringify(record.type)}`;
  }
}
