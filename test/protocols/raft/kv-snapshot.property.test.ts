import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KvStateMachine, type KvCommand } from '../../../src/protocols/raft/kv.js';
import type { SnapshotWriter } from '../../../src/protocols/raft/state-machine.js';

/**
 * KvStateMachine's incremental snapshot (`beginSnapshot`): whatever is applied while the pieces
 * are pulled, their concatenation is byte-identical to `snapshot()` at the start, and restoring
 * it gives the state (digest, records, recent changes) of that moment.
 */

// Few keys (so updates and deletes hit present records), JSON-escaped and non-ASCII ones among them.
const keys = ['a', 'b', 'c', 'd', 'k"q', 'ü/ß', '\u2028'];
const values = ['', '1', 'x', 'y', 'é€𝄞', 'line\nbreak', 'z'.repeat(300)];
const key = fc.constantFrom(...keys);
const value = fc.oneof(fc.constantFrom(...values), fc.string({ maxLength: 20 }));
const command: fc.Arbitrary<KvCommand> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('put' as const), key, value }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), key }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('cas' as const), key, expected: fc.option(fc.constantFrom(...values), { nil: null }), value }) },
);
/** One interleaving step: commands applied, then a piece pulled with this budget. */
const interleaving = fc.array(fc.tuple(fc.array(command, { maxLength: 4 }), fc.integer({ min: 1, max: 600 })), { maxLength: 120 });

function concat(pieces: readonly Uint8Array[]): Uint8Array {
  const data = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let offset = 0;
  for (const piece of pieces) {
    data.set(piece, offset);
    offset += piece.length;
  }
  return data;
}

const everything = { op: 'range', prefix: '', limit: Number.POSITIVE_INFINITY } as const;
const decoder = new TextDecoder();

describe('KvStateMachine incremental snapshots', () => {
  it('pieces pulled while commands keep applying concatenate to snapshot() at the start, and restore to that state', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), interleaving, fc.integer({ min: 1, max: 6 }), (before, during, maxRecentChanges) => {
        const kv = new KvStateMachine({ maxRecentChanges, shareCommands: false });
        for (const item of before) kv.apply(item);
        const expected = kv.snapshot();
        const digest = kv.digest();
        const records = kv.query(everything);
        const changes = kv.changesSince(0);

        const writer = kv.beginSnapshot();
        const pieces: Uint8Array[] = [];
        let done = false;
        for (const [commands, budget] of during) {
          for (const item of commands) kv.apply(item);
          const piece = writer.next(budget);
          if (piece === null) {
            done = true;
            break;
          }
          pieces.push(piece);
        }
        for (let extra = 0; !done; extra += 1) {
          kv.apply({ op: 'put', key: keys[extra % keys.length]!, value: `late${extra}` });
          const piece = writer.next(1 + (extra % 97));
          if (piece === null) done = true;
          else pieces.push(piece);
        }
        expect(writer.next(100)).toBeNull();
        const image = concat(pieces);
        expect(decoder.decode(image)).toBe(decoder.decode(expected));
        expect(image).toEqual(expected);

        const copy = new KvStateMachine({ maxRecentChanges });
        copy.restore(image);
        expect(copy.digest()).toBe(digest);
        expect(copy.query(everything)).toEqual(records);
        expect(copy.changesSince(0)).toEqual(changes);
        // The writer detached when it finished: the next snapshot can start.
        kv.beginSnapshot().abort();
      }),
      { numRuns: 400 },
    );
  });

  it('pieces stay near the budget: past it by at most one record (never split)', () => {
    const kv = new KvStateMachine({ maxRecentChanges: 50 });
    for (let index = 0; index < 200; index += 1) kv.apply({ op: 'put', key: `key${index}`, value: 'v'.repeat(index % 64) });
    const expected = kv.snapshot();
    const writer = kv.beginSnapshot();
    const pieces: Uint8Array[] = [];
    for (let piece = writer.next(1024); piece !== null; piece = writer.next(1024)) pieces.push(piece);
    expect(concat(pieces)).toEqual(expected);
    expect(pieces.length).toBeGreaterThan(expected.length / 2048);
    // One record here is under 200 bytes of JSON.
    for (const piece of pieces) expect(piece.length).toBeLessThan(1024 + 200);
  });

  it('one writer at a time; abort and restore end it; an empty store writes the empty image', () => {
    const kv = new KvStateMachine();
    const empty = kv.snapshot();
    const first = kv.beginSnapshot();
    expect(() => kv.beginSnapshot()).toThrow(/already in progress/);
    first.abort();
    first.abort(); // idempotent
    expect(() => first.next(10)).toThrow(/aborted/);

    const second: SnapshotWriter = kv.beginSnapshot();
    expect(concat([second.next(1 << 16)!])).toEqual(empty);
    expect(second.next(1 << 16)).toBeNull();

    kv.apply({ op: 'put', key: 'a', value: '1' });
    const third = kv.beginSnapshot();
    third.next(1);
    kv.restore(empty);
    expect(() => third.next(10)).toThrow(/aborted/);
    kv.beginSnapshot().abort();
  });
});
