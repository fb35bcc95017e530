#!/usr/bin/env node
/**
 * WAL micro-benchmark: durable appends per second with group commit, and the raw fdatasync floor.
 *
 *   npm run build && npm run bench:wal -- [--seconds 3] [--dir /tmp] [--value-bytes 128]
 *
 * For each writer count C in 1, 16, 64: C closed-loop writers, each appending one record (a Raft
 * entry with a 16-byte key and a `--value-bytes` value) and awaiting `sync()` before the next — the
 * shape of C concurrent client proposals. Group commit turns them into one write + one fdatasync
 * per batch, its write and fdatasync on the thread pool and inline on the event loop (`io`).
 * Reported: acknowledged records/s, fsyncs/s, records per fsync, latency p50/p99.
 * Then the raw floor, as in shared/bench/etcd/fsync.mjs: 4 KiB write + fdatasync, appending and
 * overwriting preallocated space. Last, the cost of one Raft checkpoint record (a 4 MiB snapshot
 * plus 5 000 retained entries) with the snapshot inside the WAL record and in a snapshot file:
 * main-thread time of `append` (encoding, checksums) and time until `sync()` resolves.
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { raftCheckpointBlobs, raftRecordProblem } from '../kv/raft-wire.js';
import type { KvRaftRecord } from '../kv/service.js';
import { WriteAheadLog, type WalIo } from '../net/wal.js';
import { membershipOfVoters } from '../protocols/raft/membership.js';
import { isRaftCheckpoint } from '../protocols/raft/types.js';
import { median, percentile } from './stats.js';

interface Args {
  seconds: number;
  dir: string;
  valueBytes: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { seconds: 3, dir: tmpdir(), valueBytes: 128 };
  for (let index = 0; index < argv.length; index += 2) {
    const [key, value] = [argv[index], argv[index + 1]];
    if (key === '--seconds') args.seconds = Number(value);
    else if (key === '--dir') args.dir = String(value);
    else if (key === '--value-bytes') args.valueBytes = Number(value);
    else throw new Error(`unknown argument ${key}`);
  }
  if (!(args.seconds > 0 && args.seconds <= 120)) throw new Error('--seconds must be in (0, 120]');
  return args;
}

const round3 = (value: number): number => Math.round(value * 1000) / 1000;

async function groupCommit(args: Args, writers: number, io: WalIo): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(join(args.dir, 'concord-bench-wal-'));
  try {
    const log = await WriteAheadLog.open<{ type: string; term: number; index: number; key: string; value: string }>({ dir, io });
    const value = 'v'.repeat(args.valueBytes);
    const latencies: number[] = [];
    let index = 0;
    const before = log.stats();
    const began = performance.now();
    const deadline = began + args.seconds * 1000;
    await Promise.all(Array.from({ length: writers }, async () => {
      while (performance.now() < deadline) {
        index += 1;
        const start = performance.now();
        log.append([{ type: 'entry', term: 1, index, key: `key-${String(index % 100000).padStart(12, '0')}`, value }]);
        await log.sync();
        latencies.push(performance.now() - start);
      }
    }));
    const elapsedS = (performance.now() - began) / 1000;
    const after = log.stats();
    await log.close();
    const sorted = Float64Array.from(latencies).sort();
    const batches = after.batches - before.batches;
    return {
      mode: 'group-commit', io, writers, records_per_s: Math.round(latencies.length / elapsedS), fsyncs_per_s: Math.round(batches / elapsedS),
      records_per_fsync: round3(latencies.length / Math.max(1, batches)), p50_ms: round3(percentile(sorted, 50)), p99_ms: round3(percentile(sorted, 99)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function rawFsync(args: Args, mode: 'append' | 'prealloc', count: number): Record<string, number | string> {
  const dir = mkdtempSync(join(args.dir, 'concord-bench-fsync-'));
  try {
    const fd = openSync(join(dir, `${mode}.dat`), 'w+');
    const block = Buffer.alloc(4096, 0x61);
    if (mode === 'prealloc') {
      const zeros = Buffer.alloc(1 << 20);
      for (let offset = 0; offset < count * block.length; offset += zeros.length) writeSync(fd, zeros, 0, zeros.length, offset);
      fdatasyncSync(fd);
    }
    const latencies = new Float64Array(count);
    const began = performance.now();
    for (let index = 0; index < count; index += 1) {
      const start = performance.now();
      writeSync(fd, block, 0, block.length, index * block.length);
      fdatasyncSync(fd);
      latencies[index] = performance.now() - start;
    }
    const elapsedS = (performance.now() - began) / 1000;
    closeSync(fd);
    latencies.sort();
    return { mode: `raw-fdatasync-${mode}`, n: count, syncs_per_s: Math.round(count / elapsedS), p50_ms: round3(percentile(latencies, 50)), p99_ms: round3(percentile(latencies, 99)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A Raft checkpoint shaped like a KV node's at 10 000 keys: 4 MiB snapshot, 5 000 entries kept. */
function checkpointRecord(valueBytes: number): KvRaftRecord {
  const data = Uint8Array.from({ length: 4 * 1024 * 1024 }, (_, index) => 32 + ((index * 31) % 95));
  const value = 'v'.repeat(valueBytes);
  const entries = Array.from({ length: 5000 }, (_, index) => ({
    index: index + 1, term: 1, sizeBytes: valueBytes + 48,
    payload: { type: 'command' as const, command: { op: 'put' as const, key: `key-${String(index).padStart(12, '0')}`, value }, session: null },
  }));
  return {
    type: 'checkpoint', snapshot: { index: 5000, term: 1, membership: membershipOfVoters(['n1', 'n2', 'n3']) }, data,
    hardState: { term: 1, vote: 'n1', commit: 5000 }, logStart: { index: 0, term: 0 }, entries,
  };
}

async function checkpointCost(args: Args, snapshotFiles: boolean, rounds: number): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(join(args.dir, 'concord-bench-ckpt-'));
  try {
    const log = await WriteAheadLog.open<KvRaftRecord>({
      dir: join(dir, 'wal'), isCheckpoint: isRaftCheckpoint, validateRecord: raftRecordProblem,
      ...(snapshotFiles ? { snapshots: { dir: join(dir, 'snap'), blobs: raftCheckpointBlobs } } : {}),
    });
    const record = checkpointRecord(args.valueBytes);
    const appendMs: number[] = [];
    const syncMs: number[] = [];
    for (let round = 0; round <= rounds; round += 1) {
      const start = performance.now();
      log.append([record]);
      const appended = performance.now();
      await log.sync();
      // Round 0 warms the JIT up and is not counted.
      if (round > 0) {
        appendMs.push(appended - start);
        syncMs.push(performance.now() - appended);
      }
    }
    await log.close();
    return { mode: snapshotFiles ? 'checkpoint-snapshot-file' : 'checkpoint-inline', rounds, append_main_thread_ms_p50: round3(median(appendMs)), sync_ms_p50: round3(median(syncMs)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const results: Record<string, number | string>[] = [];
  for (const mode of ['append', 'prealloc'] as const) results.push(rawFsync(args, mode, 1000));
  for (const writers of [1, 16, 64]) {
    for (const io of ['threadpool', 'inline'] as const) results.push(await groupCommit(args, writers, io));
  }
  for (const snapshotFiles of [false, true, false, true]) results.push(await checkpointCost(args, snapshotFiles, 8));
  for (const result of results) console.log(JSON.stringify({ dir: args.dir, value_bytes: args.valueBytes, ...result }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
