import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CheckpointBlobs, SnapshotFileRef } from '../../src/net/snapshot-files.js';
import { WriteAheadLog } from '../../src/net/wal.js';
import { MemoryDisk } from '../../src/sim/memory-durable-log.js';
import { durableLogComplianceSuite, type DurableLogHarness, type Rec } from './durable-log.suite.js';

durableLogComplianceSuite({
  name: 'in-memory reference',
  propertyRuns: 100,
  async create<P>(isCheckpoint: (record: P) => boolean): Promise<DurableLogHarness<P>> {
    const disk = new MemoryDisk<P>(isCheckpoint);
    return {
      open: async () => disk.open(),
      crash: async () => {
        disk.crash(0);
      },
      cleanup: async () => undefined,
    };
  },
});

durableLogComplianceSuite({
  name: 'file WAL (4 KiB segments, preallocated, io on the thread pool)',
  propertyRuns: 25,
  async create<P>(isCheckpoint: (record: P) => boolean): Promise<DurableLogHarness<P>> {
    const dir = await mkdtemp(join(tmpdir(), 'concord-wal-compliance-'));
    return {
      open: () => WriteAheadLog.open<P>({ dir, isCheckpoint, segmentSizeBytes: 4096, io: 'threadpool' }),
      crash: (log) => (log as WriteAheadLog<P>).abandon(),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
});

durableLogComplianceSuite({
  name: 'file WAL, writes and fdatasyncs inline on the event loop',
  propertyRuns: 25,
  async create<P>(isCheckpoint: (record: P) => boolean): Promise<DurableLogHarness<P>> {
    const dir = await mkdtemp(join(tmpdir(), 'concord-wal-compliance-'));
    return {
      open: () => WriteAheadLog.open<P>({ dir, isCheckpoint, segmentSizeBytes: 4096, io: 'inline' }),
      crash: (log) => (log as WriteAheadLog<P>).abandon(),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
});

/** The suite's checkpoints keep their `data` blob in a snapshot file, as Raft checkpoints do. */
const recBlobs: CheckpointBlobs<Rec & { file?: SnapshotFileRef }> = {
  detach: (record) => (record.kind === 'ckpt' && record.data instanceof Uint8Array
    ? { blob: record.data, stub: (file) => ({ kind: record.kind, n: record.n, file }) }
    : null),
  attach: (record) => (record.file === undefined ? null : { ref: record.file, restore: (data) => ({ kind: record.kind, n: record.n, data }) }),
};

durableLogComplianceSuite({
  name: 'file WAL with snapshot files',
  propertyRuns: 25,
  async create<P>(isCheckpoint: (record: P) => boolean): Promise<DurableLogHarness<P>> {
    const dir = await mkdtemp(join(tmpdir(), 'concord-wal-compliance-'));
    const snapshots = { dir: join(dir, 'snap'), blobs: recBlobs as unknown as CheckpointBlobs<P> };
    return {
      open: () => WriteAheadLog.open<P>({ dir: join(dir, 'wal'), isCheckpoint, segmentSizeBytes: 4096, snapshots }),
      crash: (log) => (log as WriteAheadLog<P>).abandon(),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
});
