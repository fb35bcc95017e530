import { assert, assertNever } from '../../core/errors.js';
import { RaftLog } from './log.js';
import type { HardState, LogEntry, RaftRecord, SnapshotMeta } from './types.js';

/** The durable state of a Raft node, rebuilt from its records. */
export interface RecoveredRaftState<C> {
  readonly hardState: HardState;
  readonly snapshot: { readonly meta: SnapshotMeta; readonly data: Uint8Array } | null;
  readonly logStart: { readonly index: number; readonly term: number };
  readonly entries: readonly LogEntry<C>[];
}

/**
 * Replays records oldest first: hard states replace each other, an `entries` record truncates
 * the log at its first index and appends, a checkpoint replaces everything. Returns null for no
 * records (a fresh node). Any prefix of a node's record stream is a valid input (a crash keeps a
 * prefix of the unsynced records), and the result satisfies: snapshot ≤ commit ≤ last index,
 * and the current term is at least the last entry's term.
 */
export function recoverRaftState<C>(records: readonly RaftRecord<C>[]): RecoveredRaftState<C> | null {
  if (records.length === 0) return null;
  let hardState: HardState = { term: 0, vote: null, commit: 0 };
  let snapshot: RecoveredRaftState<C>['snapshot'] = null;
  let log = new RaftLog<C>();
  for (const record of records) {
    switch (record.type) {
      case 'hardState':
        hardState = record.hardState;
        break;
      case 'entries':
        log.append(record.entries);
        break;
      case 'checkpoint':
        hardState = record.hardState;
        snapshot = { meta: record.snapshot, data: record.data };
        log = new RaftLog<C>(record.logStart, record.entries);
        break;
      default:
        assertNever(record, 'raft record');
    }
  }
  const snapshotIndex = snapshot?.meta.index ?? 0;
  assert(hardState.commit >= snapshotIndex, () => `recovered commit ${hardState.commit} is below the snapshot at ${snapshotIndex}`);
  assert(hardState.commit <= log.lastIndex(), () => `recovered commit ${hardState.commit} is beyond the last entry ${log.lastIndex()}`);
  assert(hardState.term >= log.lastTerm(), () => `recovered term ${hardState.term} is below the last entry's term ${log.lastTerm()}`);
  assert(log.start.index <= snapshotIndex, 'the log must not be compacted past the snapshot');
  return { hardState, snapshot, logStart: log.start, entries: log.allEntries() };
}
