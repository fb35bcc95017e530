import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareVectors, lamportReceive, lamportTick, vectorGet, vectorLeq, vectorMerge, vectorTick, type VectorClock,
} from '../../src/core/clocks.js';

const nodes = ['a', 'b', 'c'];
const vector: fc.Arbitrary<VectorClock> = fc.dictionary(fc.constantFrom(...nodes), fc.nat({ max: 5 }), { maxKeys: 3 });

/**
 * A random execution: each step is a local event or a send at one node, or a receive of an
 * earlier send. Returns every event's vector time and its true causal past (event indices), from
 * the execution itself, not from the clocks.
 */
type Step = { kind: 'local'; node: number } | { kind: 'receive'; node: number; message: number };
const steps = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('local' as const), node: fc.nat({ max: 2 }) }),
    fc.record({ kind: fc.constant('receive' as const), node: fc.nat({ max: 2 }), message: fc.nat() }),
  ),
  { maxLength: 40 },
);

function execute(script: readonly Step[]): { times: VectorClock[]; past: Set<number>[] } {
  const clocks: VectorClock[] = nodes.map(() => ({}));
  const lastEvent: (number | null)[] = nodes.map(() => null);
  const times: VectorClock[] = [];
  const past: Set<number>[] = [];
  for (const step of script) {
    const node = nodes[step.node]!;
    const own = lastEvent[step.node];
    const causes = new Set<number>(own === null ? [] : [own, ...past[own]!]);
    let clock = clocks[step.node]!;
    if (step.kind === 'receive' && times.length > 0) {
      const sent = step.message % times.length;
      clock = vectorMerge(clock, times[sent]!);
      causes.add(sent);
      for (const cause of past[sent]!) causes.add(cause);
    }
    clock = vectorTick(clock, node);
    clocks[step.node] = clock;
    lastEvent[step.node] = times.length;
    times.push(clock);
    past.push(causes);
  }
  return { times, past };
}

describe('Lamport clocks', () => {
  it('tick and receive move forward and past what was received', () => {
    expect(lamportTick(4)).toBe(5);
    expect(lamportReceive(4, 9)).toBe(10);
    expect(lamportReceive(9, 4)).toBe(10);
  });
});

describe('vector clocks', () => {
  it('compare, tick and merge on examples; missing entries count as 0', () => {
    expect(compareVectors({ a: 1 }, { a: 1, b: 0 })).toBe('equal');
    expect(compareVectors({ a: 1 }, { a: 2 })).toBe('before');
    expect(compareVectors({ a: 2, b: 1 }, { a: 1 })).toBe('after');
    expect(compareVectors({ a: 1 }, { b: 1 })).toBe('concurrent');
    expect(vectorTick({ a: 1 }, 'b')).toEqual({ a: 1, b: 1 });
    expect(vectorMerge({ a: 3, b: 1 }, { b: 2, c: 1 })).toEqual({ a: 3, b: 2, c: 1 });
    expect(vectorGet({}, 'z')).toBe(0);
  });

  it('property: the comparison is a partial order, and merge is its least upper bound', () => {
    fc.assert(
      fc.property(vector, vector, vector, (a, b, c) => {
        expect(compareVectors(a, a)).toBe('equal');
        const flipped = { before: 'after', after: 'before', equal: 'equal', concurrent: 'concurrent' } as const;
        expect(compareVectors(b, a)).toBe(flipped[compareVectors(a, b)]);
        if (vectorLeq(a, b) && vectorLeq(b, c)) expect(vectorLeq(a, c)).toBe(true);
        const join = vectorMerge(a, b);
        expect(vectorLeq(a, join) && vectorLeq(b, join)).toBe(true);
        if (vectorLeq(a, c) && vectorLeq(b, c)) expect(vectorLeq(join, c)).toBe(true);
        expect(compareVectors(vectorMerge(a, b), vectorMerge(b, a))).toBe('equal');
      }),
      { seed: 7, numRuns: 500 },
    );
  });

  it('property: in any execution, e happened before f exactly when V(e) < V(f) (Fidge/Mattern)', () => {
    fc.assert(
      fc.property(steps, (script) => {
        const { times, past } = execute(script);
        for (let f = 0; f < times.length; f += 1) {
          for (let e = 0; e < times.length; e += 1) {
            if (e === f) continue;
            expect(compareVectors(times[e]!, times[f]!) === 'before', `event ${e} vs ${f}`).toBe(past[f]!.has(e));
          }
        }
      }),
      { seed: 11, numRuns: 300 },
    );
  });
});
