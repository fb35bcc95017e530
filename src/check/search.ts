import { assert } from '../core/errors.js';
import { mix32, zobristKeys } from './hash.js';
import type { Model } from './model.js';
import { CacheFullError, SeenSet } from './seen-set.js';

/** One partition's operations in the compact form the search runs on (index = local op id). */
export interface SearchInput<State, Input, Output> {
  readonly model: Model<State, Input, Output>;
  readonly inputs: readonly Input[];
  readonly outputs: readonly Output[];
  readonly calls: ArrayLike<number>;
  /** `Infinity` for operations that stay open to the end. */
  readonly returns: ArrayLike<number>;
}

/** Where the search got furthest in a history it could not linearize. */
export interface SearchFailure<State> {
  /** Local op ids of the longest linearizable prefix found, in linearization order. */
  readonly prefix: readonly number[];
  /** Model state after that prefix. */
  readonly state: State;
  /** The operation that could not be placed: it returned before any extension of the prefix could include it. */
  readonly blocking: number;
  /** Operations that were candidates at that point (invoked before `blocking` returned, not yet linearized). */
  readonly candidates: readonly number[];
}

export type SearchOutcome<State> =
  | { readonly kind: 'linearizable'; readonly linearization: readonly number[]; readonly cacheEntries: number }
  | { readonly kind: 'not-linearizable'; readonly failure: SearchFailure<State>; readonly cacheEntries: number }
  | { readonly kind: 'unknown'; readonly reason: string; readonly cacheEntries: number };

const NONE = -1;

/**
 * The history as a doubly linked list of call and return entries in time order, over typed
 * arrays. Entry `2n` is the head sentinel. `match[e]` is the return entry of call entry `e`, or
 * NONE when `e` is itself a return entry.
 */
interface EntryList {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  readonly match: Int32Array;
  readonly opOf: Int32Array;
  readonly head: number;
}

function buildEntryList(calls: ArrayLike<number>, returns: ArrayLike<number>): EntryList {
  const count = calls.length;
  // Entry code: op * 2 for its call, op * 2 + 1 for its return. Order: time, then calls before
  // returns at equal times (equal times are concurrent: the lenient reading), then op id.
  const order = Array.from({ length: 2 * count }, (_, code) => code);
  const timeOf = (code: number): number => ((code & 1) === 0 ? calls[code >> 1]! : returns[code >> 1]!);
  order.sort((a, b) => timeOf(a) - timeOf(b) || (a & 1) - (b & 1) || a - b);
  const head = 2 * count;
  const next = new Int32Array(2 * count + 1).fill(NONE);
  const prev = new Int32Array(2 * count + 1).fill(NONE);
  const match = new Int32Array(2 * count).fill(NONE);
  const opOf = new Int32Array(2 * count);
  const position = new Int32Array(2 * count);
  for (let index = 0; index < order.length; index++) position[order[index]!] = index;
  let last = head;
  for (let index = 0; index < order.length; index++) {
    const code = order[index]!;
    const op = code >> 1;
    opOf[index] = op;
    if ((code & 1) === 0) {
      match[index] = position[code + 1]!;
      assert(match[index]! > index, () => `operation ${op} returns before it is called`);
    }
    next[last] = index;
    prev[index] = last;
    last = index;
  }
  return { next, prev, match, opOf, head };
}

/**
 * Wing & Gong's search with Lowe's memoization over one partition: repeatedly linearize the first
 * call entry whose step is legal and whose (linearized set, new state) pair is new, lifting it and
 * its return out of the list; on reaching a return entry (an operation that had to be linearized by
 * now), backtrack. The linearized set is a bitset with an incrementally maintained Zobrist hash.
 *
 * The search is resumable: `run(maxIterations)` works for a bounded number of iterations and keeps
 * its position, so the checker can interleave partitions (a history whose first partition is hard
 * but whose tenth fails fast is found non-linearizable fast, as with Porcupine's goroutines).
 */
export class PartitionSearch<State, Input, Output> {
  private readonly model: Model<State, Input, Output>;
  private readonly inputs: readonly Input[];
  private readonly outputs: readonly Output[];
  private readonly list: EntryList;
  private readonly zobrist: Int32Array;
  private readonly bits: Uint32Array;
  private readonly seen: SeenSet<State>;
  private readonly stackEntry: Int32Array;
  private readonly stackState: State[];
  private depth = 0;
  private state: State;
  private setHash = 0;
  private entry: number;
  private best: SearchFailure<State> | undefined;
  /** Set once the search has finished. */
  outcome: SearchOutcome<State> | undefined;

  constructor(input: SearchInput<State, Input, Output>, maxCacheEntries: number) {
    const count = input.inputs.length;
    this.model = input.model;
    this.inputs = input.inputs;
    this.outputs = input.outputs;
    this.list = buildEntryList(input.calls, input.returns);
    this.zobrist = zobristKeys(count);
    this.bits = new Uint32Array(Math.max(1, (count + 31) >>> 5));
    const model = input.model;
    this.seen = new SeenSet<State>(this.bits.length, (a, b) => model.equal(a, b), maxCacheEntries);
    this.stackEntry = new Int32Array(count);
    this.stackState = new Array<State>(count);
    this.state = model.init();
    this.entry = this.list.next[this.list.head]!;
    if (count === 0) this.outcome = { kind: 'linearizable', linearization: [], cacheEntries: 0 };
  }

  get cacheEntries(): number {
    return this.seen.size;
  }

  /** Searches for at most about `maxIterations` iterations; true once `outcome` is set. */
  run(maxIterations: number): boolean {
    if (this.outcome !== undefined) return true;
    try {
      this.outcome = this.loop(maxIterations);
    } catch (error) {
      if (!(error instanceof CacheFullError)) throw error;
      this.outcome = { kind: 'unknown', reason: error.message, cacheEntries: this.seen.size };
    }
    return this.outcome !== undefined;
  }

  /** Stops the search: the verdict is unknown. */
  abandon(reason: string): void {
    this.outcome ??= { kind: 'unknown', reason, cacheEntries: this.seen.size };
  }

  private loop(maxIterations: number): SearchOutcome<State> | undefined {
    const { model, inputs, outputs, zobrist, bits, seen, stackEntry, stackState } = this;
    const { next, prev, match, opOf, head } = this.list;
    let { depth, state, setHash, entry } = this;
    let iterations = 0;
    while (next[head] !== NONE) {
      if (++iterations > maxIterations) {
        this.depth = depth;
        this.state = state;
        this.setHash = setHash;
        this.entry = entry;
        return undefined;
      }
      const returnEntry = match[entry]!;
      if (returnEntry !== NONE) {
        const op = opOf[entry]!;
        const nextState = model.step(state, inputs[op]!, outputs[op]!);
        if (nextState !== undefined) {
          const word = op >>> 5;
          const bit = 1 << (op & 31);
          bits[word]! |= bit;
          const nextSetHash = setHash ^ zobrist[op]!;
          if (seen.add(nextSetHash ^ mix32(model.hash(nextState)), bits, nextState)) {
            stackEntry[depth] = entry;
            stackState[depth] = state;
            depth++;
            state = nextState;
            setHash = nextSetHash;
            // Lift the call and its return out of the list.
            next[prev[entry]!] = next[entry]!;
            prev[next[entry]!] = prev[entry]!;
            next[prev[returnEntry]!] = next[returnEntry]!;
            if (next[returnEntry] !== NONE) prev[next[returnEntry]!] = prev[returnEntry]!;
            entry = next[head]!;
            continue;
          }
          bits[word]! &= ~bit;
        }
        entry = next[entry]!;
        continue;
      }
      // A return entry: the operation it closes must have been linearized already. Backtrack.
      if (this.best === undefined || depth > this.best.prefix.length) this.best = this.failureAt(entry, depth, state);
      if (depth === 0) return { kind: 'not-linearizable', failure: this.best, cacheEntries: seen.size };
      depth--;
      entry = stackEntry[depth]!;
      state = stackState[depth]!;
      const op = opOf[entry]!;
      bits[op >>> 5]! &= ~(1 << (op & 31));
      setHash ^= zobrist[op]!;
      // Unlift, in the reverse order of the lift.
      const lifted = match[entry]!;
      next[prev[lifted]!] = lifted;
      if (next[lifted] !== NONE) prev[next[lifted]!] = lifted;
      next[prev[entry]!] = entry;
      prev[next[entry]!] = entry;
      entry = next[entry]!;
    }
    const linearization = Array.from(stackEntry.subarray(0, depth), (call) => opOf[call]!);
    return { kind: 'linearizable', linearization, cacheEntries: seen.size };
  }

  private failureAt(returnEntry: number, prefixLength: number, current: State): SearchFailure<State> {
    const { next, match, opOf, head } = this.list;
    const candidates: number[] = [];
    for (let cursor = next[head]!; cursor !== returnEntry; cursor = next[cursor]!) {
      if (match[cursor] !== NONE) candidates.push(opOf[cursor]!);
    }
    const prefix = Array.from(this.stackEntry.subarray(0, prefixLength), (call) => opOf[call]!);
    return { prefix, state: current, blocking: opOf[returnEntry]!, candidates };
  }
}
