import { partitionBy, type HistoryModel, type RecordedOperation } from '../model.js';
import { NIL, ValueTable } from '../values.js';
import { CAS_FAILED, UNKNOWN, casArguments, casOutput, casStep, describeCasOutput, readMatches, resultUnknown, unsupportedOperation } from './common.js';

export const REGISTER_READ = 0;
export const REGISTER_WRITE = 1;
export const REGISTER_CAS = 2;

/**
 * A register operation. Values are interned ids (see `ValueTable`; 0 = nil). Output: for a read
 * the value id read, for a cas CAS_OK / CAS_FAILED, UNKNOWN when the result is unknown; writes
 * ignore it.
 */
export interface RegisterInput {
  readonly kind: typeof REGISTER_READ | typeof REGISTER_WRITE | typeof REGISTER_CAS;
  /** Written value, or the cas's expected value. */
  readonly a: number;
  /** The cas's new value. */
  readonly b: number;
  /** Registers with different keys are independent (one partition each). */
  readonly key: string;
}

export interface RegisterModelOptions {
  /** The register's initial value; default nil. */
  readonly initial?: unknown;
}

const SUPPORTED = ['read', 'write', 'cas'];

/**
 * A read/write/cas register (Jepsen's cas-register). State: the interned value id. A failed cas
 * ran and found a value different from the expected one; a read with an unknown result matches
 * every state. Operations with different `key`s are independent registers.
 */
export function registerModel(options: RegisterModelOptions = {}): HistoryModel<number, RegisterInput, number> & { readonly values: ValueTable } {
  const values = new ValueTable();
  const initial = values.intern(options.initial ?? null);
  return {
    name: 'register',
    values,
    init: () => initial,
    step(state, input, output) {
      switch (input.kind) {
        case REGISTER_READ:
          return readMatches(state, output) ? state : undefined;
        case REGISTER_WRITE:
          return input.a;
        default:
          return casStep(state, input.a, input.b, output);
      }
    },
    equal: (a, b) => a === b,
    hash: (state) => state,
    intStates: true,
    partition: (operations) => partitionBy(operations, (operation) => operation.input.key, (key) => (key === '' ? 'the register' : `key ${JSON.stringify(key)}`)),
    isNoop: (input, output) => input.kind === REGISTER_READ && output === UNKNOWN,
    readOnly: (input, output) => input.kind === REGISTER_READ || (input.kind === REGISTER_CAS && output === CAS_FAILED),
    describeOperation(input, output) {
      const key = input.key === '' ? '' : `${JSON.stringify(input.key)}, `;
      switch (input.kind) {
        case REGISTER_READ:
          return `read(${key.slice(0, -2)}) -> ${values.describe(output)}`;
        case REGISTER_WRITE:
          return `write(${key}${values.describe(input.a)})`;
        default:
          return `cas(${key}${values.describe(input.a)}, ${values.describe(input.b)}) -> ${describeCasOutput(output)}`;
      }
    },
    describeState: (state) => values.describe(state),
    encode: (operation) => encodeRegister(operation, values),
  };
}

function encodeRegister(operation: RecordedOperation, values: ValueTable): { input: RegisterInput; output: number } | undefined {
  const key = operation.key ?? '';
  switch (operation.f) {
    case 'read':
    case 'get': {
      // A failed read did not happen or timed out: either way it matches every state.
      const known = operation.completion === 'ok';
      return { input: { kind: REGISTER_READ, a: NIL, b: NIL, key }, output: known ? values.intern(operation.result) : UNKNOWN };
    }
    case 'write':
    case 'put':
      if (operation.completion === 'fail') return undefined; // did not happen
      return { input: { kind: REGISTER_WRITE, a: values.intern(operation.argument), b: NIL, key }, output: resultUnknown(operation) ? UNKNOWN : 0 };
    case 'cas': {
      const [expected, replacement] = casArguments(operation);
      return { input: { kind: REGISTER_CAS, a: values.intern(expected), b: values.intern(replacement), key }, output: casOutput(operation) };
    }
    default:
      return unsupportedOperation(operation, 'register', SUPPORTED);
  }
}
