import { describe, expect, it } from 'vitest';
import { CausalDeliveryChecker, type Delivery } from '../../src/check/causal-delivery.js';

const d = (origin: string, seq: number, payload = `${origin}${seq}`): Delivery => ({ origin, seq, payload });
const same = (delivery: Delivery): Delivery => delivery;

function check(logs: Record<string, Delivery[]>, checker = new CausalDeliveryChecker()): string[] {
  return checker.update(new Map(Object.entries(logs)), same).map((violation) => `${violation.property} at ${violation.node}`);
}

describe('CausalDeliveryChecker', () => {
  it('accepts deliveries that respect causality (concurrent messages in either order)', () => {
    // a1 ‖ b1; c1 was sent after c delivered a1, so everyone needs a1 before c1.
    expect(check({
      a: [d('a', 1), d('b', 1), d('c', 1)],
      b: [d('b', 1), d('a', 1), d('c', 1)],
      c: [d('a', 1), d('c', 1), d('b', 1)],
    })).toEqual([]);
  });

  it('reports a delivery before its causal past, even when the past is transitive', () => {
    // b delivered a1 then broadcast b1; c delivered b1 then broadcast c1; d delivers c1 with nothing.
    expect(check({ a: [d('a', 1)], b: [d('a', 1), d('b', 1)], c: [d('a', 1), d('b', 1), d('c', 1)], d: [d('c', 1)] })).toEqual(['causal at d']);
  });

  it('reports out-of-order, duplicate and never-broadcast deliveries', () => {
    expect(check({ a: [d('a', 1), d('a', 2)], b: [d('a', 2)] })).toEqual(['fifo at b']);
    expect(check({ a: [d('a', 1)], b: [d('a', 1), d('a', 1)] })).toEqual(['fifo at b']);
    expect(check({ a: [d('a', 1)], b: [d('a', 1, 'forged')] })).toEqual(['validity at b']);
    expect(check({ a: [], b: [d('a', 1)] })).toEqual(['validity at b']);
  });

  it('checks only what is new, and re-reads a log that a crash shortened', () => {
    const checker = new CausalDeliveryChecker();
    const a = [d('a', 1), d('a', 2)];
    const b = [d('a', 1)];
    expect(check({ a, b }, checker)).toEqual([]);
    // a lost its unsynced a2 and broadcast a different a2; b delivers the new one.
    a.length = 1;
    expect(check({ a, b }, checker)).toEqual([]); // the checker runs after the crash event too
    a.push(d('a', 2, 'second try'));
    b.push(d('a', 2, 'second try'));
    expect(check({ a, b }, checker)).toEqual([]);
  });
});
