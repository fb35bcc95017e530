import { fdatasyncSync, writeSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { assert, ConcordError, ErrorCode, isConcordError } from '../core/errors.js';
import type { DurableLog } from '../core/host.js';
import { fsyncDirectory } from './atomic-file.js';
import { decodeValue, encodeValue } from './msgpack.js';
import {
  checkRecordAt, decodeSegmentHeader, encodeRecord, encodeSegmentHeader, endOfNonZero, parseSegmentFileName,
  recordHeaderBytes, scanSegment, segmentFileName, segmentHeaderBytes, type SegmentTail,
} from './wal-format.js';
import { crc32c } from './crc32c.js';
import { SnapshotFiles, type CheckpointBlobs, type SnapshotFileRef } from './snapshot-files.js';

export interface WriteAheadLogOptions<P> {
  /** The log's own directory (created if missing). */
  readonly dir: string;
  /** Marks checkpoint records: once one is synced, every earlier record is garbage (see core/storage.ts). */
  readonly isCheckpoint?: (record: P) => boolean;
  /** Refuses recovered records that are not of the protocol's record type (reason, or null = ok). */
  readonly validateRecord?: (value: unknown) => string | null;
  /**
   * Segment size; segments are preallocated to it and rotated when the next batch would not fit.
   * Default 16 MiB (etcd uses 64 MiB; smaller keeps the zero-filling at first start cheap).
   */
  readonly segmentSizeBytes?: number;
  /** Fill new segments with zeros ahead of use, so an fdatasync need not also commit a size change. Default true. */
  readonly preallocate?: boolean;
  /** Largest encoded record. Default 64 MiB. */
  readonly maxRecordBytes?: number;
  /** Appended-but-unsynced bytes that trigger a background sync (keeps the buffer bounded). Default 8 MiB. */
  readonly maxBufferedBytes?: number;
  /**
   * Operator override: also cut a damaged final record that does not look torn (see `scanSegment`).
   * Never cuts damage that is followed by valid records. Default false (refuse to open).
   */
  readonly repairCorruptTail?: boolean;
  /**
   * Keep checkpoint blobs (state-machine snapshots) in their own files in `dir` instead of inside
   * the log: each is written atomically before the (small) checkpoint record that names it, read
   * back and checked at recovery, and deleted once a later checkpoint is durable.
   */
  readonly snapshots?: { readonly dir: string; readonly blobs: CheckpointBlobs<P> };
  /**
   * Where a group commit's write and fdatasync run. `threadpool`: on libuv's thread pool, so the
   * event loop keeps serving while the disk works. `inline`: as synchronous calls on the event
   * loop, right after the turn's socket writes — no hand-off to a pool thread and back (two
   * thread wake-ups per batch saved, which counts on a CPU-bound host), at the price of a process
   * that stands still for each fdatasync: for devices that sync in well under a millisecond.
   * `auto` (default): inline while the median of each window of inline syncs stays within
   * `slowSyncMs`; after a slow window the thread pool, trying inline again after a cool-off that
   * doubles with every slow window (10 s up to 10 min; logged). Segment creation, snapshot files
   * and deletions stay asynchronous in every mode.
   */
  readonly io?: WalIo;
  /** `auto` leaves inline io once the median inline write + fdatasync takes longer. Default 2 ms. */
  readonly slowSyncMs?: number;
  readonly logger?: Logger;
}

export type WalIo = 'threadpool' | 'inline' | 'auto';
export const walIoModes: readonly WalIo[] = ['auto', 'threadpool', 'inline'];

/** What recovery found and did at open. */
export interface WalRecoveryReport {
  readonly segments: readonly string[];
  readonly records: number;
  /** The final write was cut: where, how many bytes were zeroed, and why it counted as torn. */
  readonly tornTail: { readonly file: string; readonly offset: number; readonly bytes: number; readonly reason: string } | null;
  /** Segments older than the latest checkpoint, deleted at open (a compaction interrupted by a crash). */
  readonly deletedSegments: readonly string[];
  readonly removedTempFiles: readonly string[];
  /** Snapshot files no durable checkpoint names (a crash between the file and its record), deleted at open. */
  readonly deletedSnapshotFiles: readonly string[];
}

export interface WalStats {
  appendedRecords: number;
  /** Records discarded before reaching disk because a later checkpoint in the same batch superseded them. */
  supersededRecords: number;
  writtenRecords: number;
  syncCalls: number;
  /** Group commits: one write plus one fdatasync each. */
  batches: number;
  /** Of those, the ones written and synced inline on the event loop (see `io`). */
  inlineBatches: number;
  fsyncs: number;
  bytesWritten: number;
  segmentsCreated: number;
  segmentsDeleted: number;
}

interface Segment {
  readonly number: number;
  readonly name: string;
  readonly firstSeq: number;
  recordCount: number;
}

interface ActiveSegment extends Segment {
  readonly handle: FileHandle;
  writeOffset: number;
}

/** A checkpoint's blob waiting to be written to its snapshot file before the checkpoint's batch. */
interface PendingBlob {
  readonly ref: SnapshotFileRef;
  readonly bytes: Uint8Array;
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

const spareName = 'wal-spare.tmp';
const defaults = { segmentSizeBytes: 16 * 1024 * 1024, maxRecordBytes: 64 * 1024 * 1024, maxBufferedBytes: 8 * 1024 * 1024, slowSyncMs: 2 };
const inlineSyncWindowSize = 31;
const inlineCoolOff = { firstMs: 10_000, maxMs: 600_000 };

/**
 * A segmented, checksummed write-ahead log on files with group commit (format and recovery rule:
 * `wal-format.ts`; semantics: `core/storage.ts`).
 *
 * - `append` only encodes into memory. `sync()` writes everything pending with one write and one
 *   fdatasync; callers arriving while a sync is in flight share the next one — N concurrent
 *   proposals cost about two fsyncs, not N.
 * - A checkpoint record always starts a new segment; after the sync that made it durable, older
 *   segments are deleted. Unsynced records before a checkpoint in the same batch are dropped
 *   unwritten: losing them together with the checkpoint is a crash outcome the semantics allow.
 * - A failed write or fsync poisons the log (every later call throws INTERNAL): after an fsync
 *   error the page cache can no longer be trusted, so the node must restart and recover.
 * - `close()` syncs what is pending, then closes. `abandon()` simulates a power cut.
 */
export class WriteAheadLog<P> implements DurableLog<P> {
  private readonly logger: Logger;
  private readonly isCheckpoint: (record: P) => boolean;
  private readonly segmentSizeBytes: number;
  private readonly preallocate: boolean;
  private readonly maxRecordBytes: number;
  private readonly maxBufferedBytes: number;
  private recoveredRecords: readonly P[] = [];
  private report: WalRecoveryReport | null = null;
  private segments: Segment[] = [];
  private active: ActiveSegment | null = null;
  private nextSeq = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingStartsWithCheckpoint = false;
  private pendingBlob: PendingBlob | null = null;
  /** Present when snapshot files are on (opened at recovery). */
  private snapshots: { readonly files: SnapshotFiles; readonly blobs: CheckpointBlobs<P> } | null = null;
  private inFlight: Promise<void> | null = null;
  private nextFlush: Deferred | null = null;
  private spare: Promise<FileHandle | null> | null = null;
  private failure: Error | null = null;
  private closed = false;
  private readonly io: WalIo;
  private inlineIo: boolean;
  /** `auto`: durations (ms) of the latest inline batches, judged once the window is full. */
  private readonly inlineSyncWindow: number[] = [];
  /** `auto`, after a slow window: when to try inline again, and the cool-off after the next slow one. */
  private inlineRetryAtMs = 0;
  private inlineCoolOffMs = inlineCoolOff.firstMs;
  private readonly counters: WalStats = {
    appendedRecords: 0, supersededRecords: 0, writtenRecords: 0, syncCalls: 0, batches: 0, inlineBatches: 0, fsyncs: 0, bytesWritten: 0, segmentsCreated: 0, segmentsDeleted: 0,
  };

  private constructor(private readonly options: WriteAheadLogOptions<P>) {
    this.logger = (options.logger ?? pino({ level: 'silent' })).child({ component: 'wal', dir: options.dir });
    this.isCheckpoint = options.isCheckpoint ?? (() => false);
    this.segmentSizeBytes = options.segmentSizeBytes ?? defaults.segmentSizeBytes;
    this.preallocate = options.preallocate ?? true;
    this.maxRecordBytes = options.maxRecordBytes ?? defaults.maxRecordBytes;
    this.maxBufferedBytes = options.maxBufferedBytes ?? defaults.maxBufferedBytes;
    this.io = options.io ?? 'auto';
    this.inlineIo = this.io !== 'threadpool';
    if (!(this.segmentSizeBytes >= 4096)) throw new ConcordError(ErrorCode.InvalidConfig, 'segmentSizeBytes must be at least 4096');
    if (!(this.maxRecordBytes >= 1 && this.maxRecordBytes <= 0xffffffff)) throw new ConcordError(ErrorCode.InvalidConfig, 'maxRecordBytes must be in [1, 2^32)');
  }

  /**
   * Opens (creating if needed) the log in `options.dir` and recovers it. Throws
   * `ConcordError(CORRUPT_RECORD)` with `details.file` and `details.offset` when the log is damaged
   * in a way a torn final write does not explain.
   */
  static async open<P>(options: WriteAheadLogOptions<P>): Promise<WriteAheadLog<P>> {
    const log = new WriteAheadLog<P>(options);
    await log.recover();
    return log;
  }

  recovered(): readonly P[] {
    return this.recoveredRecords;
  }

  get recoveryReport(): WalRecoveryReport {
    assert(this.report !== null, 'recovery has not run');
    return this.report;
  }

  /** Whether the next group commit runs inline on the event loop (see `io`). */
  get inlineIoActive(): boolean {
    return this.inlineIo;
  }

  stats(): Readonly<WalStats> {
    return { ...this.counters };
  }

  /** Segment files currently in use, oldest first. */
  segmentFiles(): string[] {
    return this.segments.map((segment) => segment.name);
  }

  append(records: readonly P[]): void {
    this.checkUsable();
    const frames: { frame: Buffer; checkpoint: boolean; blob: PendingBlob | null }[] = [];
    for (const record of records) {
      const checkpoint = this.isCheckpoint(record);
      const { logged, blob } = checkpoint ? this.detachBlob(record) : { logged: record, blob: null };
      const payload = encodeValue(logged);
      if (payload.length > this.maxRecordBytes) {
        throw new ConcordError(ErrorCode.ValueTooLarge, `record of ${payload.length} bytes exceeds maxRecordBytes ${this.maxRecordBytes}`);
      }
      frames.push({ frame: encodeRecord(payload), checkpoint, blob });
    }
    for (const { frame, checkpoint, blob } of frames) {
      if (checkpoint) {
        this.counters.supersededRecords += this.pending.length;
        this.pending = [];
        this.pendingBytes = 0;
        this.pendingStartsWithCheckpoint = true;
        this.pendingBlob = blob;
      }
      this.pending.push(frame);
      this.pendingBytes += frame.length;
    }
    this.counters.appendedRecords += records.length;
    if (this.pendingBytes >= this.maxBufferedBytes) {
      // Bounded buffer: start a sync now; its failure poisons the log and surfaces on the next call.
      this.sync().catch(() => undefined);
    }
  }

  /** The record to log for a checkpoint, and its blob when snapshot files are on. */
  private detachBlob(record: P): { logged: P; blob: PendingBlob | null } {
    const detached = this.snapshots?.blobs.detach(record) ?? null;
    if (detached === null) return { logged: record, blob: null };
    const ref = this.snapshots!.files.reference(detached.blob);
    return { logged: detached.stub(ref), blob: { ref, bytes: detached.blob } };
  }

  sync(): Promise<void> {
    this.counters.syncCalls += 1;
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new ConcordError(ErrorCode.Stopped, 'write-ahead log is closed'));
    if (this.pending.length === 0) return this.inFlight ?? Promise.resolve();
    if (this.nextFlush === null) this.nextFlush = deferred();
    const promise = this.nextFlush.promise;
    if (this.inFlight === null) void this.flushLoop();
    return promise;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.failure === null && this.pending.length > 0) await this.sync().catch(() => undefined);
    this.closed = true;
    await this.release();
  }

  /**
   * Simulates a power cut for tests and fault injection: records not yet synced are dropped (never
   * written), pending `sync()` callers get STOPPED, and files are closed without a final sync.
   * A write already handed to the kernel is allowed to finish, like a disk that flushed it.
   */
  async abandon(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingBlob = null;
    this.nextFlush?.reject(new ConcordError(ErrorCode.Stopped, 'write-ahead log abandoned'));
    this.nextFlush = null;
    await this.release();
  }

  // ----- group commit -----

  private async flushLoop(): Promise<void> {
    while (this.nextFlush !== null && !this.closed && this.failure === null) {
      const waiter = this.nextFlush;
      this.nextFlush = null;
      const frames = this.pending;
      const startsWithCheckpoint = this.pendingStartsWithCheckpoint;
      const blob = this.pendingBlob;
      this.pending = [];
      this.pendingBytes = 0;
      this.pendingStartsWithCheckpoint = false;
      this.pendingBlob = null;
      this.inFlight = waiter.promise;
      try {
        await this.writeBatch(frames, startsWithCheckpoint, blob);
        waiter.resolve();
      } catch (error) {
        this.poison(error);
        waiter.reject(this.failure);
      }
      // Yield one macrotask before taking the next batch: callers just released by this batch
      // typically append and sync again right away, and should ride the next fsync together
      // with everyone who queued during this one (else closed-loop writers split into two
      // alternating halves, each waiting two fsyncs).
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (this.failure !== null && this.nextFlush !== null) {
      this.nextFlush.reject(this.failure);
      this.nextFlush = null;
    }
    this.inFlight = null;
  }

  private async writeBatch(frames: Buffer[], startsWithCheckpoint: boolean, blob: PendingBlob | null): Promise<void> {
    if (frames.length === 0) return;
    // The snapshot file is durable before the record naming it can be: recovery never finds a
    // durable checkpoint without its blob.
    if (blob !== null) await this.snapshots!.files.write(blob.ref, blob.bytes);
    const bytes = frames.length === 1 ? frames[0]! : Buffer.concat(frames);
    let active = this.active!;
    const full = active.recordCount > 0 && active.writeOffset + bytes.length > this.segmentSizeBytes;
    // A checkpoint must be the first record of its segment (recovery finds the latest one by reading
    // segment heads); an empty active segment already satisfies that.
    if ((startsWithCheckpoint && active.recordCount > 0) || full) active = await this.rotate();
    if (!this.inlineIo && this.inlineRetryAtMs > 0 && performance.now() >= this.inlineRetryAtMs) {
      this.inlineIo = true;
      this.inlineRetryAtMs = 0;
    }
    if (this.inlineIo) {
      // One microtask first: the socket writes this turn queued (as microtasks) leave before the
      // process stands still for the sync, so peers work on them meanwhile.
      await null;
      const startedMs = performance.now();
      writeFullySync(active.handle.fd, bytes, active.writeOffset);
      fdatasyncSync(active.handle.fd);
      this.counters.inlineBatches += 1;
      this.judgeInlineSync(performance.now() - startedMs);
    } else {
      await writeFully(active.handle, bytes, active.writeOffset);
      await active.handle.datasync();
    }
    active.writeOffset += bytes.length;
    active.recordCount += frames.length;
    this.nextSeq += frames.length;
    this.counters.batches += 1;
    this.counters.fsyncs += 1;
    this.counters.bytesWritten += bytes.length;
    this.counters.writtenRecords += frames.length;
    if (startsWithCheckpoint) {
      await this.deleteSegmentsBefore(active.number);
      await this.snapshots?.files.removeAllBut(blob?.ref.file ?? null);
    }
  }

  /**
   * `auto`: a slow disk would stop the whole process for every sync, so leave inline io once the
   * median of a window of inline batches is slow. The median, not the mean: on a CPU-bound host a
   * process is sometimes descheduled in the middle of a fast sync, and single spikes say nothing
   * about the disk. Disks also have slow spells, hence the retry after a growing cool-off.
   */
  private judgeInlineSync(durationMs: number): void {
    if (this.io !== 'auto') return;
    this.inlineSyncWindow.push(durationMs);
    if (this.inlineSyncWindow.length < inlineSyncWindowSize) return;
    const medianMs = [...this.inlineSyncWindow].sort((a, b) => a - b)[inlineSyncWindowSize >> 1]!;
    this.inlineSyncWindow.length = 0;
    const slowMs = this.options.slowSyncMs ?? defaults.slowSyncMs;
    if (medianMs <= slowMs) {
      this.inlineCoolOffMs = inlineCoolOff.firstMs;
      return;
    }
    this.inlineIo = false;
    this.inlineRetryAtMs = performance.now() + this.inlineCoolOffMs;
    this.logger.warn(
      { medianMs: Number(medianMs.toFixed(3)), slowSyncMs: slowMs, retryInlineAfterMs: this.inlineCoolOffMs },
      'fdatasync is slow on this disk: WAL writes move from the event loop to the thread pool for a while',
    );
    this.inlineCoolOffMs = Math.min(inlineCoolOff.maxMs, this.inlineCoolOffMs * 2);
  }

  private poison(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.failure = isConcordError(error) ? error : new ConcordError(ErrorCode.Internal, `write-ahead log failed: ${message}`, { cause: message });
    this.logger.error({ err: message }, 'write-ahead log failed; it refuses further writes until the node restarts');
  }

  private checkUsable(): void {
    if (this.failure !== null) throw this.failure;
    if (this.closed) throw new ConcordError(ErrorCode.Stopped, 'write-ahead log is closed');
  }

  private async release(): Promise<void> {
    await this.inFlight?.catch(() => undefined);
    const spare = await this.spare?.catch(() => null);
    await spare?.close().catch(() => undefined);
    this.spare = null;
    await this.active?.handle.close().catch(() => undefined);
    this.active = null;
  }

  // ----- segments -----

  /** Seals the active segment and starts the next one, whose first record will be `nextSeq`. */
  private async rotate(): Promise<ActiveSegment> {
    const previous = this.active!;
    const number = previous.number + 1;
    const next = await this.createSegment(number, this.nextSeq);
    await previous.handle.close();
    return next;
  }

  /**
   * Creates segment `number` atomically: the header goes into a (preallocated) temp file which is
   * synced, renamed into place, and the directory synced — a segment file on disk always has a
   * complete header.
   */
  private async createSegment(number: number, firstSeq: number): Promise<ActiveSegment> {
    const handle = (await this.takeSpare()) ?? (await this.prepareSpareFile());
    await writeFully(handle, encodeSegmentHeader({ segmentNumber: number, firstSeq }), 0);
    await handle.datasync();
    const name = segmentFileName(number);
    await rename(join(this.options.dir, spareName), join(this.options.dir, name));
    await fsyncDirectory(this.options.dir);
    this.counters.fsyncs += 2;
    this.counters.segmentsCreated += 1;
    const segment: ActiveSegment = { number, name, firstSeq, recordCount: 0, handle, writeOffset: segmentHeaderBytes };
    this.segments.push(segment);
    this.active = segment;
    this.spare = this.prepareSpareFile().catch((error: unknown) => {
      this.logger.warn({ err: String(error) }, 'could not prepare the next WAL segment in advance');
      return null;
    });
    return segment;
  }

  private async takeSpare(): Promise<FileHandle | null> {
    const spare = this.spare;
    this.spare = null;
    return spare === null ? null : await spare;
  }

  /** A zero-filled file of segmentSizeBytes (or an empty one without preallocation), synced. */
  private async prepareSpareFile(): Promise<FileHandle> {
    const handle = await open(join(this.options.dir, spareName), 'w+', 0o600);
    try {
      if (this.preallocate) {
        const zeros = Buffer.alloc(Math.min(this.segmentSizeBytes, 1024 * 1024));
        for (let offset = 0; offset < this.segmentSizeBytes; offset += zeros.length) {
          const length = Math.min(zeros.length, this.segmentSizeBytes - offset);
          await writeFully(handle, zeros.subarray(0, length), offset);
        }
      }
      await handle.datasync();
      return handle;
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  private async deleteSegmentsBefore(number: number): Promise<void> {
    const doomed = this.segments.filter((segment) => segment.number < number);
    if (doomed.length === 0) return;
    for (const segment of doomed) await unlink(join(this.options.dir, segment.name));
    await fsyncDirectory(this.options.dir);
    this.segments = this.segments.filter((segment) => segment.number >= number);
    this.counters.segmentsDeleted += doomed.length;
    this.logger.debug({ deleted: doomed.map((segment) => segment.name) }, 'compacted WAL segments before a checkpoint');
  }

  // ----- recovery -----

  private async recover(): Promise<void> {
    const dir = this.options.dir;
    await mkdir(dir, { recursive: true });
    const names = await readdir(dir);
    const removedTempFiles = names.filter((name) => name.endsWith('.tmp'));
    for (const name of removedTempFiles) await unlink(join(dir, name));
    const snapshots = this.options.snapshots;
    if (snapshots !== undefined) this.snapshots = { files: await SnapshotFiles.open(snapshots.dir), blobs: snapshots.blobs };
    const numbers = names.map(parseSegmentFileName).filter((number): number is number => number !== null).sort((a, b) => a - b);
    if (numbers.length === 0) {
      await this.createSegment(1, 0);
      const deletedSnapshotFiles = (await this.snapshots?.files.removeAllBut(null)) ?? [];
      this.report = { segments: [segmentFileName(1)], records: 0, tornTail: null, deletedSegments: [], removedTempFiles, deletedSnapshotFiles };
      return;
    }
    const start = await this.latestCheckpointSegment(numbers);
    const deletedSegments = numbers.slice(0, start).map(segmentFileName);
    for (const name of deletedSegments) await unlink(join(dir, name));
    if (deletedSegments.length > 0 || removedTempFiles.length > 0) await fsyncDirectory(dir);
    const { records, tornTail } = await this.readSegments(numbers.slice(start));
    const compacted = compactToLatestCheckpoint(records, this.isCheckpoint);
    const deletedSnapshotFiles = await this.attachBlob(compacted);
    this.recoveredRecords = compacted;
    this.report = {
      segments: this.segments.map((segment) => segment.name), records: this.recoveredRecords.length, tornTail, deletedSegments, removedTempFiles, deletedSnapshotFiles,
    };
    this.logger.info({ ...this.report, segments: this.report.segments.length }, 'write-ahead log recovered');
    this.spare = this.prepareSpareFile().catch(() => null);
  }

  /**
   * Puts the blob back into the recovered checkpoint (records[0], if it is one) from its snapshot
   * file, then deletes the snapshot files it does not name. Returns the names deleted.
   */
  private async attachBlob(records: P[]): Promise<string[]> {
    if (this.snapshots === null) return [];
    const { files, blobs } = this.snapshots;
    const first = records[0];
    const stub = first !== undefined && this.isCheckpoint(first) ? blobs.attach(first) : null;
    if (stub !== null) records[0] = stub.restore(await files.read(stub.ref));
    return await files.removeAllBut(stub?.ref.file ?? null);
  }

  /**
   * Index (into `numbers`) of the newest segment whose first record is a valid checkpoint; 0 when
   * none. Checkpoints always start a segment, so everything before that segment is garbage.
   */
  private async latestCheckpointSegment(numbers: number[]): Promise<number> {
    for (let index = numbers.length - 1; index > 0; index -= 1) {
      const first = await this.readFirstRecord(segmentFileName(numbers[index]!));
      if (first !== null && this.isCheckpoint(first)) return index;
    }
    return 0;
  }

  private async readFirstRecord(name: string): Promise<P | null> {
    const handle = await open(join(this.options.dir, name), 'r');
    try {
      const head = Buffer.alloc(segmentHeaderBytes + recordHeaderBytes);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      if (bytesRead < head.length || typeof decodeSegmentHeader(head) === 'string') return null;
      const length = head.readUInt32LE(segmentHeaderBytes);
      const headerIntact = head.readUInt32LE(segmentHeaderBytes + 8) === crc32c(head, segmentHeaderBytes, segmentHeaderBytes + 8);
      if (!headerIntact || length === 0 || length > this.maxRecordBytes) return null;
      const record = Buffer.alloc(recordHeaderBytes + length);
      const read = await handle.read(record, 0, record.length, segmentHeaderBytes);
      if (read.bytesRead < record.length || !checkRecordAt(record, 0, this.maxRecordBytes).ok) return null;
      return this.decodeRecord(record.subarray(recordHeaderBytes), name, segmentHeaderBytes);
    } catch (error) {
      if (isConcordError(error, ErrorCode.CorruptRecord)) return null;
      throw error;
    } finally {
      await handle.close();
    }
  }

  /**
   * Reads segments oldest first. A sealed (non-last) segment is checked by continuity: the next
   * segment's header says which record sequence number comes next, so any record missing from
   * the sealed one — however its bytes were damaged — is a gap and the log is refused; junk after
   * its records that hides no record is ignored. The last segment has no successor, so its end
   * is judged by the torn-write rule in `scanSegment`.
   */
  private async readSegments(numbers: number[]): Promise<{ records: P[]; tornTail: WalRecoveryReport['tornTail'] }> {
    const records: P[] = [];
    let tornTail: WalRecoveryReport['tornTail'] = null;
    let previous: { segment: Segment; validEnd: number; tail: SegmentTail } | null = null;
    for (const [index, number] of numbers.entries()) {
      const name = segmentFileName(number);
      const bytes = await readFile(join(this.options.dir, name));
      const header = decodeSegmentHeader(bytes);
      if (typeof header === 'string') throw this.corrupt(name, 0, header);
      if (header.segmentNumber !== number) throw this.corrupt(name, 0, `header names segment ${header.segmentNumber}`);
      if (previous !== null) this.checkContinuity(previous, number, header.firstSeq);
      const scanned = scanSegment(bytes, this.maxRecordBytes);
      scanned.payloads.forEach((payload, recordIndex) => records.push(this.decodeRecord(payload, name, scanned.offsets[recordIndex]!)));
      const segment: Segment = { number, name, firstSeq: header.firstSeq, recordCount: scanned.payloads.length };
      this.segments.push(segment);
      previous = { segment, validEnd: scanned.validEnd, tail: scanned.tail };
      if (index < numbers.length - 1) continue;
      if (scanned.tail.kind !== 'clean') tornTail = await this.cutTail(bytes, name, scanned.validEnd, scanned.tail);
      await this.resumeSegment(segment, scanned.validEnd);
    }
    return { records, tornTail };
  }

  private checkContinuity(previous: { segment: Segment; validEnd: number; tail: SegmentTail }, number: number, firstSeq: number): void {
    const { segment, validEnd, tail } = previous;
    const damage = tail.kind === 'clean' ? '' : ` (${tail.reason})`;
    if (number !== segment.number + 1) throw this.corrupt(segment.name, validEnd, `segment ${segment.number + 1} is missing${damage}`);
    if (firstSeq !== segment.firstSeq + segment.recordCount) {
      throw this.corrupt(segment.name, validEnd, `${firstSeq - segment.firstSeq - segment.recordCount} record(s) missing before the next segment${damage}`);
    }
    if (tail.kind !== 'clean') this.logger.warn({ file: segment.name, offset: validEnd }, 'ignoring non-zero bytes after the last record of a sealed segment');
  }

  private async cutTail(bytes: Buffer, name: string, offset: number, tail: Exclude<SegmentTail, { kind: 'clean' }>): Promise<NonNullable<WalRecoveryReport['tornTail']>> {
    if (tail.kind === 'corrupt') {
      if (tail.followedByValid) throw this.corrupt(name, offset, tail.reason);
      if (this.options.repairCorruptTail !== true) {
        throw this.corrupt(name, offset, `${tail.reason}; if this final record was never acknowledged, reopen with repairCorruptTail to cut it`);
      }
      this.logger.error({ file: name, offset, reason: tail.reason }, 'repairCorruptTail: cutting a damaged final record on operator request');
    }
    const end = endOfNonZero(bytes, offset);
    const handle = await open(join(this.options.dir, name), 'r+');
    try {
      await writeFully(handle, Buffer.alloc(end - offset), offset);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    this.logger.warn({ file: name, offset, bytes: end - offset, reason: tail.reason }, 'cut a torn final write from the WAL');
    return { file: name, offset, bytes: end - offset, reason: tail.reason };
  }

  private async resumeSegment(segment: Segment, validEnd: number): Promise<void> {
    const handle = await open(join(this.options.dir, segment.name), 'r+');
    this.active = { ...segment, handle, writeOffset: validEnd };
    this.segments[this.segments.length - 1] = this.active;
    this.nextSeq = segment.firstSeq + segment.recordCount;
  }

  /** CORRUPT_RECORD naming the segment file (full path) and the byte offset of the damage. */
  private corrupt(name: string, offset: number, reason: string): ConcordError {
    const file = join(this.options.dir, name);
    return new ConcordError(ErrorCode.CorruptRecord, `corrupt write-ahead log: ${file} at offset ${offset}: ${reason}`, { file, offset, reason });
  }

  private decodeRecord(payload: Buffer, file: string, offset: number): P {
    let value: unknown;
    try {
      value = decodeValue(payload);
    } catch (error) {
      throw this.corrupt(file, offset, `checksum matches but the payload does not decode: ${(error as Error).message}`);
    }
    const problem = this.options.validateRecord?.(value) ?? null;
    if (problem !== null) throw this.corrupt(file, offset, `record refused by validation: ${problem}`);
    return value as P;
  }
}


/** Drops every record before the latest checkpoint (mirrors MemoryDurableLog's compaction). */
function compactToLatestCheckpoint<P>(records: P[], isCheckpoint: (record: P) => boolean): P[] {
  for (let index = records.length - 1; index > 0; index -= 1) if (isCheckpoint(records[index]!)) return records.slice(index);
  return records;
}

/** pwrite until every byte is written (a regular-file write may legally be short). */
async function writeFully(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    assert(bytesWritten > 0, 'the WAL write made no progress');
    done += bytesWritten;
  }
}

function writeFullySync(fd: number, bytes: Buffer, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    const written = writeSync(fd, bytes, done, bytes.length - done, position + done);
    assert(written > 0, 'the WAL write made no progress');
    done += written;
  }
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A rejection nobody awaited (e.g. abandon with no waiting caller) must not crash the process.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
