import { cp, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, isConcordError, type ConcordError } from '../../src/core/errors.js';
import { readFileIfExists, writeFileAtomic } from '../../src/net/atomic-file.js';
import { appendTornRecord, flipBitInRecord, tearFinalRecord, walRecordLocations } from '../../src/net/wal-faults.js';
import { scanSegment, segmentHeaderBytes } from '../../src/net/wal-format.js';
import { WriteAheadLog, type WriteAheadLogOptions } from '../../src/net/wal.js';

interface Rec {
  readonly kind: 'entry' | 'ckpt';
  readonly n: number;
  readonly text: string;
}

const isCheckpoint = (record: Rec): boolean => record.kind === 'ckpt';
const dirs: string[] = [];

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'concord-wal-'));
  dirs.push(dir);
  return dir;
}

function rec(n: number, textBytes = 40): Rec {
  // Non-zero text so that no record contains a long zero run (that would look like an unwritten sector).
  return { kind: 'entry', n, text: `r${n}:`.padEnd(textBytes, String.fromCharCode(97 + (n % 26))) };
}

function openLog(dir: string, extra: Partial<WriteAheadLogOptions<Rec>> = {}): Promise<WriteAheadLog<Rec>> {
  return WriteAheadLog.open<Rec>({ dir, isCheckpoint, segmentSizeBytes: 4096, ...extra });
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.seg')).sort();
}

/** Writes `count` records (synced in batches of 5) and closes; returns the records. */
async function populate(dir: string, count: number, textBytes = 40, segmentSizeBytes = 4096): Promise<Rec[]> {
  const log = await openLog(dir, { segmentSizeBytes });
  const records = Array.from({ length: count }, (_, n) => rec(n, textBytes));
  for (let start = 0; start < count; start += 5) {
    log.append(records.slice(start, start + 5));
    await log.sync();
  }
  await log.close();
  return records;
}

/** Record extents of a segment file: [start, end) of each valid record. */
async function recordExtents(path: string): Promise<{ start: number; end: number }[]> {
  const bytes = await readFile(path);
  const scanned = scanSegment(bytes, 64 * 1024 * 1024);
  return scanned.offsets.map((start, index) => ({ start, end: start + 12 + scanned.payloads[index]!.length }));
}

async function openError(dir: string, extra: Partial<WriteAheadLogOptions<Rec>> = {}): Promise<ConcordError> {
  try {
    const log = await openLog(dir, extra);
    await log.close();
  } catch (error) {
    if (isConcordError(error)) return error;
    throw error;
  }
  throw new Error('expected the WAL to refuse to open');
}

async function flipBit(path: string, offset: number, bit = 0): Promise<void> {
  const bytes = await readFile(path);
  bytes[offset]! ^= 1 << bit;
  await writeFile(path, bytes);
}

describe('WriteAheadLog: segments, group commit, compaction', () => {
  it('rotates segments at the size limit and recovers across all of them', async () => {
    const dir = await tempDir();
    const records = await populate(dir, 200);
    expect((await segmentFiles(dir)).length).toBeGreaterThan(3);
    const log = await openLog(dir);
    expect(log.recovered()).toEqual(records);
    expect(log.recoveryReport.tornTail).toBeNull();
    await log.close();
  });

  it('preallocates segments to their full size (fdatasync then need not commit a size change)', async () => {
    const dir = await tempDir();
    const log = await openLog(dir, { segmentSizeBytes: 64 * 1024 });
    log.append([rec(0)]);
    await log.sync();
    const [first] = await segmentFiles(dir);
    expect((await readFile(join(dir, first!))).length).toBe(64 * 1024);
    await log.close();
  });

  it('group commit: 64 concurrent append+sync callers share a few fsyncs', async () => {
    const dir = await tempDir();
    const log = await openLog(dir, { segmentSizeBytes: 1024 * 1024 });
    const before = log.stats();
    await Promise.all(Array.from({ length: 64 }, async (_, n) => {
      log.append([rec(n)]);
      await log.sync();
    }));
    const after = log.stats();
    expect(after.writtenRecords - before.writtenRecords).toBe(64);
    expect(after.batches - before.batches).toBeLessThanOrEqual(3);
    await log.close();
  });

  it('a synced checkpoint starts a new segment and deletes the older ones', async () => {
    const dir = await tempDir();
    await populate(dir, 200);
    const log = await openLog(dir);
    expect((await segmentFiles(dir)).length).toBeGreaterThan(2);
    log.append([{ kind: 'ckpt', n: 100, text: 'state' }, rec(101)]);
    await log.sync();
    expect(await segmentFiles(dir)).toHaveLength(1);
    expect(log.stats().segmentsDeleted).toBeGreaterThan(1);
    await log.close();
    const reopened = await openLog(dir);
    expect(reopened.recovered()).toEqual([{ kind: 'ckpt', n: 100, text: 'state' }, rec(101)]);
    await reopened.close();
  });

  it('recovers from a crash between writing a checkpoint and deleting old segments', async () => {
    const dir = await tempDir();
    await populate(dir, 100);
    const saved = await tempDir();
    for (const name of await segmentFiles(dir)) await cp(join(dir, name), join(saved, name));
    const log = await openLog(dir);
    log.append([{ kind: 'ckpt', n: 100, text: 'state' }]);
    await log.sync();
    await log.close();
    // Put the old segments back, as if the deletions never reached the disk.
    for (const name of await segmentFiles(saved)) if (!(await segmentFiles(dir)).includes(name)) await cp(join(saved, name), join(dir, name));
    const reopened = await openLog(dir);
    expect(reopened.recovered()).toEqual([{ kind: 'ckpt', n: 100, text: 'state' }]);
    expect(reopened.recoveryReport.deletedSegments.length).toBeGreaterThan(0);
    expect(await segmentFiles(dir)).toHaveLength(1);
    await reopened.close();
  });

  it('drops unsynced records on abandon (power cut) and keeps synced ones', async () => {
    const dir = await tempDir();
    const log = await openLog(dir);
    log.append([rec(0), rec(1)]);
    await log.sync();
    log.append([rec(2)]);
    const late = log.sync();
    await log.abandon();
    await late.catch(() => undefined);
    const reopened = await openLog(dir);
    expect(reopened.recovered().slice(0, 2)).toEqual([rec(0), rec(1)]);
    expect(reopened.recovered().length).toBeLessThanOrEqual(3);
    await reopened.close();
  });

  it('refuses appends after close with STOPPED and records over maxRecordBytes with VALUE_TOO_LARGE', async () => {
    const dir = await tempDir();
    const log = await openLog(dir, { maxRecordBytes: 100 });
    expect(() => log.append([rec(0, 200)])).toThrow(expect.objectContaining({ code: ErrorCode.ValueTooLarge }));
    await log.close();
    expect(() => log.append([rec(0)])).toThrow(expect.objectContaining({ code: ErrorCode.Stopped }));
    await expect(log.sync()).rejects.toMatchObject({ code: ErrorCode.Stopped });
  });

  it('refuses to open when a recovered record fails validateRecord (naming file and offset)', async () => {
    const dir = await tempDir();
    await populate(dir, 3);
    const error = await openError(dir, { validateRecord: (value) => ((value as Rec).n === 1 ? 'n must not be 1' : null) });
    expect(error.code).toBe(ErrorCode.CorruptRecord);
    expect(error.message).toMatch(/n must not be 1/);
    expect((error.details as { offset: number }).offset).toBeGreaterThan(segmentHeaderBytes);
  });

  it.each(['threadpool', 'inline'] as const)('a failed write poisons the log: the sync rejects with INTERNAL and later calls refuse (io %s)', async (io) => {
    const dir = await tempDir();
    const log = await openLog(dir, { io });
    log.append([rec(0)]);
    await log.sync();
    // Pull the file out from under the log (as a dying disk would): the next write fails with EBADF.
    await (log as unknown as { active: { handle: { close(): Promise<void> } } }).active.handle.close();
    log.append([rec(1)]);
    await expect(log.sync()).rejects.toMatchObject({ code: ErrorCode.Internal });
    expect(() => log.append([rec(2)])).toThrow(expect.objectContaining({ code: ErrorCode.Internal }));
    await expect(log.sync()).rejects.toMatchObject({ code: ErrorCode.Internal });
    await log.close();
    const reopened = await openLog(dir);
    expect(reopened.recovered()).toEqual([rec(0)]);
    await reopened.close();
  });

  it('io: threadpool never syncs inline; inline always does; auto leaves inline once the median sync of a window is slow', async () => {
    const batchesOf = async (extra: Partial<WriteAheadLogOptions<Rec>>, count: number): Promise<{ batches: number; inlineBatches: number }> => {
      const log = await openLog(await tempDir(), { segmentSizeBytes: 1024 * 1024, ...extra });
      for (let n = 0; n < count; n += 1) {
        log.append([rec(n)]);
        await log.sync();
      }
      const { batches, inlineBatches } = log.stats();
      await log.close();
      return { batches, inlineBatches };
    };
    expect(await batchesOf({ io: 'threadpool' }, 40)).toEqual({ batches: 40, inlineBatches: 0 });
    expect(await batchesOf({ io: 'inline', slowSyncMs: 0 }, 40)).toEqual({ batches: 40, inlineBatches: 40 });
    // Every sync takes longer than 0 ms: the first full window (31 batches) is judged slow.
    expect(await batchesOf({ io: 'auto', slowSyncMs: 0 }, 40)).toEqual({ batches: 40, inlineBatches: 31 });
    expect(await batchesOf({ slowSyncMs: 60_000 }, 40)).toEqual({ batches: 40, inlineBatches: 40 });
  });

  it('io auto tries inline again after its cool-off (10 s after the first slow window)', async () => {
    const realNow = performance.now.bind(performance);
    let skewMs = 0;
    const clock = vi.spyOn(performance, 'now').mockImplementation(() => realNow() + skewMs);
    try {
      const log = await openLog(await tempDir(), { segmentSizeBytes: 1024 * 1024, io: 'auto', slowSyncMs: 0 });
      const syncs = async (count: number): Promise<void> => {
        for (let n = 0; n < count; n += 1) {
          log.append([rec(n)]);
          await log.sync();
        }
      };
      await syncs(40);
      expect(log.stats().inlineBatches).toBe(31);
      skewMs = 9_000;
      await syncs(5);
      expect(log.stats().inlineBatches).toBe(31);
      skewMs = 10_500;
      await syncs(5);
      expect(log.stats().inlineBatches).toBe(36);
      await log.close();
    } finally {
      clock.mockRestore();
    }
  });

  it('a copy of the directory taken at any moment under load recovers a prefix containing every acknowledged record', async () => {
    const dir = await tempDir();
    const log = await openLog(dir);
    let acknowledged = 0;
    const writers = Array.from({ length: 8 }, async (_, writer) => {
      for (let round = 0; round < 30; round += 1) {
        log.append([rec(writer * 1000 + round)]);
        await log.sync();
        acknowledged += 1;
      }
    });
    const copies: { dir: string; acknowledgedBefore: number }[] = [];
    const copier = (async () => {
      for (let copy = 0; copy < 6; copy += 1) {
        await new Promise((resolve) => setTimeout(resolve, 3));
        const target = await tempDir();
        const acknowledgedBefore = acknowledged;
        for (const name of await segmentFiles(dir)) await cp(join(dir, name), join(target, name));
        copies.push({ dir: target, acknowledgedBefore });
      }
    })();
    await Promise.all([...writers, copier]);
    await log.close();
    for (const copy of copies) {
      const recovered = await openLog(copy.dir);
      expect(recovered.recovered().length).toBeGreaterThanOrEqual(copy.acknowledgedBefore);
      await recovered.close();
    }
  });
});

describe('WriteAheadLog: recovery rule (torn tail vs corruption)', () => {
  it('cuts a final record truncated at any byte, reports it, and keeps going', async () => {
    const dir = await tempDir();
    const records = await populate(dir, 12, 300);
    const last = (await segmentFiles(dir)).at(-1)!;
    const extents = await recordExtents(join(dir, last));
    const final = extents.at(-1)!;
    const pristine = await readFile(join(dir, last));
    const kept = records.length - 1;
    for (let cut = final.start + 1; cut < final.end; cut += 37) {
      await writeFile(join(dir, last), pristine.subarray(0, cut));
      const log = await openLog(dir);
      expect(log.recovered()).toEqual(records.slice(0, kept));
      expect(log.recoveryReport.tornTail).toMatchObject({ file: last, offset: final.start });
      await log.abandon();
    }
    await writeFile(join(dir, last), pristine.subarray(0, final.end - 1));
    const log = await openLog(dir);
    log.append([rec(500)]);
    await log.sync();
    await log.close();
    const again = await openLog(dir);
    expect(again.recoveryReport.tornTail).toBeNull();
    expect(again.recovered()).toEqual([...records.slice(0, kept), rec(500)]);
    await again.close();
  });

  it('treats a zero-filled final record as never written, and a record with an unwritten zero sector as torn', async () => {
    const dir = await tempDir();
    const records = await populate(dir, 6, 1200);
    const last = (await segmentFiles(dir)).at(-1)!;
    const path = join(dir, last);
    const final = (await recordExtents(path)).at(-1)!;
    const pristine = await readFile(path);
    const wholeZero = Buffer.from(pristine);
    wholeZero.fill(0, final.start, final.end);
    await writeFile(path, wholeZero);
    let log = await openLog(dir);
    expect(log.recovered()).toEqual(records.slice(0, -1));
    await log.abandon();
    const sectorZero = Buffer.from(pristine);
    const sectorStart = Math.ceil((final.start + 100) / 512) * 512;
    sectorZero.fill(0, sectorStart, sectorStart + 512);
    await writeFile(path, sectorZero);
    log = await openLog(dir);
    expect(log.recovered()).toEqual(records.slice(0, -1));
    expect(log.recoveryReport.tornTail?.reason).toMatch(/zero/);
    await log.close();
  });

  it('refuses a bit flip in a middle record of the last segment, naming file and offset', async () => {
    const dir = await tempDir();
    await populate(dir, 4);
    const last = (await segmentFiles(dir)).at(-1)!;
    const extents = await recordExtents(join(dir, last));
    const victim = extents[extents.length - 2]!;
    await flipBit(join(dir, last), victim.start + 20, 3);
    const error = await openError(dir);
    expect(error.code).toBe(ErrorCode.CorruptRecord);
    expect(error.details).toMatchObject({ file: join(dir, last), offset: victim.start });
    expect(error.message).toContain(last);
  });

  it('refuses torn-looking damage (zero header, zero sector) when a valid record follows it', async () => {
    const dir = await tempDir();
    await populate(dir, 6, 1500, 64 * 1024);
    const last = (await segmentFiles(dir)).at(-1)!;
    const path = join(dir, last);
    const extents = await recordExtents(path);
    const pristine = await readFile(path);
    const victim = extents[extents.length - 3]!;
    const zeroHeader = Buffer.from(pristine);
    zeroHeader.fill(0, victim.start, victim.start + 12);
    await writeFile(path, zeroHeader);
    expect(await openError(dir, { repairCorruptTail: true })).toMatchObject({ code: ErrorCode.CorruptRecord, details: { offset: victim.start } });
    const zeroSector = Buffer.from(pristine);
    const sectorStart = Math.ceil((victim.start + 20) / 512) * 512;
    expect(sectorStart + 512).toBeLessThanOrEqual(victim.end);
    zeroSector.fill(0, sectorStart, sectorStart + 512);
    await writeFile(path, zeroSector);
    expect(await openError(dir, { repairCorruptTail: true })).toMatchObject({ code: ErrorCode.CorruptRecord, details: { offset: victim.start } });
  });

  it('refuses a bit flip in the complete final record (it may have been acknowledged) unless repair is requested', async () => {
    const dir = await tempDir();
    const records = await populate(dir, 4);
    const last = (await segmentFiles(dir)).at(-1)!;
    const final = (await recordExtents(join(dir, last))).at(-1)!;
    await flipBit(join(dir, last), final.end - 3, 1);
    const error = await openError(dir);
    expect(error.code).toBe(ErrorCode.CorruptRecord);
    expect(error.details).toMatchObject({ offset: final.start });
    expect(error.message).toMatch(/repairCorruptTail/);
    const repaired = await openLog(dir, { repairCorruptTail: true });
    expect(repaired.recovered()).toEqual(records.slice(0, -1));
    await repaired.close();
  });

  it('refuses a flipped length bit (header checksum) instead of trusting it', async () => {
    const dir = await tempDir();
    await populate(dir, 4);
    const last = (await segmentFiles(dir)).at(-1)!;
    const final = (await recordExtents(join(dir, last))).at(-1)!;
    await flipBit(join(dir, last), final.start + 2, 4); // length grows by 1 MiB: would "run past the end"
    expect((await openError(dir)).code).toBe(ErrorCode.CorruptRecord);
  });

  it('refuses damage in a sealed segment (sequence gap) and a damaged segment header', async () => {
    const dir = await tempDir();
    await populate(dir, 200);
    const files = await segmentFiles(dir);
    const sealed = files[1]!;
    const extents = await recordExtents(join(dir, sealed));
    await flipBit(join(dir, sealed), extents.at(-1)!.end - 2, 0);
    const gap = await openError(dir);
    expect(gap.details).toMatchObject({ file: join(dir, sealed), offset: extents.at(-1)!.start });
    await flipBit(join(dir, sealed), extents.at(-1)!.end - 2, 0);
    await flipBit(join(dir, files[2]!), 20, 0);
    expect(await openError(dir)).toMatchObject({ code: ErrorCode.CorruptRecord, details: { file: join(dir, files[2]!), offset: 0 } });
  });

  it('refuses a missing middle segment', async () => {
    const dir = await tempDir();
    await populate(dir, 200);
    const files = await segmentFiles(dir);
    await rm(join(dir, files[1]!));
    expect((await openError(dir)).code).toBe(ErrorCode.CorruptRecord);
  });

  it('fuzz: random truncation, bit flips and zeroed ranges never yield a wrong record (fixed seed)', async () => {
    const dir = await tempDir();
    const records = await populate(dir, 60, 120);
    const pristine = new Map<string, Buffer>();
    for (const name of await segmentFiles(dir)) pristine.set(name, await readFile(join(dir, name)));
    const names = [...pristine.keys()];
    const extents = new Map<string, { start: number; end: number }[]>();
    for (const name of names) extents.set(name, await recordExtents(join(dir, name)));
    const mutation = fc.record({
      // The last segment is where the torn-vs-corrupt rule lives: pick it half of the time.
      file: fc.oneof(fc.constant(names.length - 1), fc.integer({ min: 0, max: names.length - 1 })),
      kind: fc.constantFrom('truncate', 'flip', 'zero'),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      bit: fc.integer({ min: 0, max: 7 }),
      span: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 60, max: 200 }), fc.integer({ min: 1, max: 700 })),
    });
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        for (const [name, bytes] of pristine) await writeFile(join(dir, name), bytes);
        for (const name of await readdir(dir)) if (!pristine.has(name)) await rm(join(dir, name));
        const name = names[m.file]!;
        const path = join(dir, name);
        const original = pristine.get(name)!;
        // Mostly inside the records, sometimes in the zero tail after them.
        const dataEnd = extents.get(name)!.at(-1)!.end;
        const position = Math.min(original.length - 1, Math.floor(m.at * (dataEnd + 256)));
        const mutated = Buffer.from(original);
        if (m.kind === 'truncate') await truncate(path, position);
        else {
          if (m.kind === 'flip') mutated[position]! ^= 1 << m.bit;
          else mutated.fill(0, position, Math.min(mutated.length, position + m.span));
          await writeFile(path, mutated);
        }
        const segmentExtents = extents.get(name)!;
        const isLast = m.file === names.length - 1;
        const inZeroTail = position >= segmentExtents.at(-1)!.end;
        const inRecordOrHeader = !inZeroTail;
        const recordsBefore = names.slice(0, m.file).reduce((sum, other) => sum + extents.get(other)!.length, 0);
        // What the rule promises, beyond "never a wrong record":
        const mustOpen = inZeroTail || (m.kind === 'truncate' && isLast && position >= segmentHeaderBytes);
        const mutatedEnd = m.kind === 'zero' ? position + m.span : m.kind === 'flip' ? position + 1 : Number.POSITIVE_INFINITY;
        const damaged = segmentExtents.findIndex((extent) => extent.end > position && extent.start < mutatedEnd);
        const intactAfter = damaged >= 0 && segmentExtents.slice(damaged + 1).some((extent) => extent.start >= mutatedEnd);
        const headerHit = position < segmentHeaderBytes && m.kind !== 'zero';
        // A flipped bit anywhere in data, or damage followed by an intact record, or damage in a sealed segment.
        const mustRefuse = headerHit || (m.kind === 'flip' && inRecordOrHeader) || (damaged >= 0 && (intactAfter || !isLast));
        let log: WriteAheadLog<Rec>;
        try {
          log = await openLog(dir);
        } catch (error) {
          expect(isConcordError(error, ErrorCode.CorruptRecord)).toBe(true);
          expect(mustOpen).toBe(false);
          const details = (error as ConcordError).details as { file: string; offset: number };
          expect(details.file.startsWith(dir)).toBe(true);
          expect(Number.isInteger(details.offset)).toBe(true);
          return;
        }
        const got = log.recovered();
        await log.abandon();
        expect(mustRefuse).toBe(false);
        // Never a modified record: what is recovered is a prefix of what was written.
        expect(got).toEqual(records.slice(0, got.length));
        if (inZeroTail) expect(got).toHaveLength(records.length);
        // Only the last segment may lose records, and only those the mutation reached.
        const reached = segmentExtents.filter((extent) => extent.end > position).length;
        expect(got.length).toBeGreaterThanOrEqual(records.length - (isLast ? reached : 0));
        if (m.kind === 'truncate' && isLast) expect(got).toHaveLength(recordsBefore + segmentExtents.length - reached);
      }),
      { seed: 20240611, numRuns: 300 },
    );
  });
});

describe('WAL fault helpers (for the fault-injection harness)', () => {
  it('tearFinalRecord makes a torn tail the WAL cuts; flipBitInRecord makes corruption it refuses', async () => {
    const dir = await tempDir();
    const records = await populate(dir, 30);
    expect(await walRecordLocations(dir)).toHaveLength(30);
    const torn = await tearFinalRecord(dir, 0.5);
    const log = await openLog(dir);
    expect(log.recovered()).toEqual(records.slice(0, -1));
    expect(log.recoveryReport.tornTail?.offset).toBeLessThan(torn.offset);
    await log.close();
    const flipped = await flipBitInRecord(dir, 3, 5);
    expect(await openError(dir)).toMatchObject({ code: ErrorCode.CorruptRecord, details: { file: flipped.file, offset: flipped.start } });
  });

  it('appendTornRecord leaves a torn unacknowledged record after the last one: cut and reported, every real record kept', async () => {
    for (const fraction of [0, 0.01, 0.5, 0.99, 1]) {
      const dir = await tempDir();
      const records = await populate(dir, 12);
      const torn = await appendTornRecord(dir, fraction);
      expect(torn.bytes).toBeGreaterThan(0);
      const log = await openLog(dir);
      expect(log.recovered()).toEqual(records);
      expect(log.recoveryReport.tornTail?.offset).toBe(torn.offset);
      await log.close();
    }
  });
});

describe('writeFileAtomic', () => {
  it('replaces the whole file and leaves no temp files', async () => {
    const dir = await tempDir();
    const path = join(dir, 'snapshot.bin');
    expect(await readFileIfExists(path)).toBeNull();
    await writeFileAtomic(path, Buffer.from('first'));
    await writeFileAtomic(path, Buffer.from('second version'));
    expect((await readFile(path)).toString()).toBe('second version');
    expect(await readdir(dir)).toEqual(['snapshot.bin']);
  });
});

describe('segment header', () => {
  it('is 40 bytes and records start right after it', async () => {
    const dir = await tempDir();
    await populate(dir, 1);
    const [first] = await segmentFiles(dir);
    expect((await recordExtents(join(dir, first!)))[0]!.start).toBe(segmentHeaderBytes);
  });
});
