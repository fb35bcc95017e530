import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WriteAheadLog } from '../../src/net/wal.js';
import { MemoryDisk } from '../../src/sim/memory-durable-log.js';
import { durableLogComplianceSuite, type DurableLogHarness } from './durable-log.suite.js';

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
  name: 'file WAL (4 KiB segments, preallocated)',
  propertyRuns: 25,
  async create<P>(isCheckpoint: (record: P) => boolean): Promise<DurableLogHarness<P>> {
    const dir = await mkdtemp(join(tmpdir(), 'concord-wal-compliance-'));
    return {
      open: () => WriteAheadLog.open<P>({ dir, isCheckpoint, segmentSizeBytes: 4096 }),
      crash: (log) => (log as WriteAheadLog<P>).abandon(),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
});
