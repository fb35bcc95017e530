import { checkHistory } from '../check/linearizability.js';
import { kvModel } from '../check/models/kv.js';
import type { SafetyChecker } from '../sim/scenario.js';

/**
 * The final checker of the KV scenarios: the client history must be linearizable under the kv
 * model (checked key by key). A search that runs out of `budgetMs` (wall time) counts as a
 * violation, not a note: a sweep must not pass a history nobody checked, and the seed replays
 * the case for investigation.
 */
export function kvLinearizabilityChecker<C, P>(budgetMs: number): SafetyChecker<C, P> {
  return {
    name: 'linearizability',
    check: (view) => {
      const { result } = checkHistory(kvModel(), view.history(), { timeoutMs: budgetMs });
      if (result.verdict === 'linearizable') return null;
      if (result.verdict === 'unknown') return `the checker could not decide within its budget (${result.reason ?? 'unknown reason'}): investigate`;
      return `not linearizable: ${result.failure?.message ?? 'no explanation'}`;
    },
  };
}
