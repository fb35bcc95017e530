import { ConcordError, ErrorCode } from '../core/errors.js';
import type { DurableLog } from '../core/host.js';
import { MemoryDurableLog } from '../core/storage.js';

/**
 * An in-memory "disk" holding one node's `MemoryDurableLog` across restarts, and the async
 * `DurableLog` view of it — the reference implementation the file WAL is checked against in the
 * durable-log compliance suite. Self-contained (depends only on src/core).
 *
 * `open()` returns a handle whose `recovered()` is what the disk holds; `crash(keepUnsynced)`
 * cuts the power: every synced record survives and at most the first `keepUnsynced` unsynced ones.
 */
export class MemoryDisk<P> {
  private readonly log: MemoryDurableLog<P>;
  private current: MemoryDurableLogHandle<P> | null = null;

  constructor(isCheckpoint: (record: P) => boolean = () => false) {
    this.log = new MemoryDurableLog<P>(isCheckpoint);
  }

  /** Opens the log (closing any previous handle as if its process had died). */
  open(): MemoryDurableLogHandle<P> {
    this.current?.detach();
    this.current = new MemoryDurableLogHandle(this.log, this.log.written().slice());
    return this.current;
  }

  /** Power cut: detaches the open handle and drops unsynced records beyond `keepUnsynced`. */
  crash(keepUnsynced = 0): readonly P[] {
    this.current?.detach();
    this.current = null;
    return this.log.crash(keepUnsynced);
  }

  /** The underlying log, for assertions. */
  get view(): MemoryDurableLog<P> {
    return this.log;
  }
}

export class MemoryDurableLogHandle<P> implements DurableLog<P> {
  private detached = false;

  constructor(
    private readonly log: MemoryDurableLog<P>,
    private readonly recoveredRecords: readonly P[],
  ) {}

  append(records: readonly P[]): void {
    if (this.detached) throw new ConcordError(ErrorCode.Stopped, 'durable log is closed');
    // Copies, like a real disk: later mutation of a record object must not change the log.
    for (const record of records) this.log.append(structuredClone(record));
  }

  /** Resolves on a later macrotask (as an fsync would), covering every record appended before the call. */
  sync(): Promise<void> {
    if (this.detached) return Promise.reject(new ConcordError(ErrorCode.Stopped, 'durable log is closed'));
    return new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        if (this.detached) {
          reject(new ConcordError(ErrorCode.Stopped, 'durable log is closed'));
          return;
        }
        // Syncing everything written so far covers the records appended before the call (and maybe more, which is allowed).
        this.log.sync();
        resolve();
      });
    });
  }

  recovered(): readonly P[] {
    return this.recoveredRecords;
  }

  /** Graceful close: syncs what is pending, like the file WAL. */
  async close(): Promise<void> {
    if (this.detached) return;
    this.log.sync();
    this.detached = true;
  }

  /** @internal the disk calls this when the handle's process "dies" */
  detach(): void {
    this.detached = true;
  }
}
