import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../src/sim/event-queue.js';

type Operation = { push: number } | { pop: true };

describe('EventQueue', () => {
  it('pops in (time, push order) order under any interleaving of pushes and pops', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.record({ push: fc.integer({ min: 0, max: 20 }) }), fc.constant({ pop: true as const })), { maxLength: 400 }),
        fc.integer({ min: 1, max: 8 }),
        (operations: Operation[], initialCapacity) => {
          const queue = new EventQueue(initialCapacity);
          const reference: { time: number; id: number }[] = [];
          let nextId = 0;
          for (const operation of operations) {
            if ('push' in operation) {
              queue.push(operation.push, 1, nextId, 0, 0, `event-${nextId}`);
              reference.push({ time: operation.push, id: nextId });
              nextId += 1;
            } else {
              const slot = queue.pop();
              if (reference.length === 0) {
                expect(slot).toBe(-1);
                continue;
              }
              // The reference: earliest time, then earliest push (ids grow with pushes).
              let best = 0;
              for (let index = 1; index < reference.length; index += 1) {
                const candidate = reference[index]!;
                const current = reference[best]!;
                if (candidate.time < current.time || (candidate.time === current.time && candidate.id < current.id)) best = index;
              }
              const expected = reference.splice(best, 1)[0]!;
              expect([queue.time[slot], queue.node[slot], queue.payload[slot]]).toEqual([expected.time, expected.id, `event-${expected.id}`]);
              queue.release(slot);
            }
            expect(queue.size).toBe(reference.length);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps every field of an event and grows past its initial capacity', () => {
    const queue = new EventQueue(2);
    for (let index = 0; index < 1000; index += 1) queue.push(1000 - index, index % 7, index, 5 - index, index * 0.5, { index });
    expect(queue.size).toBe(1000);
    expect(queue.peekTime()).toBe(1);
    let previous = -Infinity;
    for (let count = 0; count < 1000; count += 1) {
      const slot = queue.pop();
      const index = queue.node[slot]!;
      expect(queue.time[slot]).toBe(1000 - index);
      expect(queue.time[slot]!).toBeGreaterThanOrEqual(previous);
      expect([queue.kind[slot], queue.aux[slot], queue.aux2[slot], queue.payload[slot]]).toEqual([index % 7, 5 - index, index * 0.5, { index }]);
      previous = queue.time[slot]!;
      queue.release(slot);
    }
    expect(queue.pop()).toBe(-1);
    expect(queue.peekTime()).toBe(Infinity);
  });

  it('refuses to grow past capacityMax', () => {
    const queue = new EventQueue(2, 4);
    for (let index = 0; index < 4; index += 1) queue.push(index, 0, 0, 0, 0, null);
    expect(() => queue.push(5, 0, 0, 0, 0, null)).toThrow(/event queue full/);
  });
});
