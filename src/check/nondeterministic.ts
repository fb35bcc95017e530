import { mix32 } from './hash.js';
import type { HistoryModel, Model, NondeterministicModel, RecordedOperation } from './model.js';

/** A set of possible states of a nondeterministic model, with an order-independent hash. */
export interface StateSet<State> {
  readonly states: readonly State[];
  readonly hash: number;
}

/**
 * The subset construction: a deterministic model whose state is the set of states the
 * nondeterministic model may be in. An operation is legal iff it is legal in at least one of them.
 */
export function powerSetModel<State, Input, Output>(
  model: NondeterministicModel<State, Input, Output>,
): Model<StateSet<State>, Input, Output> & Partial<Pick<HistoryModel<StateSet<State>, Input, Output>, 'encode'>> {
  const makeSet = (candidates: Iterable<State>): StateSet<State> | undefined => {
    const states: State[] = [];
    let hash = 0;
    for (const candidate of candidates) {
      if (states.some((state) => model.equal(state, candidate))) continue;
      states.push(candidate);
      // A sum of mixed element hashes does not depend on the order the elements were found in.
      hash = (hash + mix32(model.hash(candidate))) | 0;
    }
    return states.length === 0 ? undefined : { states, hash };
  };
  const initial = makeSet(model.init());
  if (initial === undefined) throw new RangeError(`model ${model.name}: init() returned no state`);
  const adapted: Model<StateSet<State>, Input, Output> & { encode?: (operation: RecordedOperation) => { input: Input; output: Output } | undefined } = {
    name: model.name,
    init: () => initial,
    step: (set, input, output) => makeSet(set.states.flatMap((state) => model.step(state, input, output))),
    equal: (a, b) =>
      a === b || (a.hash === b.hash && a.states.length === b.states.length && a.states.every((state) => b.states.some((other) => model.equal(state, other)))),
    hash: (set) => set.hash,
    describeOperation: (input, output) => model.describeOperation(input, output),
    describeState: (set) =>
      set.states.length === 1 ? model.describeState(set.states[0]!) : `one of {${set.states.map((state) => model.describeState(state)).join(', ')}}`,
  };
  if (model.partition !== undefined) adapted.partition = (operations) => model.partition!(operations);
  if (model.isNoop !== undefined) adapted.isNoop = (input, output) => model.isNoop!(input, output);
  if (model.encode !== undefined) adapted.encode = (operation) => model.encode!(operation);
  return adapted;
}

/** `powerSetModel` for a nondeterministic model that can read recorded histories. */
export function powerSetHistoryModel<State, Input, Output>(
  model: NondeterministicModel<State, Input, Output> & Pick<HistoryModel<State, Input, Output>, 'encode'>,
): HistoryModel<StateSet<State>, Input, Output> {
  const adapted = powerSetModel(model);
  return { ...adapted, encode: (operation) => model.encode(operation) };
}
