import type { CheckpointBlobs, SnapshotFileRef } from '../net/snapshot-files.js';
import { KvStateMachine, type KvCommand } from '../protocols/raft/kv.js';
import type { RaftRecord } from '../protocols/raft/types.js';
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
      if (!(record.data instanceof Uint8Array && typeof record.snapshot === 'object' && Array.isArray(record.entries))) return 'malformed checkpoint record';
      return record.dataFile === undefined || isSnapshotFileRef(record.dataFile) ? null : 'checkpoint record with a malformed snapshot file reference';
    default:
      return `unknown record type ${JSON.stringify(record.type)}`;
  }
}

function isSnapshotFileRef(value: unknown): value is SnapshotFileRef {
  if (typeof value !== 'object' || value === null) return false;
  const ref = value as Record<string, unknown>;
  return typeof ref.file === 'string' && isCount(ref.bytes) && isCount(ref.crc32);
}

type Checkpoint = Extract<RaftRecord<KvCommand>, { type: 'checkpoint' }>;
type CheckpointStub = Checkpoint & { readonly dataFile: SnapshotFileRef };
const noBytes = new Uint8Array(0);

/**
 * Raft checkpoints keep their snapshot (`data`) in a snapshot file: the WAL logs the checkpoint
 * with empty `data` and a `dataFile` reference, and puts the bytes back at recovery.
 */
export const raftCheckpointBlobs: CheckpointBlobs<RaftRecord<KvCommand>> = {
  detach(record) {
    if (record.type !== 'checkpoint' || record.data.length === 0) return null;
    return { blob: record.data, stub: (dataFile): CheckpointStub => ({ ...record, data: noBytes, dataFile }) };
  },
  attach(record) {
    if (record.type !== 'checkpoint' || !('dataFile' in record)) return null;
    const { dataFile, ...rest } = record as CheckpointStub;
    return { ref: dataFile, restore: (data): Checkpoint => ({ ...rest, data }) };
  },
};
