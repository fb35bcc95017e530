import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { DurableLog } from '../../src/core/host.js';

/**
 * The shared durable-log compliance suite: the in-memory reference and the file WAL must both
 * implement the semantics of src/core/storage.ts — synced records survive a crash, a crash keeps a
 * prefix of the written records (never a gap), and a synced checkpoint compacts what precedes it.
 */
export interface DurableLogHarness<P> {
  /** Opens (or reopens) the same storage. */
  open(): Promise<DurableLog<P>>;
  /** Power cut on an open log: unsynced records may be lost (any suffix of them). */
  crash(log: DurableLog<P>): Promise<void>;
  cleanup(): Promise<void>;
}

export interface DurableLogFactory {
  readonly name: string;
  create<P>(isCheckpoint: (record: P) => boolean): Promise<DurableLogHarness<P>>;
  /** Property-test case count (file-backed logs are slower). */
  readonly propertyRuns: number;
}

export interface Rec {
  readonly kind: 'entry' | 'ckpt';
  readonly n: number;
  readonly data?: unknown;
}

const isCheckpoint = (record: Rec): boolean => record.kind === 'ckpt';

/** The model's view of what may survive: the first `count` written records, compacted. */
function compacted(records: readonly Rec[]): Rec[] {
  for (let index = records.length - 1; index > 0; index -= 1) if (isCheckpoint(records[index]!)) return records.slice(index);
  return records.slice();
}

/**
 * A checkpoint carries a blob, as a Raft checkpoint carries its snapshot (logs with snapshot
 * files keep it outside the log and must give it back whole).
 */
function ckpt(n: number): Rec {
  return { kind: 'ckpt', n, data: Uint8Array.from({ length: 600 + (n % 7) * 50 }, (_, index) => (n + index) % 251) };
}

/** Records with blobs as plain arrays, so that a Buffer and a Uint8Array of the same bytes compare equal. */
function plain(records: readonly Rec[]): unknown[] {
  return records.map((record) => (record.data instanceof Uint8Array ? { ...record, data: [...record.data] } : record));
}

function entries(from: number, count: number): Rec[] {
  return Array.from({ length: count }, (_, index) => ({ kind: 'entry', n: from + index }));
}

export function durableLogComplianceSuite(factory: DurableLogFactory): void {
  describe(`DurableLog compliance: ${factory.name}`, () => {
    let harness: DurableLogHarness<Rec> | null = null;

    afterEach(async () => {
      await harness?.cleanup();
      harness = null;
    });

    async function create(): Promise<DurableLogHarness<Rec>> {
      harness = await factory.create<Rec>(isCheckpoint);
      return harness;
    }

    it('starts empty', async () => {
      const h = await create();
      const log = await h.open();
      expect(log.recovered()).toEqual([]);
      await log.close();
    });

    it('recovers synced records in order across reopen, and appends continue after them', async () => {
      const h = await create();
      let log = await h.open();
      const data = { text: 'héllo', nested: [1, { deep: true }], bytes: new Uint8Array([0, 1, 255]) };
      log.append([{ kind: 'entry', n: 0, data }, ...entries(1, 9)]);
      await log.sync();
      await log.close();
      log = await h.open();
      expect(log.recovered().map((record) => record.n)).toEqual(entries(0, 10).map((record) => record.n));
      const first = log.recovered()[0]!.data as typeof data;
      expect(first.text).toBe('héllo');
      expect(first.nested).toEqual([1, { deep: true }]);
      expect([...(first.bytes as Uint8Array)]).toEqual([0, 1, 255]);
      log.append(entries(10, 5));
      await log.sync();
      await log.close();
      log = await h.open();
      expect(log.recovered().map((record) => record.n)).toEqual(entries(0, 15).map((record) => record.n));
      await log.close();
    });

    it('close() keeps appended records (a graceful close syncs)', async () => {
      const h = await create();
      let log = await h.open();
      log.append(entries(0, 3));
      await log.close();
      log = await h.open();
      expect(log.recovered()).toEqual(entries(0, 3));
      await log.close();
    });

    it('a crash keeps every synced record and at most a prefix of the rest', async () => {
      const h = await create();
      let log = await h.open();
      log.append(entries(0, 5));
      await log.sync();
      log.append(entries(5, 5));
      await h.crash(log);
      log = await h.open();
      const got = log.recovered();
      expect(got.slice(0, 5)).toEqual(entries(0, 5));
      expect(got).toEqual(entries(0, got.length));
      await log.close();
    });

    it('sync covers exactly what was appended before the call, even with appends racing it', async () => {
      const h = await create();
      let log = await h.open();
      log.append(entries(0, 1));
      const first = log.sync();
      log.append(entries(1, 1));
      await first;
      await h.crash(log);
      log = await h.open();
      expect(log.recovered()[0]).toEqual({ kind: 'entry', n: 0 });
      await log.close();
    });

    it('concurrent writers: every resolved sync is durable (group commit)', async () => {
      const h = await create();
      let log = await h.open();
      const writers = Array.from({ length: 20 }, async (_, writer) => {
        for (let round = 0; round < 5; round += 1) {
          log.append([{ kind: 'entry', n: writer * 100 + round }]);
          await log.sync();
        }
      });
      await Promise.all(writers);
      await h.crash(log);
      log = await h.open();
      const got = new Set(log.recovered().map((record) => record.n));
      for (let writer = 0; writer < 20; writer += 1) for (let round = 0; round < 5; round += 1) expect(got.has(writer * 100 + round)).toBe(true);
      await log.close();
    });

    it('a synced checkpoint compacts everything before it', async () => {
      const h = await create();
      let log = await h.open();
      log.append(entries(0, 3));
      await log.sync();
      log.append([ckpt(3), ...entries(4, 2)]);
      await log.sync();
      await log.close();
      log = await h.open();
      expect(plain(log.recovered())).toEqual(plain([ckpt(3), ...entries(4, 2)]));
      await log.close();
    });

    it('an unsynced checkpoint lost in a crash does not compact', async () => {
      const h = await create();
      let log = await h.open();
      log.append(entries(0, 3));
      await log.sync();
      log.append([ckpt(3)]);
      await h.crash(log);
      log = await h.open();
      const got = plain(log.recovered());
      expect([plain(entries(0, 3)), plain([ckpt(3)])]).toContainEqual(got);
      await log.close();
    });

    it('random operation sequences match the model (property, fixed seed)', async () => {
      type Op = { op: 'append'; count: number; checkpoint: boolean } | { op: 'sync' } | { op: 'syncLater' } | { op: 'crash' } | { op: 'reopen' };
      const opArb: fc.Arbitrary<Op> = fc.oneof(
        { weight: 5, arbitrary: fc.record({ op: fc.constant('append' as const), count: fc.integer({ min: 1, max: 6 }), checkpoint: fc.boolean() }) },
        { weight: 3, arbitrary: fc.constant({ op: 'sync' as const }) },
        { weight: 2, arbitrary: fc.constant({ op: 'syncLater' as const }) },
        { weight: 1, arbitrary: fc.constant({ op: 'crash' as const }) },
        { weight: 1, arbitrary: fc.constant({ op: 'reopen' as const }) },
      );
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
          const h = await factory.create<Rec>(isCheckpoint);
          try {
            await runModel(h, ops);
          } finally {
            await h.cleanup();
          }
        }),
        { seed: 1234, numRuns: factory.propertyRuns },
      );
    });
  });
}

async function runModel(h: DurableLogHarness<Rec>, ops: readonly ({ op: string; count?: number; checkpoint?: boolean })[]): Promise<void> {
  let log = await h.open();
  let written: Rec[] = [];
  let synced = 0;
  let next = 0;
  const background: Promise<void>[] = [];
  for (const op of ops) {
    if (op.op === 'append') {
      const batch = entries(next, op.count!);
      if (op.checkpoint) batch[batch.length - 1] = ckpt(next + op.count! - 1);
      next += op.count!;
      log.append(batch);
      written.push(...batch);
    } else if (op.op === 'sync' || op.op === 'syncLater') {
      const through = written.length;
      const snapshot = written;
      const promise = log.sync().then(() => {
        if (snapshot === written) synced = Math.max(synced, through);
      });
      if (op.op === 'sync') await promise;
      else background.push(promise.catch(() => undefined));
    } else {
      if (op.op === 'crash') await h.crash(log);
      else await log.close();
      await Promise.all(background.splice(0));
      const got = log === null ? [] : (log = await h.open()).recovered();
      // Some n with synced <= n <= written.length must explain what survived.
      const lower = op.op === 'reopen' ? written.length : synced;
      const explained = Array.from({ length: written.length - lower + 1 }, (_, k) => plain(compacted(written.slice(0, lower + k))));
      expect(explained).toContainEqual(plain(got));
      written = got.slice();
      synced = written.length;
    }
  }
  await log.close();
}
