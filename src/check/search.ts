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

/**
 * When to look for a legal read-only candidate first on entering a node: `adaptive` (default)
 * stops once that rarely succeeds; `always` and `never` exist for tests and tuning.
 */
export type PrescanMode = 'adaptive' | 'always' | 'never';

const NONE = -1;
/** Pre-scans made before judging whether they pay off. */
const PRESCAN_TRIAL = 4096;
/** Pre-scans stay on while at least 1 in this many finds a read-only candidate. */
const PRESCAN_MIN_HIT_RATIO = 16;

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
  private readonly bits: Int32Array;
  private readonly seen: SeenSet<State>;
  private readonly stackEntry: Int32Array;
  private readonly stackState: State[];
  /**
   * 1 for operations that never change the state (a read, a failed cas). Such an operation, when
   * it is a legal candidate, can be linearized right away without loss of generality: in any
   * linearization that places it later, moving it here keeps every state (it changes none) and
   * the real-time order (all operations that returned before it was invoked are linearized
   * already, or it would not be a candidate). So a node whose read-only step fails, fails.
   */
  private readonly readOnly: Uint8Array;
  /** Per stack frame: the step was a read-only one (its failure is its parent's). */
  private readonly forced: Uint8Array;
  /**
   * Per depth: the node at that depth was pre-scanned for read-only candidates on entry (so the
   * read-only candidates the scan meets later are known to be illegal there).
   */
  private readonly prescanned: Uint8Array;
  /**
   * Whether to pre-scan new nodes. Turned off for good when pre-scans rarely find anything (e.g.
   * reads of values the search seldom reaches), where they would only cost time; deterministic.
   */
  private usePrescan: boolean;
  private readonly prescanAdaptive: boolean;
  private prescans = 0;
  private prescanHits = 0;
  /** The current node was just entered: look for a read-only candidate first. */
  private fresh: boolean;
  private depth = 0;
  private state: State;
  private setHash = 0;
  private entry: number;
  private best: SearchFailure<State> | undefined;
  /** Set once the search has finished. */
  outcome: SearchOutcome<State> | undefined;

  constructor(input: SearchInput<State, Input, Output>, maxCacheEntries: number, prescan: PrescanMode = 'adaptive') {
    const count = input.inputs.length;
    this.model = input.model;
    this.inputs = input.inputs;
    this.outputs = input.outputs;
    this.list = buildEntryList(input.calls, input.returns);
    this.zobrist = zobristKeys(count);
    this.bits = new Int32Array(Math.max(1, (count + 31) >>> 5));
    const model = input.model;
    this.seen = new SeenSet<State>(this.bits.length, model.intStates === true ? null : (a, b) => model.equal(a, b), maxCacheEntries);
    this.stackEntry = new Int32Array(count);
    this.stackState = new Array<State>(count);
    this.forced = new Uint8Array(count);
    this.readOnly = Uint8Array.from(input.inputs, (operationInput, op) => (model.readOnly?.(operationInput, input.outputs[op]!) === true ? 1 : 0));
    this.usePrescan = prescan !== 'never' && this.readOnly.includes(1);
    this.prescanAdaptive = prescan === 'adaptive';
    this.prescanned = new Uint8Array(count + 1);
    this.prescanned[0] = this.usePrescan ? 1 : 0;
    this.fresh = this.usePrescan;
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

  /**
   * The search proper. Longer than our usual 70 lines on purpose: it is the hot loop, its state
   * lives in locals (copied back to fields only when pausing), and splitting it into calls costs.
   */
  private loop(maxIterations: number): SearchOutcome<State> | undefined {
    const { model, inputs, outputs, zobrist, bits, seen, stackEntry, stackState, readOnly, forced, prescanned } = this;
    const { next, prev, match, opOf, head } = this.list;
    let { depth, state, setHash, entry, fresh } = this;
    let iterations = 0;
    let tryingReadOnly = false;
    while (next[head] !== NONE) {
      if (++iterations > maxIterations && !tryingReadOnly) {
        this.depth = depth;
        this.state = state;
        this.setHash = setHash;
        this.entry = entry;
        this.fresh = fresh;
        return undefined;
      }
      if (fresh) {
        // A node just entered: take a legal read-only candidate first, if there is one (its fate
        // is the node's, so no other candidate needs trying).
        fresh = false;
        this.prescans++;
        for (let cursor = next[head]!; match[cursor] !== NONE; cursor = next[cursor]!) {
          const op = opOf[cursor]!;
          iterations++;
          if (readOnly[op] === 1 && model.step(state, inputs[op]!, outputs[op]!) !== undefined) {
            entry = cursor;
            tryingReadOnly = true;
            this.prescanHits++;
            break;
          }
        }
        if (this.prescanAdaptive && this.prescans >= PRESCAN_TRIAL && this.prescanHits * PRESCAN_MIN_HIT_RATIO < this.prescans) this.usePrescan = false;
      }
      const returnEntry = match[entry]!;
      if (returnEntry !== NONE) {
        const op = opOf[entry]!;
        // Read-only candidates were all tried when this node was entered: only the one found
        // legal there (now `entry`, with `fresh` just cleared) is taken; the others are illegal.
        if (readOnly[op] === 1 && !tryingReadOnly && prescanned[depth] === 1) {
          entry = next[entry]!;
          continue;
        }
        tryingReadOnly = false;
        const nextState = model.step(state, inputs[op]!, outputs[op]!);
        if (nextState === undefined) {
          entry = next[entry]!;
          continue;
        }
        const word = op >>> 5;
        const bit = 1 << (op & 31);
        bits[word]! |= bit;
        const nextSetHash = setHash ^ zobrist[op]!;
        if (seen.add(nextSetHash ^ mix32(model.hash(nextState)), bits, nextState)) {
          stackEntry[depth] = entry;
          stackState[depth] = state;
          forced[depth] = readOnly[op]!;
          depth++;
          state = nextState;
          setHash = nextSetHash;
          // Lift the call and its return out of the list.
          next[prev[entry]!] = next[entry]!;
          prev[next[entry]!] = prev[entry]!;
          next[prev[returnEntry]!] = next[returnEntry]!;
          if (next[returnEntry] !== NONE) prev[next[returnEntry]!] = prev[returnEntry]!;
          entry = next[head]!;
          fresh = this.usePrescan;
          prescanned[depth] = fresh ? 1 : 0;
          continue;
        }
        bits[word]! &= ~bit;
        if (readOnly[op] === 0) {
          entry = next[entry]!;
          continue;
        }
        // A legal read-only candidate whose configuration already failed: this node fails too
        // (see `readOnly` on the constructor). Fall through to backtrack.
      } else if (this.best === undefined || depth > this.best.prefix.length) {
        // A return entry: the operation it closes must have been linearized by now.
        this.best = this.failureAt(entry, depth, state);
      }
      // Backtrack: undo the last step, and keep undoing while the step undone was a forced one.
      for (;;) {
        if (depth === 0) return { kind: 'not-linearizable', failure: this.best ?? this.failureAt(entry, 0, state), cacheEntries: seen.size };
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
        if (forced[depth] === 0) break;
      }
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
