import type { HistoryEvent } from '../../../src/core/history.js';
import { checkHistory, registerModel, type CheckResult } from '../../../src/check/index.js';
import type { InsertRecord } from './workload.js';

/**
 * The verdicts of a run: concord's linearizability checker over the register history (one
 * independent register per key), and the durability check of the unique-key inserts.
 */

/**
 * The history as the checker must see it. A cas that certainly did not run (refused, or 503 with
 * `effect: none`) is dropped entirely: in the history model a failed cas *ran* and found another
 * value, which a cas that never reached Raft did not. Failed writes and reads are kept (the model
 * ignores them).
 */
export function historyForChecker(events: readonly HistoryEvent[]): HistoryEvent[] {
  const open = new Map<number, number>();
  const drop = new Set<number>();
  events.forEach((event, index) => {
    if (event.type === 'invoke') {
      open.set(event.process, index);
      return;
    }
    const invokedAt = open.get(event.process);
    open.delete(event.process);
    if (event.f === 'cas' && event.type === 'fail' && event.error !== 'CONFLICT' && invokedAt !== undefined) {
      drop.add(invokedAt);
      drop.add(index);
    }
  });
  return events.filter((_, index) => !drop.has(index));
}

export interface LinearizabilityVerdict {
  readonly verdict: CheckResult['verdict'];
  readonly operations: number;
  readonly partitions: number;
  readonly elapsedMs: number;
  /** The checker's explanation of the first non-linearizable key. */
  readonly explanation?: string;
  readonly reason?: string;
}

export function checkLinearizable(events: readonly HistoryEvent[], timeoutMs: number): LinearizabilityVerdict {
  const { result } = checkHistory(registerModel({ initial: null }), historyForChecker(events), { timeoutMs });
  return {
    verdict: result.verdict,
    operations: result.operations,
    partitions: result.partitions.length,
    elapsedMs: Math.round(result.elapsedMs),
    ...(result.failure === undefined ? {} : { explanation: describeFailure(result.failure) }),
    ...(result.reason === undefined ? {} : { reason: result.reason }),
  };
}

function describeFailure(failure: NonNullable<CheckResult['failure']>): string {
  const prefix = failure.prefix.slice(-8).map((step) => `    ${step.description} (p${step.process}, t=${(step.call / 1e6).toFixed(1)}…${step.return === null ? '∞' : (step.return / 1e6).toFixed(1)} ms) → ${step.stateAfter}`);
  const candidates = failure.candidates.slice(0, 8).map((candidate) => `    ${candidate.operation.description} (p${candidate.operation.process}, t=${(candidate.operation.call / 1e6).toFixed(1)}…${candidate.operation.return === null ? '∞' : (candidate.operation.return / 1e6).toFixed(1)} ms): ${candidate.outcome}`);
  return [
    `${failure.partition}: ${failure.message}`,
    `  last steps of the longest linearizable prefix:`,
    ...prefix,
    `  state after it: ${failure.stateAfterPrefix}`,
    `  blocking: ${failure.blocking.description} (p${failure.blocking.process}, t=${(failure.blocking.call / 1e6).toFixed(1)}…${failure.blocking.return === null ? '∞' : (failure.blocking.return / 1e6).toFixed(1)} ms)`,
    `  candidates:`,
    ...candidates,
  ].join('\n');
}

export interface DurabilityVerdict {
  /** Every insert the clients tried (ok, fail and info). */
  readonly attempted: number;
  readonly acknowledged: number;
  /** Acknowledged inserts missing after recovery. */
  readonly lost: readonly string[];
  /** Inserts that certainly failed yet are present. */
  readonly phantom: readonly string[];
  /** Present keys nobody inserted. */
  readonly unexpected: readonly string[];
  readonly infoPresent: number;
  readonly infoAbsent: number;
}

export function checkInserts(inserts: readonly InsertRecord[], present: ReadonlySet<string>): DurabilityVerdict {
  const lost: string[] = [];
  const phantom: string[] = [];
  let infoPresent = 0;
  let infoAbsent = 0;
  let acknowledged = 0;
  const attempted = new Set<string>();
  for (const insert of inserts) {
    attempted.add(insert.key);
    if (insert.outcome === 'ok') {
      acknowledged += 1;
      if (!present.has(insert.key)) lost.push(insert.key);
    } else if (insert.outcome === 'fail') {
      if (present.has(insert.key)) phantom.push(insert.key);
    } else if (present.has(insert.key)) {
      infoPresent += 1;
    } else {
      infoAbsent += 1;
    }
  }
  const unexpected = [...present].filter((key) => !attempted.has(key));
  return { attempted: inserts.length, acknowledged, lost, phantom, unexpected, infoPresent, infoAbsent };
}
