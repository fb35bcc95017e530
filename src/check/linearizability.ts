import type { HistoryEvent } from '../core/history.js';
import type { HistoryModel, Model, Operation, Partition, RecordedOperation } from './model.js';
import { pairEvents, type PairingOptions } from './pairing.js';
import { PartitionSearch, type PrescanMode, type SearchOutcome } from './search.js';

export type Verdict = 'linearizable' | 'not-linearizable' | 'unknown';

export interface CheckOptions {
  /** Time budget for the whole check in ms; when spent the verdict is `unknown`. Default: none. */
  readonly timeoutMs?: number;
  /** Use the model's partition function (P-compositionality); default true. */
  readonly partition?: boolean;
  /** Millisecond clock for the budget; default `performance.now`. */
  readonly now?: () => number;
  /** Bound on each partition's memoization cache (entries); beyond it the verdict is `unknown`. */
  readonly maxCacheEntries?: number;
  /** Read-only pre-scan on entering a search node (see `PartitionSearch`); default `adaptive`. */
  readonly prescan?: PrescanMode;
}

/** An operation as shown in reports. */
export interface OperationSummary {
  readonly id: number;
  readonly process: number;
  readonly description: string;
  readonly call: number;
  /** `null` when the operation never completed (JSON has no Infinity). */
  readonly return: number | null;
  /** Source line of the invocation, when read from a file. */
  readonly line?: number;
}

export interface PrefixStep extends OperationSummary {
  readonly stateAfter: string;
}

export interface CandidateSummary {
  readonly operation: OperationSummary;
  /** `illegal`: impossible in the state after the prefix; `explored`: possible, but every continuation was already explored and failed. */
  readonly outcome: 'illegal' | 'explored';
}

/** Why a history is not linearizable, at the furthest point the search reached. */
export interface FailureExplanation {
  readonly partition: string;
  /** The longest linearizable prefix found, in linearization order, with the model state after each step. */
  readonly prefix: readonly PrefixStep[];
  readonly stateAfterPrefix: string;
  /** The operation that could not be placed: it had returned, yet no extension of the prefix could include it. */
  readonly blocking: OperationSummary;
  /** The operations that could have come next, and why none led anywhere. */
  readonly candidates: readonly CandidateSummary[];
  readonly message: string;
}

export interface PartitionReport {
  readonly label: string;
  readonly operations: number;
  /** Ids of the partition's operations. */
  readonly operationIds: readonly number[];
  /** Operations left out of the search because they cannot affect the verdict (e.g. timed-out reads). */
  readonly skippedNoops: number;
  /** `not-checked`: the search stopped because another partition is not linearizable. */
  readonly verdict: Verdict | 'not-checked';
  readonly cacheEntries: number;
  readonly elapsedMs: number;
}

export interface CheckResult {
  readonly verdict: Verdict;
  /** Why the verdict is `unknown`. */
  readonly reason?: string;
  readonly operations: number;
  readonly partitions: readonly PartitionReport[];
  readonly elapsedMs: number;
  readonly failure?: FailureExplanation;
  /** For a linearizable history: one valid order of operation ids per partition (no-ops left out). */
  readonly linearizations?: readonly (readonly number[])[];
}

const DEFAULT_MAX_CACHE_ENTRIES = 1 << 25;
const defaultNow = (): number => performance.now();

/** Iterations of the first slice each partition gets; slices double each round. */
const FIRST_SLICE_ITERATIONS = 1 << 11;
/** Iterations between two polls of the clock. */
const POLL_ITERATIONS = 1 << 14;

interface PartitionRun<State, Input, Output> {
  readonly partition: Partition<Input, Output>;
  readonly model: Model<State, Input, Output>;
  readonly searched: readonly Operation<Input, Output>[];
  readonly search: PartitionSearch<State, Input, Output>;
  elapsedMs: number;
}

/**
 * Checks operations against a model: linearizable, not linearizable, or unknown when the time
 * budget or the cache bound ran out. Partitions are searched round-robin in slices that double
 * each round, so one hard partition cannot hide another that fails fast; the first partition found
 * non-linearizable decides the verdict.
 */
export function checkOperations<State, Input, Output>(
  wholeModel: Model<State, Input, Output>,
  operations: readonly Operation<Input, Output>[],
  options: CheckOptions = {},
): CheckResult {
  const now = options.now ?? defaultNow;
  const started = now();
  const deadline = started + (options.timeoutMs ?? Infinity);
  const maxCacheEntries = options.maxCacheEntries ?? DEFAULT_MAX_CACHE_ENTRIES;
  const partitions: Partition<Input, Output>[] =
    options.partition !== false && wholeModel.partition !== undefined ? wholeModel.partition(operations) : [{ label: 'all operations', operations }];
  const runs: PartitionRun<unknown, Input, Output>[] = partitions.map((partition) => {
    const model = partition.model ?? (wholeModel as Model<unknown, Input, Output>);
    const searched = partition.operations.filter((operation) => model.isNoop?.(operation.input, operation.output) !== true);
    const search = new PartitionSearch(
      {
        model,
        inputs: searched.map((operation) => operation.input),
        outputs: searched.map((operation) => operation.output),
        calls: Float64Array.from(searched, (operation) => operation.call),
        returns: Float64Array.from(searched, (operation) => operation.return),
      },
      maxCacheEntries,
      options.prescan,
    );
    return { partition, model, searched, search, elapsedMs: 0 };
  });
  let failed: PartitionRun<unknown, Input, Output> | undefined;
  let expired = false;
  let active = runs.filter((run) => run.search.outcome === undefined);
  for (let slice = FIRST_SLICE_ITERATIONS; active.length > 0 && failed === undefined && !expired; slice *= 2) {
    for (const run of active) {
      const sliceStarted = now();
      let done = false;
      for (let spent = 0; spent < slice && !done && !expired; spent += POLL_ITERATIONS) {
        done = run.search.run(Math.min(POLL_ITERATIONS, slice - spent));
        expired = now() > deadline;
      }
      run.elapsedMs += now() - sliceStarted;
      if (run.search.outcome?.kind === 'not-linearizable') {
        failed = run;
        break;
      }
      if (expired) break;
    }
    active = active.filter((run) => run.search.outcome === undefined);
  }
  for (const run of runs) run.search.abandon(failed !== undefined ? 'another partition is not linearizable' : 'time budget exhausted');
  const reports = runs.map((run): PartitionReport => ({
    label: run.partition.label,
    operations: run.partition.operations.length,
    operationIds: run.partition.operations.map((operation) => operation.id),
    skippedNoops: run.partition.operations.length - run.searched.length,
    verdict: failed !== undefined && run !== failed && run.search.outcome!.kind === 'unknown' ? 'not-checked' : run.search.outcome!.kind,
    cacheEntries: run.search.cacheEntries,
    elapsedMs: run.elapsedMs,
  }));
  const base = { operations: operations.length, partitions: reports, elapsedMs: now() - started };
  if (failed !== undefined) {
    return { ...base, verdict: 'not-linearizable', failure: explain(failed.model, failed.partition.label, failed.searched, failed.search.outcome as NotLinearizable<unknown>) };
  }
  const unknown = runs.find((run) => run.search.outcome!.kind === 'unknown');
  if (unknown !== undefined) {
    return { ...base, verdict: 'unknown', reason: `${unknown.partition.label}: ${(unknown.search.outcome as { reason: string }).reason}` };
  }
  const linearizations = runs.map((run) => (run.search.outcome as { linearization: readonly number[] }).linearization.map((local) => run.searched[local]!.id));
  return { ...base, verdict: 'linearizable', linearizations };
}

type NotLinearizable<State> = Extract<SearchOutcome<State>, { kind: 'not-linearizable' }>;

export interface HistoryCheck<Input, Output> {
  readonly result: CheckResult;
  /** The history's operations as checked (failed writes and the like left out). */
  readonly operations: readonly Operation<Input, Output>[];
  readonly recorded: readonly RecordedOperation[];
}

/** Prepares a Jepsen-style history for a model: pairs invocations with completions and encodes them. */
export function encodeHistory<State, Input, Output>(
  model: HistoryModel<State, Input, Output>,
  events: readonly HistoryEvent[],
  pairing: PairingOptions = {},
): { operations: Operation<Input, Output>[]; recorded: RecordedOperation[] } {
  const recorded = pairEvents(events, pairing);
  const operations: Operation<Input, Output>[] = [];
  for (const operation of recorded) {
    const encoded = model.encode(operation);
    if (encoded === undefined) continue;
    operations.push({ id: operations.length, process: operation.process, call: operation.call, return: operation.return, input: encoded.input, output: encoded.output, recorded: operation });
  }
  return { operations, recorded };
}

/** Checks a Jepsen-style history (e.g. from `HistoryRecorder`) against a model. */
export function checkHistory<State, Input, Output>(
  model: HistoryModel<State, Input, Output>,
  events: readonly HistoryEvent[],
  options: CheckOptions & { readonly pairing?: PairingOptions } = {},
): HistoryCheck<Input, Output> {
  const { operations, recorded } = encodeHistory(model, events, options.pairing);
  return { result: checkOperations(model, operations, options), operations, recorded };
}

export function summarize<Input, Output>(model: Model<unknown, Input, Output>, operation: Operation<Input, Output>): OperationSummary {
  return {
    id: operation.id,
    process: operation.process,
    description: model.describeOperation(operation.input, operation.output),
    call: operation.call,
    return: Number.isFinite(operation.return) ? operation.return : null,
    ...(operation.recorded?.location.line !== undefined ? { line: operation.recorded.location.line } : {}),
  };
}

function explain<State, Input, Output>(
  model: Model<State, Input, Output>,
  label: string,
  searched: readonly Operation<Input, Output>[],
  outcome: NotLinearizable<State>,
): FailureExplanation {
  const { failure } = outcome;
  const describe = (local: number): OperationSummary => summarize(model as Model<unknown, Input, Output>, searched[local]!);
  const candidates = failure.candidates.map((local) => ({
    operation: describe(local),
    outcome: model.step(failure.state, searched[local]!.input, searched[local]!.output) === undefined ? ('illegal' as const) : ('explored' as const),
  }));
  const blocking = describe(failure.blocking);
  const stateAfterPrefix = model.describeState(failure.state);
  const message =
    `${label}: after a linearizable prefix of ${failure.prefix.length} operation(s) the state is ${stateAfterPrefix}; ` +
    `operation ${blocking.id}${blocking.line !== undefined ? ` (line ${blocking.line})` : ''}, process ${blocking.process}: ${blocking.description}, cannot be linearized ` +
    `(${candidates.filter((candidate) => candidate.outcome === 'illegal').length} of ${candidates.length} candidate(s) illegal in that state)`;
  let state = model.init();
  const prefix = failure.prefix.map((local): PrefixStep => {
    const operation = searched[local]!;
    state = model.step(state, operation.input, operation.output) as State;
    return { ...describe(local), stateAfter: model.describeState(state) };
  });
  return { partition: label, prefix, stateAfterPrefix, blocking, candidates, message };
}
