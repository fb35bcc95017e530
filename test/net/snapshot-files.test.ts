import { mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isConcordError } from '../../src/core/errors.js';
import type { CheckpointBlobs, SnapshotFileRef } from '../../src/net/snapshot-files.js';
import { WriteAheadLog } from '../../src/net/wal.js';

/** A checkpoint record with a state blob (like a Raft snapshot), or a log entry. */
interface Rec {
  readonly kind: 'entry' | 'ckpt';
  readonly n: number;
  readonly state?: Uint8Array;
  readonly file?: SnapshotFileRef;
}

const blobs: CheckpointBlobs<Rec> = {
  detach: (record) => (record.kind === 'ckpt' && record.state !== undefined ? { blob: record.state, stub: (file) => ({ kind: 'ckpt', n: record.n, file }) } : null),
  attach: (record) => (record.file === undefined ? null : { ref: record.file, restore: (state) => ({ kind: 'ckpt', n: record.n, state }) }),
};

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'concord-snap-'));
  dirs.push(dir);
  return dir;
}

const entry = (n: number): Rec => ({ kind: 'entry', n });
/** A state blob of `bytes` bytes, distinct per `n`. */
const state = (n: number, bytes = 200_000): Uint8Array => Uint8Array.from({ length: bytes }, (_, index) => (n * 7 + index) % 253);
const checkpoint = (n: number, bytes?: number): Rec => ({ kind: 'ckpt', n, state: state(n, bytes) });

function openLog(dir: string): Promise<WriteAheadLog<Rec>> {
  return WriteAheadLog.open<Rec>({
    dir: join(dir, 'wal'), isCheckpoint: (record) => record.kind === 'ckpt', segmentSizeBytes: 64 * 1024, snapshots: { dir: join(dir, 'snap'), blobs },
  });
}

const snapFiles = async (dir: string): Promise<string[]> => (await readdir(join(dir, 'snap'))).sort();

async function walBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(join(dir, 'wal'))) if (name.endsWith('.seg')) total += (await stat(join(dir, 'wal', name))).size;
  return total;
}

async function writeCheckpoints(dir: string, ...ns: number[]): Promise<void> {
  const log = await openLog(dir);
  for (const n of ns) {
    log.append([checkpoint(n), entry(n + 1)]);
    await log.sync();
  }
  await log.close();
}

async function openError(dir: string): Promise<unknown> {
  try {
    await (await openLog(dir)).close();
  } catch (error) {
    return error;
  }
  throw new Error('expected the WAL to refuse to open');
}

describe('WriteAheadLog with snapshot files', () => {
  it('keeps a checkpoint blob in its own file, not in the log, and gives it back whole at recovery', async () => {
    const dir = await tempDir();
    await writeCheckpoints(dir, 10);
    const files = await snapFiles(dir);
    expect(files).toHaveLength(1);
    expect((await stat(join(dir, 'snap', files[0]!))).size).toBe(200_000);
    // Two 64 KiB preallocated segments at most: the 200 kB blob is not in them.
    expect(await walBytes(dir)).toBeLessThanOrEqual(2 * 64 * 1024);
    const log = await openLog(dir);
    const [first, second] = log.recovered();
    expect(first!.kind).toBe('ckpt');
    expect(first!.file).toBeUndefined();
    expect(Buffer.from(first!.state!).equals(Buffer.from(state(10)))).toBe(true);
    expect(second).toEqual(entry(11));
    expect(log.recoveryReport.deletedSnapshotFiles).toEqual([]);
    await log.close();
  });

  it('deletes a snapshot file once a later checkpoint is durable, and all of them after a checkpoint without a blob', async () => {
    const dir = await tempDir();
    await writeCheckpoints(dir, 10, 20, 30);
    const files = await snapFiles(dir);
    expect(files).toHaveLength(1);
    let log = await openLog(dir);
    expect(log.recovered()[0]!.n).toBe(30);
    expect(Buffer.from(log.recovered()[0]!.state!).equals(Buffer.from(state(30)))).toBe(true);
    log.append([{ kind: 'ckpt', n: 40 }]);
    await log.sync();
    await log.close();
    expect(await snapFiles(dir)).toEqual([]);
    log = await openLog(dir);
    expect(log.recovered()).toEqual([{ kind: 'ckpt', n: 40 }]);
    await log.close();
  });

  it('a checkpoint superseded in the same batch never writes its file', async () => {
    const dir = await tempDir();
    const log = await openLog(dir);
    log.append([checkpoint(1), entry(2), checkpoint(3)]);
    await log.sync();
    await log.close();
    expect(await snapFiles(dir)).toHaveLength(1);
    const reopened = await openLog(dir);
    expect(reopened.recovered().map((record) => record.n)).toEqual([3]);
    await reopened.close();
  });

  it('a snapshot file whose record never became durable (a crash between the two) is deleted at open', async () => {
    const dir = await tempDir();
    await writeCheckpoints(dir, 10);
    const [kept] = await snapFiles(dir);
    // What a crash after the file's rename but before its checkpoint record reached the log leaves.
    const orphan = 'snap-0000000000000099.snap';
    await writeFile(join(dir, 'snap', orphan), Buffer.from(state(99, 1000)));
    await writeFile(join(dir, 'snap', `.${orphan}.abcdef.tmp`), Buffer.from('half-written'));
    const log = await openLog(dir);
    expect(log.recoveryReport.deletedSnapshotFiles).toEqual([orphan]);
    expect(log.recovered()[0]!.n).toBe(10);
    expect(await snapFiles(dir)).toEqual([kept]);
    // New snapshot files are numbered past every name seen, so an orphan's name is never reused.
    log.append([checkpoint(20)]);
    await log.sync();
    await log.close();
    expect(await snapFiles(dir)).toEqual(['snap-0000000000000100.snap']);
  });

  it('refuses to open with CORRUPT_RECORD when the named snapshot file is damaged or missing', async () => {
    const dir = await tempDir();
    await writeCheckpoints(dir, 10);
    const [name] = await snapFiles(dir);
    const path = join(dir, 'snap', name!);
    const bytes = await readFile(path);
    bytes[1234]! ^= 0x10;
    await writeFile(path, bytes);
    const damaged = await openError(dir);
    expect(isConcordError(damaged, ErrorCode.CorruptRecord)).toBe(true);
    expect((damaged as Error).message).toContain(path);
    expect((damaged as Error).message).toContain('checksum mismatch');
    await writeFile(path, bytes.subarray(0, 1000));
    expect(((await openError(dir)) as Error).message).toContain('1000 bytes instead of 200000');
    await unlink(path);
    const missing = await openError(dir);
    expect(isConcordError(missing, ErrorCode.CorruptRecord)).toBe(true);
    expect((missing as Error).message).toContain('the file is missing');
  });

  it('a crash (power cut) before the checkpoint is synced keeps the previous checkpoint and its file', async () => {
    const dir = await tempDir();
    await writeCheckpoints(dir, 10);
    const before = await snapFiles(dir);
    const log = await openLog(dir);
    log.append([checkpoint(20)]);
    await log.abandon();
    const reopened = await openLog(dir);
    expect(reopened.recovered().map((record) => record.n)).toEqual([10, 11]);
    expect(Buffer.from(reopened.recovered()[0]!.state!).equals(Buffer.from(state(10)))).toBe(true);
    expect(await snapFiles(dir)).toEqual(before);
    await reopened.close();
  });

  it('opens a log written before snapshot files existed (the snapshot inline in its checkpoint)', async () => {
    const dir = await tempDir();
    const old = await WriteAheadLog.open<Rec>({ dir: join(dir, 'wal'), isCheckpoint: (record) => record.kind === 'ckpt', segmentSizeBytes: 64 * 1024 });
    old.append([checkpoint(5, 1000), entry(6)]);
    await old.sync();
    await old.close();
    const log = await openLog(dir);
    expect(Buffer.from(log.recovered()[0]!.state!).equals(Buffer.from(state(5, 1000)))).toBe(true);
    expect(log.recovered()[1]).toEqual(entry(6));
    await log.close();
  });
});
