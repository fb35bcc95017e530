import type { InputLocation } from './malformed.js';

/**
 * What the linearizability checker checks against: a sequential specification ("model") of the
 * object under test, and the operations of a history interpreted by that model.
 */

/** How an operation completed: `open` when the history ended before it did. */
export type Completion = 'ok' | 'fail' | 'info' | 'open';

/** One invocation paired with its completion, before any model interprets it. */
export interface RecordedOperation {
  readonly process: number;
  readonly f: string;
  readonly key: string | undefined;
  /** The invocation's value (write value, `[expected, new]` for cas, nil for reads). */
  readonly argument: unknown;
  readonly completion: Completion;
  /** The completion's value (a read's result); `undefined` when open. */
  readonly result: unknown;
  readonly error: string | undefined;
  /** Invocation time. */
  readonly call: number;
  /** Completion time; `Infinity` for `info` and open operations: they stay open to the end. */
  readonly return: number;
  /** Index of the invocation in the event list (for reports). */
  readonly invokeIndex: number;
  /** Where the invocation was read from, for error messages. */
  readonly location: InputLocation;
}

/** An operation as the checker sees it: an interval of real time, an input and an output. */
export interface Operation<Input, Output> {
  /** Index in the operation list handed to the checker. */
  readonly id: number;
  readonly process: number;
  readonly call: number;
  /** `Infinity` when the operation never completed (it may take effect at any later time). */
  readonly return: number;
  readonly input: Input;
  readonly output: Output;
  readonly recorded?: RecordedOperation;
}

/** A sub-history checked independently of the others (P-compositionality). */
export interface Partition<Input, Output> {
  /** Shown in explanations, e.g. `key "3"`. */
  readonly label: string;
  readonly operations: readonly Operation<Input, Output>[];
  /**
   * A model specialized to this sub-history (e.g. one key's value instead of the whole map), used
   * instead of the partitioned model when present. It must agree with that model on these operations.
   */
  readonly model?: Model<unknown, Input, Output>;
}

/**
 * A deterministic sequential specification. States are immutable values: `step` returns a new
 * state (or the same one) and never mutates its argument, because the search keeps old states to
 * backtrack to and in its cache.
 */
export interface Model<State, Input, Output> {
  readonly name: string;
  init(): State;
  /** The state after applying the operation, or `undefined` if the output is impossible in `state`. */
  step(state: State, input: Input, output: Output): State | undefined;
  equal(a: State, b: State): boolean;
  /** A 32-bit hash; equal states must have equal hashes. */
  hash(state: State): number;
  /**
   * Splits a history into independent sub-histories (for example one per key), each checked
   * alone: a history is linearizable iff every part is. Absent: one partition.
   */
  partition?(operations: readonly Operation<Input, Output>[]): Partition<Input, Output>[];
  /**
   * True when the operation is legal in every state and changes none (a read whose result is
   * unknown). Such operations cannot affect the verdict and are left out of the search.
   */
  isNoop?(input: Input, output: Output): boolean;
  describeOperation(input: Input, output: Output): string;
  describeState(state: State): string;
}

/** A model that also knows how to interpret recorded Jepsen-style operations. */
export interface HistoryModel<State, Input, Output> extends Model<State, Input, Output> {
  /**
   * The operation's input and output, or `undefined` to leave it out (a failed write did not
   * happen). Throws a `ConcordError` (MALFORMED_INPUT) for an operation the model does not know.
   */
  encode(operation: RecordedOperation): { input: Input; output: Output } | undefined;
}

/**
 * A nondeterministic specification: an operation may lead to several states. The checker runs it
 * through `powerSetModel`, whose states are sets of possible states.
 */
export interface NondeterministicModel<State, Input, Output> {
  readonly name: string;
  init(): readonly State[];
  /** Every state the operation may lead to; empty when the output is impossible in `state`. */
  step(state: State, input: Input, output: Output): readonly State[];
  equal(a: State, b: State): boolean;
  hash(state: State): number;
  partition?(operations: readonly Operation<Input, Output>[]): Partition<Input, Output>[];
  isNoop?(input: Input, output: Output): boolean;
  describeOperation(input: Input, output: Output): string;
  describeState(state: State): string;
  encode?(operation: RecordedOperation): { input: Input; output: Output } | undefined;
}

/** Groups operations by a key, in order of first appearance. */
export function partitionBy<Input, Output>(
  operations: readonly Operation<Input, Output>[],
  keyOf: (operation: Operation<Input, Output>) => string,
  labelOf: (key: string) => string = (key) => `key ${JSON.stringify(key)}`,
): Partition<Input, Output>[] {
  const groups = new Map<string, Operation<Input, Output>[]>();
  for (const operation of operations) {
    const key = keyOf(operation);
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = []));
    group.push(operation);
  }
  return [...groups].map(([key, group]) => ({ label: labelOf(key), operations: group }));
}
