import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chordConfig, clockwise, fingerStart, inHalfOpenInterval, inOpenInterval, normalizeSuccessors, ringSize, validateChordMessage, validateChordRequest, chordId,
} from '../../../src/protocols/chord/index.js';

const id = fc.integer({ min: 0, max: ringSize - 1 });
const config = chordConfig();

/** Reference: walk clockwise from a (exclusive) to b, by distance. */
const between = (x: number, a: number, b: number): boolean => {
  const span = a === b ? ringSize : clockwise(a, b);
  const toX = clockwise(a, x);
  return toX > 0 && toX < span;
};

describe('chord identifier circle (§4.1): intervals with wrap-around', () => {
  it('x ∈ (a, b) exactly when its clockwise distance from a is strictly inside the span', () => {
    fc.assert(fc.property(id, id, id, (x, a, b) => inOpenInterval(x, a, b) === between(x, a, b)));
  });

  it('(a, b] is (a, b) plus b; with a = b it is the whole circle', () => {
    fc.assert(fc.property(id, id, id, (x, a, b) => inHalfOpenInterval(x, a, b) === (x === b || inOpenInterval(x, a, b))));
    fc.assert(fc.property(id, id, (x, a) => inHalfOpenInterval(x, a, a)));
  });

  it('every other point lies in exactly one of (a, b) and (b, a) (a ≠ b, x ∉ {a, b})', () => {
    fc.assert(
      fc.property(id, id, id, (x, a, b) => {
        fc.pre(a !== b && x !== a && x !== b);
        return inOpenInterval(x, a, b) !== inOpenInterval(x, b, a);
      }),
    );
  });

  it('wraps past zero', () => {
    expect(inOpenInterval(5, ringSize - 10, 10)).toBe(true);
    expect(inOpenInterval(ringSize - 5, ringSize - 10, 10)).toBe(true);
    expect(inOpenInterval(20, ringSize - 10, 10)).toBe(false);
    expect(inOpenInterval(7, 7, 7)).toBe(false);
    expect(fingerStart(ringSize - 1, 0)).toBe(0);
    expect(fingerStart(ringSize - 1, 31)).toBe(2 ** 31 - 1);
  });

  it('a normalized successor list is strictly clockwise, without the node itself, at most r long', () => {
    const names = fc.array(fc.constantFrom('n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8'), { maxLength: 10 });
    fc.assert(
      fc.property(fc.constantFrom('n1', 'n2', 'n3'), names, fc.integer({ min: 1, max: 5 }), (self, candidates, max) => {
        const list = normalizeSuccessors(self, candidates, max);
        expect(list.length).toBeLessThanOrEqual(max);
        expect(list).not.toContain(self);
        for (let index = 1; index < list.length; index += 1) expect(clockwise(chordId(self), chordId(list[index]!))).toBeGreaterThan(clockwise(chordId(self), chordId(list[index - 1]!)));
      }),
    );
  });
});

describe('chord message validation', () => {
  it('never throws on arbitrary values, and rejects what is not an object with a known type', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const problem = validateChordMessage(value, config);
        if (typeof value !== 'object' || value === null || Array.isArray(value)) expect(problem).not.toBeNull();
        validateChordRequest(value, config);
      }),
    );
  });

  it('well-typed junk (right type tag, wrong fields) is rejected', () => {
    const junk = fc.record({ type: fc.constantFrom('find', 'found', 'next', 'neighbours', 'put', 'put-done', 'read-done', 'replicate', 'items'), lookup: fc.oneof(fc.double(), fc.string()), op: fc.constant(-1), nonce: fc.string() });
    fc.assert(fc.property(junk, (message) => validateChordMessage(message, config) !== null));
  });

  it('accepts well-formed messages', () => {
    const item = { key: 'k', value: 'v', version: 3 };
    for (const message of [
      { type: 'find', lookup: 1, key: 5, avoid: ['n2'] },
      { type: 'found', lookup: 1, owner: 'n3' },
      { type: 'neighbours', nonce: 2, predecessor: null, successors: ['n1', 'n2'] },
      { type: 'put', op: 1, item },
      { type: 'read-done', op: 1, code: 'ok', item: null },
      { type: 'items', items: [item] },
      { type: 'notify' },
    ]) {
      expect(validateChordMessage(message, config), JSON.stringify(message)).toBeNull();
    }
    expect(validateChordMessage({ type: 'find', lookup: 1, key: ringSize, avoid: [] }, config)).not.toBeNull();
    expect(validateChordRequest({ type: 'put', key: 'k', value: 'v', version: -1 }, config)).not.toBeNull();
  });
});
