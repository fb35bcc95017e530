import { malformedInput } from '../malformed.js';
import { mix32 } from '../hash.js';
import type { HistoryModel, RecordedOperation } from '../model.js';
import { ValueTable } from '../values.js';
import { UNKNOWN, unsupportedOperation } from './common.js';

export const SET_ADD = 0;
export const SET_REMOVE = 1;
export const SET_READ = 2;

export interface SetInput {
  readonly kind: typeof SET_ADD | typeof SET_REMOVE | typeof SET_READ;
  /** Element id for add / remove. */
  readonly element: number;
}

/** A read's output: the sorted element ids read, or UNKNOWN. Adds and removes ignore it. */
export type SetOutput = readonly number[] | typeof UNKNOWN;

/** Sorted element ids and the XOR of their mixed ids (an order-independent hash kept incrementally). */
export interface SetState {
  readonly elements: readonly number[];
  readonly hash: number;
}

const SUPPORTED = ['add', 'remove', 'read'];
const EMPTY: SetState = { elements: [], hash: 0 };

/** A set (Knossos' set): add, remove, and read of the whole set. */
export function setModel(): HistoryModel<SetState, SetInput, SetOutput> & { readonly values: ValueTable } {
  const values = new ValueTable();
  return {
    name: 'set',
    values,
    init: () => EMPTY,
    step(state, input, output) {
      switch (input.kind) {
        case SET_ADD:
          return withElement(state, input.element, true);
        case SET_REMOVE:
          return withElement(state, input.element, false);
        default:
          return output === UNKNOWN || sameElements(output, state.elements) ? state : undefined;
      }
    },
    equal: (a, b) => a === b || (a.hash === b.hash && sameElements(a.elements, b.elements)),
    hash: (state) => state.hash,
    isNoop: (input, output) => input.kind === SET_READ && output === UNKNOWN,
    describeOperation(input, output) {
      if (input.kind === SET_READ) return `read() -> ${output === UNKNOWN ? '?' : describeElements(output, values)}`;
      return `${input.kind === SET_ADD ? 'add' : 'remove'}(${values.describe(input.element)})`;
    },
    describeState: (state) => describeElements(state.elements, values),
    encode: (operation) => encodeSet(operation, values),
  };
}

function withElement(state: SetState, element: number, present: boolean): SetState {
  const index = lowerBound(state.elements, element);
  const found = state.elements[index] === element;
  if (found === present) return state;
  const elements = state.elements.slice();
  if (present) elements.splice(index, 0, element);
  else elements.splice(index, 1);
  return { elements, hash: state.hash ^ mix32(element + 1) };
}

function lowerBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

function sameElements(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}

function describeElements(elements: readonly number[], values: ValueTable): string {
  return `#{${elements.map((element) => values.describe(element)).join(' ')}}`;
}

function encodeSet(operation: RecordedOperation, values: ValueTable): { input: SetInput; output: SetOutput } | undefined {
  switch (operation.f) {
    case 'add':
    case 'remove':
      if (operation.completion === 'fail') return undefined; // did not happen
      return { input: { kind: operation.f === 'add' ? SET_ADD : SET_REMOVE, element: values.intern(operation.argument) }, output: UNKNOWN };
    case 'read': {
      if (operation.completion !== 'ok') return { input: { kind: SET_READ, element: 0 }, output: UNKNOWN };
      if (!Array.isArray(operation.result)) throw malformedInput(operation.location, 'a read result that is an array of elements', JSON.stringify(operation.result) ?? 'undefined');
      const ids = [...new Set(operation.result.map((element) => values.intern(element)))].sort((a, b) => a - b);
      // A read listing an element twice cannot match any set.
      if (ids.length !== operation.result.length) return { input: { kind: SET_READ, element: 0 }, output: [-2, ...ids] };
      return { input: { kind: SET_READ, element: 0 }, output: ids };
    }
    default:
      return unsupportedOperation(operation, 'set', SUPPORTED);
  }
}
