import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/core/history.js';
import { checkOperations, createModel, encodeHistory, type Model, type ModelName, type Operation } from '../../src/check/index.js';

// Differential testing against the definition: a history is linearizable iff some total order of
// all its operations respects real time (a before b when a returned before b was invoked) and is
// a legal sequential run of the model. For small histories we enumerate every such order.

function bruteForce<State, Input, Output>(model: Model<State, Input, Output>, operations: readonly Operation<Input, Output>[]): boolean {
  const used = new Array<boolean>(operations.length).fill(false);
  const extend = (state: State, placed: number): boolean => {
    if (placed === operations.length) return true;
    for (let index = 0; index < operations.length; index++) {
      if (used[index]) continue;
      const operation = operations[index]!;
      // Every operation that returned before this one was invoked must already be placed.
      if (operations.some((other, at) => !used[at] && at !== index && other.return < operation.call)) continue;
      const next = model.step(state, operation.input, operation.output);
      if (next === undefined) continue;
      used[index] = true;
      const found = extend(next, placed + 1);
      used[index] = false;
      if (found) return true;
    }
    return false;
  };
  return extend(model.init(), 0);
}

/** A small random history: overlapping operations with random (often impossible) results. */
function randomHistory(name: ModelName, script: readonly (readonly [number, number, number])[]): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const open = new Map<number, HistoryEvent>();
  const values = [null, 1, 2, 3];
  for (const [process, choice, value] of script) {
    const invocation = open.get(process);
    const time = events.length;
    if (invocation === undefined) {
      const event = invoke(name, process, choice, values[value % values.length], time);
      open.set(process, event);
      events.push(event);
      continue;
    }
    open.delete(process);
    const type = choice % 9 === 0 ? 'info' : choice % 5 === 0 && invocation.f === 'cas' ? 'fail' : 'ok';
    const result =
      name === 'set' && invocation.f === 'read'
        ? values.filter((_, bit) => (value >> bit) & 1)
        : invocation.f === 'read' || invocation.f === 'get' || invocation.f === 'dequeue'
          ? values[value % values.length]
          : null;
    events.push({ process, type, f: invocation.f, ...(invocation.key !== undefined ? { key: invocation.key } : {}), value: type === 'info' ? null : result, time });
  }
  return events;
}

function invoke(name: ModelName, process: number, choice: number, value: unknown, time: number): HistoryEvent {
  switch (name) {
    case 'register': {
      const f = ['read', 'write', 'cas'][choice % 3]!;
      return { process, type: 'invoke', f, value: f === 'read' ? null : f === 'write' ? value : [value, (choice % 4) + 1], time };
    }
    case 'kv': {
      const f = ['get', 'put', 'append', 'delete'][choice % 4]!;
      return { process, type: 'invoke', f, key: choice % 7 < 4 ? 'a' : 'b', value: f === 'put' || f === 'append' ? String(value) : null, time };
    }
    case 'set': {
      const f = ['add', 'remove', 'read'][choice % 3]!;
      return { process, type: 'invoke', f, value: f === 'read' ? null : value, time };
    }
    default: {
      const f = choice % 2 === 0 ? 'enqueue' : 'dequeue';
      return { process, type: 'invoke', f, value: f === 'enqueue' ? value : null, time };
    }
  }
}

const scriptArbitrary = fc.array(fc.tuple(fc.nat(3), fc.nat(1000), fc.nat(1000)), { minLength: 1, maxLength: 14 });

describe('the checker agrees with brute force on small random histories', () => {
  for (const name of ['register', 'kv', 'queue', 'set'] as const) {
    for (const [partition, prescan] of [
      [true, 'adaptive'],
      [false, 'always'],
      [true, 'never'],
    ] as const) {
      it(`${name}${partition ? '' : ', no partitioning'}, read-only pre-scan ${prescan}`, () => {
        let linearizable = 0;
        let total = 0;
        fc.assert(
          fc.property(scriptArbitrary, (script) => {
            const model = createModel(name);
            const { operations } = encodeHistory(model, randomHistory(name, script));
            fc.pre(operations.length <= 7);
            const expected = bruteForce(model, operations);
            const result = checkOperations(model, operations, { partition, prescan });
            expect(result.verdict).toBe(expected ? 'linearizable' : 'not-linearizable');
            total++;
            if (expected) linearizable++;
          }),
          { numRuns: Number(process.env['CONCORD_ORACLE_RUNS'] ?? 400) },
        );
        // Both verdicts are exercised.
        expect(linearizable).toBeGreaterThan(total / 10);
        expect(linearizable).toBeLessThan(total);
      });
    }
  }
});

describe('regressions found by the oracle', () => {
  it('queue: a dequeue returning nil may remove an enqueued nil (not read-only then)', () => {
    // Counterexample [[2,301,0],[0,0,0],[2,1,0],[0,64,0],[3,33,0],[0,0,219],[3,64,547],[0,0,0]].
    const events: HistoryEvent[] = [
      { process: 2, type: 'invoke', f: 'dequeue', value: null, time: 0 },
      { process: 0, type: 'invoke', f: 'enqueue', value: null, time: 1 },
      { process: 2, type: 'ok', f: 'dequeue', value: null, time: 2 },
      { process: 0, type: 'ok', f: 'enqueue', value: null, time: 3 },
      { process: 3, type: 'invoke', f: 'dequeue', value: null, time: 4 },
      { process: 0, type: 'invoke', f: 'enqueue', value: 3, time: 5 },
      { process: 3, type: 'ok', f: 'dequeue', value: 3, time: 6 },
      { process: 0, type: 'ok', f: 'enqueue', value: null, time: 7 },
    ];
    const model = createModel('queue');
    const { operations } = encodeHistory(model, events);
    expect(bruteForce(model, operations)).toBe(true);
    expect(checkOperations(model, operations).verdict).toBe('linearizable');
  });
});
