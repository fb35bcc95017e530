import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/core/history.js';
import {
  checkHistory,
  checkOperations,
  createModel,
  kvModel,
  powerSetModel,
  queueModel,
  registerModel,
  setModel,
  ValueTable,
  type NondeterministicModel,
  type Operation,
} from '../../src/check/index.js';

/** Builds a history from [process, f, argument, start, end, result, completion] rows. */
type Row = [process: number, f: string, argument: unknown, call: number, ret: number, result?: unknown, completion?: 'ok' | 'fail' | 'info', key?: string];
function history(rows: Row[]): HistoryEvent[] {
  const events: { event: HistoryEvent; order: number }[] = [];
  for (const [process, f, argument, call, ret, result, completion = 'ok', key] of rows) {
    const keyed = key === undefined ? {} : { key };
    events.push({ event: { process, type: 'invoke', f, value: argument, time: call, ...keyed }, order: call });
    if (Number.isFinite(ret)) events.push({ event: { process, type: completion, f, value: result ?? null, time: ret, ...keyed }, order: ret });
  }
  return events.sort((a, b) => a.order - b.order).map(({ event }) => event);
}

describe('register model', () => {
  it('a write overlapping two reads: old-then-new is linearizable, new-then-old (in real time) is not', () => {
    // The reads overlap each other: the one that saw the old value can be placed first.
    const ok = history([
      [0, 'write', 7, 0, 50],
      [1, 'read', null, 10, 40, 7],
      [2, 'read', null, 20, 45, null],
    ]);
    expect(checkHistory(registerModel(), ok).result.verdict).toBe('linearizable');
    // The read of the new value returned before the read of the old value began.
    const bad = history([
      [0, 'write', 7, 0, 50],
      [1, 'read', null, 5, 15, 7],
      [2, 'read', null, 20, 45, null],
    ]);
    const { result } = checkHistory(registerModel(), bad);
    expect(result.verdict).toBe('not-linearizable');
    expect(result.failure?.blocking.description).toBe('read() -> nil');
    expect(result.failure?.stateAfterPrefix).toBe('7');
  });

  it('treats operations that touch at equal times as concurrent', () => {
    const touching = history([
      [0, 'write', 1, 0, 10],
      [1, 'read', null, 10, 20, null],
    ]);
    expect(checkHistory(registerModel(), touching).result.verdict).toBe('linearizable');
  });

  it('a failed cas ran and found another value: it is illegal when the register held the expected one', () => {
    const failedWhileEqual = history([
      [0, 'write', 1, 0, 1],
      [1, 'cas', [1, 2], 2, 3, null, 'fail'],
    ]);
    expect(checkHistory(registerModel(), failedWhileEqual).result.verdict).toBe('not-linearizable');
    const failedWhileDifferent = history([
      [0, 'write', 3, 0, 1],
      [1, 'cas', [1, 2], 2, 3, null, 'fail'],
      [2, 'read', null, 4, 5, 3],
    ]);
    expect(checkHistory(registerModel(), failedWhileDifferent).result.verdict).toBe('linearizable');
  });

  it('an info write may take effect at any later time, or never', () => {
    const later = history([
      [0, 'write', 1, 0, 1],
      [1, 'write', 2, 2, 3, null, 'info'],
      [2, 'read', null, 10, 11, 1],
      [2, 'read', null, 12, 13, 2],
    ]);
    expect(checkHistory(registerModel(), later).result.verdict).toBe('linearizable');
    const never = history([
      [0, 'write', 1, 0, 1],
      [1, 'write', 2, 2, 3, null, 'info'],
      [2, 'read', null, 10, 11, 1],
    ]);
    expect(checkHistory(registerModel(), never).result.verdict).toBe('linearizable');
    // But not before it was invoked.
    const early = history([
      [2, 'read', null, 0, 1, 2],
      [1, 'write', 2, 2, 3, null, 'info'],
    ]);
    expect(checkHistory(registerModel(), early).result.verdict).toBe('not-linearizable');
  });

  it('a failed write did not happen; a timed-out read matches anything', () => {
    const events = history([
      [0, 'write', 1, 0, 1, null, 'fail'],
      [1, 'read', null, 2, 3, null],
      [1, 'read', null, 4, 5, null, 'fail'],
    ]);
    const { result, operations } = checkHistory(registerModel(), events);
    expect(result.verdict).toBe('linearizable');
    expect(operations).toHaveLength(2);
    expect(result.partitions[0]!.skippedNoops).toBe(1);
  });

  it('keys are independent registers', () => {
    const events = history([
      [0, 'write', 1, 0, 1, null, 'ok', 'a'],
      [1, 'read', null, 2, 3, null, 'ok', 'b'],
      [1, 'read', null, 4, 5, 1, 'ok', 'a'],
    ]);
    const { result } = checkHistory(registerModel(), events);
    expect(result.verdict).toBe('linearizable');
    expect(result.partitions.map((partition) => partition.label)).toEqual(['key "a"', 'key "b"']);
  });

  it('rejects an operation the model does not know, naming where it was', () => {
    expect(() => checkHistory(registerModel(), history([[0, 'enqueue', 1, 0, 1]]), { pairing: { file: 'h.jsonl', lines: [4, 5] } })).toThrow(
      /^h\.jsonl:4: expected one of the register model's operations/,
    );
    expect(() => checkHistory(registerModel(), history([[0, 'cas', 1, 0, 1]]))).toThrow(/expected a cas argument \[expected, new\]/);
  });
});

describe('kv model', () => {
  const ops: Row[] = [
    [0, 'put', 'a', 0, 10, null, 'ok', 'x'],
    [1, 'append', 'b', 1, 11, null, 'ok', 'x'],
    [2, 'append', 'c', 2, 12, null, 'ok', 'y'],
    [3, 'get', null, 13, 14, 'ab', 'ok', 'x'],
    [3, 'get', null, 15, 16, 'c', 'ok', 'y'],
    [4, 'delete', null, 17, 18, null, 'ok', 'x'],
    [4, 'get', null, 19, 20, null, 'ok', 'x'],
    [5, 'cas', ['c', 'd'], 21, 22, null, 'ok', 'y'],
    [5, 'cas', ['c', 'e'], 23, 24, null, 'fail', 'y'],
    [5, 'get', null, 25, 26, 'd', 'ok', 'y'],
  ];

  for (const partitionByKey of [true, false]) {
    it(`get / put / append / delete / cas (${partitionByKey ? 'per-key partitions' : 'one map'})`, () => {
      expect(checkHistory(kvModel({ partitionByKey }), history(ops)).result.verdict).toBe('linearizable');
      const stale: Row[] = [...ops, [6, 'get', null, 27, 28, 'ab', 'ok', 'x']];
      const { result } = checkHistory(kvModel({ partitionByKey }), history(stale));
      expect(result.verdict).toBe('not-linearizable');
      expect(result.failure?.blocking.description).toBe('get("x") -> "ab"');
      expect(result.failure?.stateAfterPrefix).toBe(partitionByKey ? 'nil' : '{"y": "d"}');
    });
  }

  it('appends to the initial value', () => {
    const events = history([
      [0, 'append', 'x', 0, 1, null, 'ok', 'k'],
      [0, 'get', null, 2, 3, '-x', 'ok', 'k'],
    ]);
    expect(checkHistory(kvModel({ initial: '-' }), events).result.verdict).toBe('linearizable');
    expect(checkHistory(kvModel(), events).result.verdict).toBe('not-linearizable');
  });

  it('concurrent appends in either order', () => {
    const events = history([
      [0, 'append', '1', 0, 10, null, 'ok', 'k'],
      [1, 'append', '2', 0, 10, null, 'ok', 'k'],
      [2, 'get', null, 11, 12, '21', 'ok', 'k'],
    ]);
    expect(checkHistory(kvModel(), events).result.verdict).toBe('linearizable');
    const impossible = history([
      [0, 'append', '1', 0, 10, null, 'ok', 'k'],
      [1, 'append', '2', 0, 10, null, 'ok', 'k'],
      [2, 'get', null, 11, 12, '12', 'ok', 'k'],
      [2, 'get', null, 13, 14, '21', 'ok', 'k'],
    ]);
    expect(checkHistory(kvModel(), impossible).result.verdict).toBe('not-linearizable');
  });
});

describe('value table', () => {
  it('gives equal strings one id however they were built', () => {
    const values = new ValueTable();
    const ab = values.internString('ab');
    const a = values.internString('a');
    const b = values.internString('b');
    expect(values.concat(a, b)).toBe(ab);
    const abc = values.concat(values.concat(a, b), values.internString('c'));
    expect(values.concat(a, values.internString('bc'))).toBe(abc);
    expect(values.internString('abc')).toBe(abc);
    expect(values.value(abc)).toBe('abc');
    expect(values.concat(values.internString(''), a)).toBe(a);
    expect(values.concat(0, a)).toBe(a);
  });

  it('distinguishes numbers, strings, nil and structured values', () => {
    const values = new ValueTable();
    expect(values.intern(null)).toBe(0);
    expect(values.intern(1)).not.toBe(values.intern('1'));
    expect(values.intern({ b: 1, a: [2] })).toBe(values.intern({ a: [2], b: 1 }));
    expect(values.describe(values.intern('x'))).toBe('"x"');
    expect(values.describe(values.intern(7))).toBe('7');
  });

  it('never merges different strings with a colliding signature (many random concatenations)', () => {
    const values = new ValueTable();
    const byText = new Map<string, number>();
    const parts = ['a', 'b', 'ab', 'ba', '', 'x y'].map((text) => values.internString(text));
    let seed = 7;
    const random = (limit: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % limit;
    const pool = [...parts];
    for (let round = 0; round < 5000; round++) {
      const id = values.concat(pool[random(pool.length)]!, parts[random(parts.length)]!);
      const text = values.value(id) as string;
      const known = byText.get(text);
      if (known !== undefined) expect(id).toBe(known);
      byText.set(text, id);
      if (pool.length < 200) pool.push(id);
    }
    expect(new Set(byText.values()).size).toBe(byText.size);
  });
});

describe('set and queue models', () => {
  it('set: a read concurrent with two adds may see any subset of them; a later read sees both, once each', () => {
    const events = (during: unknown, after: unknown) =>
      history([
        [0, 'add', 'a', 0, 20],
        [1, 'add', 'b', 5, 15],
        [2, 'read', null, 6, 12, during],
        [2, 'read', null, 30, 31, after],
      ]);
    for (const during of [[], ['a'], ['b'], ['b', 'a']]) expect(checkHistory(setModel(), events(during, ['a', 'b'])).result.verdict).toBe('linearizable');
    expect(checkHistory(setModel(), events(['a'], ['a'])).result.verdict).toBe('not-linearizable');
    expect(checkHistory(setModel(), events(['a', 'a'], ['a', 'b'])).result.verdict).toBe('not-linearizable');
    expect(checkHistory(setModel(), events(['c'], ['a', 'b'])).result.verdict).toBe('not-linearizable');
  });

  it('set: remove', () => {
    const events = history([
      [0, 'add', 1, 0, 1],
      [0, 'remove', 1, 2, 3],
      [0, 'read', null, 4, 5, []],
    ]);
    expect(checkHistory(setModel(), events).result.verdict).toBe('linearizable');
  });

  it('queue: FIFO order, nil from an empty queue', () => {
    const fifo = history([
      [0, 'enqueue', 1, 0, 1],
      [0, 'enqueue', 2, 2, 3],
      [1, 'dequeue', null, 4, 5, 1],
      [1, 'dequeue', null, 6, 7, 2],
      [1, 'dequeue', null, 8, 9, null],
    ]);
    expect(checkHistory(queueModel(), fifo).result.verdict).toBe('linearizable');
    const lifo = history([
      [0, 'enqueue', 1, 0, 1],
      [0, 'enqueue', 2, 2, 3],
      [1, 'dequeue', null, 4, 5, 2],
    ]);
    expect(checkHistory(queueModel(), lifo).result.verdict).toBe('not-linearizable');
    const concurrent = history([
      [0, 'enqueue', 1, 0, 10],
      [1, 'enqueue', 2, 0, 10],
      [2, 'dequeue', null, 11, 12, 2],
    ]);
    expect(checkHistory(queueModel(), concurrent).result.verdict).toBe('linearizable');
  });

  it('createModel knows every model by name', () => {
    for (const name of ['register', 'kv', 'set', 'queue'] as const) expect(createModel(name).name).toBe(name);
    expect(() => createModel('stack' as never)).toThrow(/unknown model/);
  });
});

describe('nondeterministic models (power-set construction)', () => {
  // A register behind a lossy link: `send(v)` either stores v or is lost (the state stays);
  // `read` returns the state. Nondeterministic: one send leads to two possible states.
  type Input = { readonly op: 'send' | 'read'; readonly value: number };
  const model: NondeterministicModel<number, Input, number> = {
    name: 'lossy register',
    init: () => [0],
    step: (state, input, output) => (input.op === 'send' ? [state, input.value] : output === state ? [state] : []),
    equal: (a, b) => a === b,
    hash: (state) => state,
    describeOperation: (input, output) => (input.op === 'send' ? `send(${input.value})` : `read() -> ${output}`),
    describeState: (state) => String(state),
  };
  const send = (id: number, call: number, ret: number, value: number): Operation<Input, number> => ({ id, process: id, call, return: ret, input: { op: 'send', value }, output: 0 });
  const read = (id: number, call: number, ret: number, value: number): Operation<Input, number> => ({ id, process: id, call, return: ret, input: { op: 'read', value: 0 }, output: value });

  it('is linearizable when some choice of lost sends explains the reads', () => {
    // send(1) then send(2), both before the reads: 2 was lost, 1 arrived.
    const operations = [send(0, 0, 1, 1), send(1, 2, 3, 2), read(2, 4, 5, 1), read(3, 6, 7, 1)];
    expect(checkOperations(powerSetModel(model), operations).verdict).toBe('linearizable');
    expect(checkOperations(powerSetModel(model), [send(0, 0, 1, 1), read(1, 2, 3, 0)]).verdict).toBe('linearizable');
  });

  it('is not linearizable when no choice does: the value cannot go back after the sends are done', () => {
    const operations = [send(0, 0, 1, 1), send(1, 2, 3, 2), read(2, 4, 5, 2), read(3, 6, 7, 1)];
    const result = checkOperations(powerSetModel(model), operations);
    expect(result.verdict).toBe('not-linearizable');
    expect(result.failure?.blocking.description).toBe('read() -> 1');
  });

  it('describes and compares sets of states', () => {
    const adapted = powerSetModel(model);
    const state = adapted.step(adapted.step(adapted.init(), { op: 'send', value: 1 }, 0)!, { op: 'send', value: 2 }, 0);
    expect(state?.states).toHaveLength(3);
    expect(adapted.describeState(state!)).toMatch(/^one of \{/);
    const otherOrder = adapted.step(adapted.step(adapted.init(), { op: 'send', value: 2 }, 0)!, { op: 'send', value: 1 }, 0)!;
    expect(adapted.equal(state!, otherOrder)).toBe(true);
    expect(adapted.step(state!, { op: 'read', value: 0 }, 3)).toBeUndefined();
  });
});

describe('budgets and explanations', () => {
  it('returns unknown when the time budget is spent', () => {
    let clock = 0;
    // A clock that advances 1 ms per reading: a 0 ms budget is exhausted at the first poll.
    const events = history(Array.from({ length: 40 }, (_, index): Row => [index, 'write', index, 0, 100]).concat([[99, 'read', null, 101, 102, 12345]]));
    const result = checkHistory(registerModel(), events, { timeoutMs: 0, now: () => clock++ }).result;
    expect(result.verdict).toBe('unknown');
    expect(result.reason).toMatch(/time budget/);
  });

  it('returns unknown when the cache bound is reached', () => {
    const events = history(Array.from({ length: 12 }, (_, index): Row => [index, 'write', index, 0, 100]).concat([[99, 'read', null, 101, 102, 12345]]));
    const result = checkHistory(registerModel(), events, { maxCacheEntries: 1024 }).result;
    expect(result.verdict).toBe('unknown');
    expect(result.reason).toMatch(/cache is full/);
  });

  it('explains a failure: the prefix, the state after it, the blocked operation and the candidates', () => {
    const events = history([
      [0, 'write', 1, 0, 1],
      [1, 'write', 2, 2, 10],
      [2, 'read', null, 3, 4, 3],
    ]);
    const { failure } = checkHistory(registerModel(), events).result;
    expect(failure).toBeDefined();
    expect(failure!.prefix.map((operation) => operation.description)).toEqual(['write(1)', 'write(2)']);
    expect(failure!.blocking).toMatchObject({ process: 2, description: 'read() -> 3', return: 4 });
    expect(failure!.candidates.map((candidate) => [candidate.operation.description, candidate.outcome])).toEqual([['read() -> 3', 'illegal']]);
    expect(failure!.message).toMatch(/cannot be linearized/);
  });
});
