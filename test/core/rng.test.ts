import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Rng } from '../../src/core/rng.js';

describe('Rng', () => {
  it('replays the same stream from the same seed', () => {
    const a = Rng.fromSeed(42);
    const b = Rng.fromSeed(42);
    const drawsA = Array.from({ length: 100 }, () => a.nextUint32());
    const drawsB = Array.from({ length: 100 }, () => b.nextUint32());
    expect(drawsA).toEqual(drawsB);
  });

  it('gives different streams for neighbouring seeds', () => {
    expect(Rng.fromSeed(7).nextUint32()).not.toBe(Rng.fromSeed(8).nextUint32());
  });

  it('splits by label independently of draws already made', () => {
    const fresh = Rng.fromSeed(5).split('network');
    const used = Rng.fromSeed(5);
    for (let index = 0; index < 10; index += 1) used.next();
    expect(used.split('network').nextUint32()).toBe(fresh.nextUint32());
    expect(Rng.fromSeed(5).split('faults').nextUint32()).not.toBe(Rng.fromSeed(5).split('network').nextUint32());
  });

  it('keeps int() within bounds and next() in [0, 1)', () => {
    fc.assert(
      fc.property(fc.nat(2 ** 40), fc.integer({ min: -1000, max: 1000 }), fc.nat(1000), (seed, min, span) => {
        const rng = Rng.fromSeed(seed);
        for (let index = 0; index < 20; index += 1) {
          const value = rng.int(min, min + span);
          if (value < min || value > min + span || !Number.isInteger(value)) return false;
          const unit = rng.next();
          if (unit < 0 || unit >= 1) return false;
        }
        return true;
      }),
      { seed: 1, numRuns: 200 },
    );
  });

  it('is roughly uniform', () => {
    const rng = Rng.fromSeed(99);
    const buckets = new Array<number>(10).fill(0);
    for (let index = 0; index < 100_000; index += 1) buckets[Math.floor(rng.next() * 10)]! += 1;
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });
});
