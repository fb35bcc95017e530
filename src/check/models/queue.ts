import { combine32 } from '../hash.js';
import type { HistoryModel, RecordedOperation } from '../model.js';
import { NIL, ValueTable } from '../values.js';
import { UNKNOWN, unsupportedOperation } from './common.js';

export const QUEUE_ENQUEUE = 0;
export const QUEUE_DEQUEUE = 1;

export interface QueueInput {
  readonly kind: typeof QUEUE_ENQUEUE | typeof QUEUE_DEQUEUE;
  /** Enqueued value id. */
  readonly value: number;
}

/** FIFO contents (front first) and their hash. */
export interface QueueState {
  readonly items: readonly number[];
  readonly hash: number;
}

const SUPPORTED = ['enqueue', 'dequeue'];
const EMPTY: QueueState = { items: [], hash: 0 };

function queueState(items: readonly number[]): QueueState {
  let hash = items.length;
  for (const item of items) hash = combine32(hash, item);
  return { items, hash };
}

/**
 * A FIFO queue: enqueue(v); dequeue returns the front value, or nil when the queue is empty.
 * Output: the dequeued value id, UNKNOWN when not known.
 */
export function queueModel(): HistoryModel<QueueState, QueueInput, number> & { readonly values: ValueTable } {
  const values = new ValueTable();
  return {
    name: 'queue',
    values,
    init: () => EMPTY,
    step(state, input, output) {
      if (input.kind === QUEUE_ENQUEUE) return queueState([...state.items, input.value]);
      if (state.items.length === 0) return output === UNKNOWN || output === NIL ? state : undefined;
      if (output !== UNKNOWN && output !== state.items[0]) return undefined;
      return queueState(state.items.slice(1));
    },
    equal(a, b) {
      if (a === b) return true;
      if (a.hash !== b.hash || a.items.length !== b.items.length) return false;
      for (let index = 0; index < a.items.length; index++) if (a.items[index] !== b.items[index]) return false;
      return true;
    },
    hash: (state) => state.hash,
    describeOperation: (input, output) =>
      input.kind === QUEUE_ENQUEUE ? `enqueue(${values.describe(input.value)})` : `dequeue() -> ${values.describe(output)}`,
    describeState: (state) => `[${state.items.map((item) => values.describe(item)).join(' ')}]`,
    encode: (operation) => encodeQueue(operation, values),
  };
}

function encodeQueue(operation: RecordedOperation, values: ValueTable): { input: QueueInput; output: number } | undefined {
  switch (operation.f) {
    case 'enqueue':
      if (operation.completion === 'fail') return undefined; // did not happen
      return { input: { kind: QUEUE_ENQUEUE, value: values.intern(operation.argument) }, output: UNKNOWN };
    case 'dequeue':
      if (operation.completion === 'fail') return undefined;
      return { input: { kind: QUEUE_DEQUEUE, value: NIL }, output: operation.completion === 'ok' ? values.intern(operation.result) : UNKNOWN };
    default:
      return unsupportedOperation(operation, 'queue', SUPPORTED);
  }
}
