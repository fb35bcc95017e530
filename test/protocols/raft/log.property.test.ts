import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RaftLog } from '../../../src/protocols/raft/log.js';
import type { LogEntry } from '../../../src/protocols/raft/types.js';

/**
 * Property tests for the log: a sequence of appends (with implicit truncation), compactions and
 * restores is run against `RaftLog` and against a plain model (an array of terms and sizes from
 * index 1, plus the compaction point); every query must agree after every operation.
 */

interface Model {
  startIndex: number;
  startTerm: number;
  /** terms[i] and sizes[i] describe index startIndex + 1 + i. */
  terms: number[];
  sizes: number[];
}

type Operation =
  | { kind: 'append'; back: number; termBumps: number[]; sizes: number[] }
  | { kind: 'compact'; back: number }
  | { kind: 'restore'; ahead: number; termBump: number };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({
        back: fc.nat(6),
        termBumps: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 6 }),
        sizes: fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 6, maxLength: 6 }),
      })
      .map((value) => ({ kind: 'append' as const, ...value })),
  },
  { weight: 1, arbitrary: fc.record({ back: fc.nat(8) }).map((value) => ({ kind: 'compact' as const, ...value })) },
  {
    weight: 1,
    arbitrary: fc.record({ ahead: fc.nat(4), termBump: fc.nat(2) }).map((value) => ({ kind: 'restore' as const, ...value })),
  },
);

function modelLast(model: Model): number {
  return model.startIndex + model.terms.length;
}

function modelTerm(model: Model, index: number): number | undefined {
  if (index === model.startIndex) return model.startTerm;
  if (index < model.startIndex || index > modelLast(model)) return undefined;
  return model.terms[index - model.startIndex - 1];
}

function entry(index: number, term: number, sizeBytes: number): LogEntry<number> {
  return { index, term, sizeBytes, payload: { type: 'command', command: index * 1000 + term, session: null } };
}

/** Applies one operation to both; returns false when the operation does not apply (skipped). */
function apply(log: RaftLog<number>, model: Model, op: Operation): void {
  switch (op.kind) {
    case 'append': {
      // Append from an index in (startIndex, last + 1]: truncation when it is ≤ last.
      const first = Math.max(model.startIndex + 1, modelLast(model) + 1 - op.back);
      let term = modelTerm(model, first - 1)!;
      const entries: LogEntry<number>[] = op.termBumps.map((bump, offset) => {
        term += bump;
        return entry(first + offset, term, op.sizes[offset % op.sizes.length]!);
      });
      log.append(entries);
      const keep = first - model.startIndex - 1;
      model.terms = [...model.terms.slice(0, keep), ...entries.map((e) => e.term)];
      model.sizes = [...model.sizes.slice(0, keep), ...entries.map((e) => e.sizeBytes)];
      return;
    }
    case 'compact': {
      const index = Math.max(model.startIndex, modelLast(model) - op.back);
      log.compact(index);
      const drop = index - model.startIndex;
      if (drop > 0) {
        model.startTerm = model.terms[drop - 1]!;
        model.startIndex = index;
        model.terms = model.terms.slice(drop);
        model.sizes = model.sizes.slice(drop);
      }
      return;
    }
    case 'restore': {
      const index = modelLast(model) + op.ahead;
      const term = Math.max(model.startTerm, ...model.terms) + op.termBump;
      log.restore({ index, term });
      model.startIndex = index;
      model.startTerm = term;
      model.terms = [];
      model.sizes = [];
      return;
    }
  }
}

function checkAgreement(log: RaftLog<number>, model: Model): void {
  log.checkInvariants();
  expect(log.firstIndex()).toBe(model.startIndex + 1);
  expect(log.lastIndex()).toBe(modelLast(model));
  expect(log.lastTerm()).toBe(model.terms.length === 0 ? model.startTerm : model.terms.at(-1));
  for (let index = model.startIndex - 1; index <= modelLast(model) + 1; index += 1) {
    expect(log.term(index)).toBe(modelTerm(model, index));
  }
  // Byte sizes over every range.
  for (let from = model.startIndex + 1; from <= modelLast(model); from += 1) {
    for (let to = from; to <= modelLast(model); to += 1) {
      const expected = model.sizes.slice(from - model.startIndex - 1, to - model.startIndex).reduce((sum, size) => sum + size, 0);
      expect(log.bytesBetween(from, to)).toBe(expected);
    }
  }
}

describe('RaftLog against a model', () => {
  it('agrees with the model after every append / truncate / compact / restore', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 30 }), (operations) => {
        const log = new RaftLog<number>();
        const model: Model = { startIndex: 0, startTerm: 0, terms: [], sizes: [] };
        for (const op of operations) {
          apply(log, model, op);
          checkAgreement(log, model);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('slice honours the byte budget and always returns at least one entry', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 30 }),
        fc.nat(29),
        fc.integer({ min: 0, max: 200 }),
        (sizes, fromOffset, maxBytes) => {
          const log = new RaftLog<number>();
          log.append(sizes.map((size, offset) => entry(offset + 1, 1, size)));
          const from = Math.min(fromOffset, sizes.length - 1) + 1;
          const slice = log.slice(from, sizes.length, maxBytes);
          expect(slice.length).toBeGreaterThanOrEqual(1);
          expect(slice[0]!.index).toBe(from);
          const total = slice.reduce((sum, e) => sum + e.sizeBytes, 0);
          // Within budget, unless a single entry alone exceeds it.
          if (slice.length > 1) expect(total).toBeLessThanOrEqual(maxBytes);
          // Maximal: the next entry would not have fitted.
          const next = sizes[from - 1 + slice.length];
          if (next !== undefined) expect(total + next).toBeGreaterThan(maxBytes);
        },
      ),
    );
  });

  it('findConflict returns the first entry that is new or has a different term', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 1, maxLength: 12 }),
        fc.nat(11),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 8 }),
        (bumps, startOffset, otherBumps) => {
          const log = new RaftLog<number>();
          let term = 1;
          log.append(bumps.map((bump, offset) => entry(offset + 1, (term += bump), 0)));
          const first = Math.min(startOffset, log.lastIndex() - 1) + 1;
          let otherTerm = log.term(first - 1)!;
          const incoming = otherBumps.map((bump, offset) => entry(first + offset, (otherTerm += bump), 0));
          const expected = incoming.find((e) => log.term(e.index) !== e.term)?.index ?? 0;
          expect(log.findConflict(incoming)).toBe(expected);
        },
      ),
    );
  });

  it('findConflictByTerm returns the largest index at or below the probe whose term is ≤ the given term', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 15 }),
        fc.nat(20),
        fc.nat(8),
        fc.nat(5),
        (bumps, probe, term, compactBack) => {
          const log = new RaftLog<number>();
          let current = 1;
          log.append(bumps.map((bump, offset) => entry(offset + 1, (current += bump), 0)));
          log.compact(Math.max(0, log.lastIndex() - compactBack - 1));
          const result = log.findConflictByTerm(probe, term);
          let expectedIndex = Math.min(probe, log.lastIndex());
          while (expectedIndex >= log.firstIndex() - 1 && (log.term(expectedIndex) ?? Infinity) > term) expectedIndex -= 1;
          if (expectedIndex >= log.firstIndex() - 1) {
            expect(result).toEqual({ index: expectedIndex, term: log.term(expectedIndex) });
          } else {
            expect(result.term).toBe(0);
            expect(result.index).toBeLessThan(log.firstIndex());
          }
        },
      ),
    );
  });

  it('refuses to append over the compacted prefix or with a gap', () => {
    const log = new RaftLog<number>();
    log.append([entry(1, 1, 0), entry(2, 1, 0), entry(3, 2, 0)]);
    log.compact(2);
    expect(() => log.append([entry(2, 3, 0)])).toThrow(/compacted/);
    expect(() => log.append([entry(5, 3, 0)])).toThrow(/gap/);
    expect(() => log.append([entry(4, 1, 0)])).toThrow(/term decreases/);
  });
});
