import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { structuralHash, TraceHash } from '../../src/sim/trace-hash.js';

describe('trace hash', () => {
  it('is a function of the sequence of values, sensitive to order and to large integers', () => {
    const hashOf = (values: number[]): string => {
      const hash = new TraceHash();
      for (const value of values) hash.add(value);
      return hash.hex();
    };
    expect(hashOf([1, 2, 3])).toBe(hashOf([1, 2, 3]));
    expect(hashOf([1, 2, 3])).not.toBe(hashOf([1, 3, 2]));
    expect(hashOf([2 ** 40])).not.toBe(hashOf([2 ** 41]));
    expect(hashOf([])).toMatch(/^[0-9a-f]{16}$/);
  });

  it('structural hash: equal values hash equal, and a changed field changes the hash', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(structuralHash(value)).toBe(structuralHash(JSON.parse(JSON.stringify(value))));
      }),
    );
    const base = { type: 'append', term: 3, entries: [{ index: 1, data: new Uint8Array([1, 2]) }], map: new Map([['k', 1]]) };
    const variants = [
      base,
      { ...base, term: 4 },
      { ...base, type: 'vote' },
      { ...base, entries: [{ index: 1, data: new Uint8Array([1, 3]) }] },
      { ...base, map: new Map([['k', 2]]) },
      { ...base, term: 3.5 },
    ];
    expect(new Set(variants.map(structuralHash)).size).toBe(variants.length);
  });
});
