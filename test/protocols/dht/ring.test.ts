import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isConcordError } from '../../../src/core/errors.js';
import { HashRing } from '../../../src/protocols/dht/index.js';

const names = (count: number): string[] => Array.from({ length: count }, (_, index) => `n${index + 1}`);
const keys = Array.from({ length: 2000 }, (_, index) => `key-${index}`);
const memberSet = fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/), { minLength: 2, maxLength: 12 });

describe('HashRing (consistent hashing)', () => {
  it('spreads the hash space fairly: at 10 nodes every node owns 0.85–1.15 × its share; weights scale it', () => {
    const ring = HashRing.of(names(10));
    const shares = [...ring.ownership().values()];
    expect(shares.reduce((sum, share) => sum + share, 0)).toBeCloseTo(1, 9);
    for (const share of shares) {
      expect(share * 10).toBeGreaterThan(0.85);
      expect(share * 10).toBeLessThan(1.15);
    }
    const weighted = HashRing.of(names(4)).with('big', 4);
    expect(weighted.ownership().get('big')!).toBeGreaterThan(0.45);
  });

  it('property: the layout depends only on the member set, not on the order of changes', () => {
    fc.assert(
      fc.property(memberSet, (members) => {
        const forward = HashRing.of(members, { virtualNodes: 16 });
        const backward = HashRing.of([...members].reverse(), { virtualNodes: 16 }).with('extra').without('extra');
        for (const key of keys.slice(0, 200)) expect(backward.owner(key)).toBe(forward.owner(key));
      }),
      { seed: 5, numRuns: 50 },
    );
  });

  it('property: adding a node moves keys only to it; removing one moves only its keys', () => {
    fc.assert(
      fc.property(memberSet, (members) => {
        const [joining, ...rest] = members;
        const before = HashRing.of(rest, { virtualNodes: 32 });
        const after = before.with(joining!);
        const restored = after.without(joining!);
        let moved = 0;
        for (const key of keys) {
          const old = before.owner(key);
          const now = after.owner(key);
          if (old !== now) {
            expect(now).toBe(joining);
            moved += 1;
          }
          // Removing it again restores every key's owner.
          expect(restored.owner(key)).toBe(old);
        }
        // About 1/N of the keys move (here: never more than three times the fair share).
        expect(moved / keys.length).toBeLessThan(3 / members.length);
      }),
      { seed: 9, numRuns: 40 },
    );
  });

  it('preference lists: distinct nodes, the owner first; when a replica leaves, the next in line takes its place', () => {
    const ring = HashRing.of(names(6));
    for (const key of keys.slice(0, 300)) {
      const list = ring.preferenceList(key, 3);
      expect(new Set(list).size).toBe(3);
      expect(list[0]).toBe(ring.owner(key));
      const shrunk = ring.without(list[0]!).preferenceList(key, 2);
      expect(shrunk).toEqual(list.slice(1));
    }
    expect(HashRing.of(['a', 'b']).preferenceList('k', 5)).toHaveLength(2);
  });

  it('refuses an empty ring lookup and bad arguments with typed errors', () => {
    const expectCode = (action: () => unknown, code: 'UNKNOWN_NODE' | 'INVALID_CONFIG' | 'INVALID_ARGUMENT'): void => {
      try {
        action();
        expect.unreachable();
      } catch (error) {
        expect(isConcordError(error, code)).toBe(true);
      }
    };
    expectCode(() => HashRing.empty().owner('k'), 'UNKNOWN_NODE');
    expectCode(() => HashRing.empty({ virtualNodes: 0 }), 'INVALID_CONFIG');
    expectCode(() => HashRing.empty().with(''), 'INVALID_ARGUMENT');
    expectCode(() => HashRing.empty().with('a', 0), 'INVALID_ARGUMENT');
  });
});
