import { mix32 } from '../hash.js';
import { partitionBy, type HistoryModel, type Model, type Operation, type Partition, type RecordedOperation } from '../model.js';
import { NIL, ValueTable } from '../values.js';
import { CAS_FAILED, UNKNOWN, casArguments, casOutput, casStep, describeCasOutput, readMatches, resultUnknown, unsupportedOperation } from './common.js';

export const KV_GET = 0;
export const KV_PUT = 1;
export const KV_APPEND = 2;
export const KV_DELETE = 3;
export const KV_CAS = 4;

/** A key-value operation; keys and values are interned ids. */
export interface KvInput {
  readonly kind: typeof KV_GET | typeof KV_PUT | typeof KV_APPEND | typeof KV_DELETE | typeof KV_CAS;
  /** Key id: the key's slot in the state. */
  readonly key: number;
  /** Put / append value id, or the cas's expected value id. */
  readonly a: number;
  /** The cas's new value id. */
  readonly b: number;
}

/**
 * The whole map's state: an immutable array with one interned value id per key (slots 0 … K−1)
 * and, in slot K, the XOR of `slotHash(key, value)` over all keys, maintained incrementally by
 * `step`. Equal maps have equal arrays, so hashing is O(1) and equality a short integer loop.
 */
export type KvState = readonly number[];

export interface KvModelOptions {
  /** Every key's initial value: nil (absent) by default; Jepsen's KV tests use "". */
  readonly initial?: string | null;
  /** Check each key independently (P-compositionality); default true. */
  readonly partitionByKey?: boolean;
}

const SUPPORTED = ['get', 'put', 'append', 'delete', 'cas'];

function slotHash(key: number, value: number): number {
  return mix32(Math.imul(key + 1, 0x9e3779b1) ^ Math.imul(value + 1, 0x85ebca77));
}

type KvModel = HistoryModel<KvState, KvInput, number> & { readonly values: ValueTable; readonly keys: readonly string[] };

/**
 * A map from string keys to values: get, put, append (string concatenation; absent counts as ""),
 * delete, cas. Values are interned and appends hash-consed (see `ValueTable.concat`), so a step
 * costs an array copy and a few integer operations. Partitioned by key, each key is checked with a
 * model whose state is that key's value id alone.
 */
export function kvModel(options: KvModelOptions = {}): KvModel {
  const values = new ValueTable();
  const initial = values.intern(options.initial ?? null);
  const keys: string[] = [];
  const keyIds = new Map<string, number>();
  const singleKey = singleKeyModel(values, keys, initial);
  const model: KvModel & { partition?: KvModel['partition'] } = {
    name: 'kv',
    values,
    keys,
    init() {
      const state = new Array<number>(keys.length + 1).fill(initial);
      let hash = 0;
      for (let key = 0; key < keys.length; key++) hash ^= slotHash(key, initial);
      state[keys.length] = hash;
      return state;
    },
    step(state, input, output) {
      const current = state[input.key]!;
      switch (input.kind) {
        case KV_GET:
          return readMatches(current, output) ? state : undefined;
        case KV_PUT:
          return withValue(state, input.key, input.a);
        case KV_APPEND:
          return withValue(state, input.key, values.concat(current, input.a));
        case KV_DELETE:
          return withValue(state, input.key, NIL);
        default: {
          const next = casStep(current, input.a, input.b, output);
          return next === undefined ? undefined : withValue(state, input.key, next);
        }
      }
    },
    equal(a, b) {
      if (a === b) return true;
      for (let index = a.length - 1; index >= 0; index--) if (a[index] !== b[index]) return false;
      return true;
    },
    hash: (state) => state[state.length - 1]!,
    isNoop: (input, output) => input.kind === KV_GET && output === UNKNOWN,
    readOnly: (input, output) => input.kind === KV_GET || (input.kind === KV_CAS && output === CAS_FAILED),
    describeOperation: (input, output) => describeKv(input, output, keys, values),
    describeState(state) {
      const entries = keys.map((key, id) => `${JSON.stringify(key)}: ${values.describe(state[id]!)}`).filter((_, id) => state[id] !== initial);
      return `{${entries.join(', ')}}`;
    },
    encode: (operation) => encodeKv(operation, values, internKey),
  };
  if (options.partitionByKey !== false) {
    model.partition = (operations: readonly Operation<KvInput, number>[]): Partition<KvInput, number>[] =>
      partitionBy(operations, (operation) => keys[operation.input.key]!).map((partition) => ({ ...partition, model: singleKey as Model<unknown, KvInput, number> }));
  }
  return model;

  function internKey(key: string): number {
    let id = keyIds.get(key);
    if (id === undefined) {
      id = keys.length;
      keys.push(key);
      keyIds.set(key, id);
    }
    return id;
  }
}

/** The model of one key's partition: the state is that key's value id. */
function singleKeyModel(values: ValueTable, keys: readonly string[], initial: number): Model<number, KvInput, number> {
  return {
    name: 'kv (one key)',
    init: () => initial,
    step(state, input, output) {
      switch (input.kind) {
        case KV_GET:
          return readMatches(state, output) ? state : undefined;
        case KV_PUT:
          return input.a;
        case KV_APPEND:
          return values.concat(state, input.a);
        case KV_DELETE:
          return NIL;
        default:
          return casStep(state, input.a, input.b, output);
      }
    },
    equal: (a, b) => a === b,
    hash: (state) => state,
    intStates: true,
    isNoop: (input, output) => input.kind === KV_GET && output === UNKNOWN,
    readOnly: (input, output) => input.kind === KV_GET || (input.kind === KV_CAS && output === CAS_FAILED),
    describeOperation: (input, output) => describeKv(input, output, keys, values),
    describeState: (state) => values.describe(state),
  };
}

function withValue(state: KvState, key: number, value: number): KvState {
  const old = state[key]!;
  if (old === value) return state;
  const next = state.slice();
  next[key] = value;
  const hashSlot = next.length - 1;
  next[hashSlot] = next[hashSlot]! ^ slotHash(key, old) ^ slotHash(key, value);
  return next;
}

function encodeKv(operation: RecordedOperation, values: ValueTable, internKey: (key: string) => number): { input: KvInput; output: number } | undefined {
  if (!SUPPORTED.includes(operation.f) && operation.f !== 'read' && operation.f !== 'write') return unsupportedOperation(operation, 'kv', SUPPORTED);
  const key = internKey(operation.key ?? '');
  const unknown = resultUnknown(operation);
  switch (operation.f) {
    case 'get':
    case 'read':
      // A failed read did not happen or timed out: either way it matches every state.
      return { input: { kind: KV_GET, key, a: NIL, b: NIL }, output: operation.completion === 'ok' ? values.intern(operation.result) : UNKNOWN };
    case 'put':
    case 'write':
    case 'append':
      if (operation.completion === 'fail') return undefined; // did not happen
      return { input: { kind: operation.f === 'append' ? KV_APPEND : KV_PUT, key, a: values.intern(operation.argument), b: NIL }, output: unknown ? UNKNOWN : 0 };
    case 'delete':
      if (operation.completion === 'fail') return undefined;
      return { input: { kind: KV_DELETE, key, a: NIL, b: NIL }, output: unknown ? UNKNOWN : 0 };
    default: {
      const [expected, replacement] = casArguments(operation);
      return { input: { kind: KV_CAS, key, a: values.intern(expected), b: values.intern(replacement) }, output: casOutput(operation) };
    }
  }
}

function describeKv(input: KvInput, output: number, keys: readonly string[], values: ValueTable): string {
  const key = JSON.stringify(keys[input.key]);
  switch (input.kind) {
    case KV_GET:
      return `get(${key}) -> ${values.describe(output)}`;
    case KV_PUT:
      return `put(${key}, ${values.describe(input.a)})`;
    case KV_APPEND:
      return `append(${key}, ${values.describe(input.a)})`;
    case KV_DELETE:
      return `delete(${key})`;
    default:
      return `cas(${key}, ${values.describe(input.a)}, ${values.describe(input.b)}) -> ${describeCasOutput(output)}`;
  }
}
