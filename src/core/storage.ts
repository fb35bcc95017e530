import { assert } from './errors.js';

/**
 * Durable-storage semantics shared by every host.
 *
 * A node owns one append-only log of the records its core emits (`Output.persist`). A record is
 * **written** when appended and **synced** once a sync covering it completes. A crash keeps every
 * synced record and may keep any prefix of the written-but-unsynced ones (a real disk may have
 * flushed some of them on its own) — never a record after a lost one. A protocol may mark a
 * record as a *checkpoint* (e.g. a snapshot carrying all earlier state); a host may then discard
 * every record before the latest **synced** checkpoint.
 *
 * `MemoryDurableLog` is the reference implementation used by the simulator; the real WAL in
 * `src/net` implements the same semantics on files and passes the same compliance tests.
 */
export interface DurableLogView<P> {
  /** Records appended so far (synced or not), oldest first. */
  written(): readonly P[];
  /** Records that survive a crash for sure, oldest first. */
  synced(): readonly P[];
}

export class MemoryDurableLog<P> implements DurableLogView<P> {
  private records: P[] = [];
  private syncedCount = 0;
  /**
   * Records at indices [1, checkedCount) are known not to be checkpoints, so `compact` looks only
   * at records synced since (without it every sync rescans the whole log: quadratic over a run).
   * Always ≤ syncedCount, so a crash (which truncates only above syncedCount) keeps it valid.
   */
  private checkedCount = 0;

  constructor(private readonly isCheckpoint: (record: P) => boolean = () => false) {}

  append(record: P): void {
    this.records.push(record);
  }

  /** Makes every appended record durable, then compacts up to the latest checkpoint. */
  sync(): void {
    this.syncedCount = this.records.length;
    this.compact();
  }

  get writtenCount(): number {
    return this.records.length;
  }

  get syncedRecordCount(): number {
    return this.syncedCount;
  }

  written(): readonly P[] {
    return this.records;
  }

  synced(): readonly P[] {
    return this.records.slice(0, this.syncedCount);
  }

  /**
   * Simulates a crash: keeps the synced records plus the first `keepUnsynced` unsynced ones
   * (default none) and returns the surviving records.
   */
  crash(keepUnsynced = 0): readonly P[] {
    const unsynced = this.records.length - this.syncedCount;
    assert(keepUnsynced >= 0 && keepUnsynced <= unsynced, `keepUnsynced ${keepUnsynced} outside [0, ${unsynced}]`);
    this.records.length = this.syncedCount + keepUnsynced;
    this.syncedCount = this.records.length;
    return this.records.slice();
  }

  private compact(): void {
    const checked = Math.max(1, this.checkedCount);
    for (let index = this.syncedCount - 1; index >= checked; index -= 1) {
      if (this.isCheckpoint(this.records[index]!)) {
        this.records = this.records.slice(index);
        this.syncedCount -= index;
        break;
      }
    }
    this.checkedCount = this.syncedCount;
  }
}
