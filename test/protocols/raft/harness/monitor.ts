import type { NodeId } from '../../../../src/core/ids.js';
import type { RaftCore } from '../../../../src/protocols/raft/raft.js';
import type { AppTypes } from '../../../../src/protocols/raft/types.js';

/**
 * Raft's safety properties (Figure 3), checked after every step of the in-test network through
 * the cores' read-only inspection API (`status()`, `log`):
 * - Election Safety: at most one leader per term;
 * - Leader Append-Only: a leader never overwrites or deletes entries of its log during its term;
 * - Log Matching: logs with an entry of the same index and term agree on everything before it
 *   (checked pairwise by `checkLogMatching`);
 * - Leader Completeness: a new leader holds every entry committed before it took over;
 * - State Machine Safety: no two nodes commit (hence apply) different entries at one index, and
 *   nodes at the same applied index have the same state-machine digest.
 * Violations are collected as text, never thrown, so a test can assert that a bug is caught.
 */
export class SafetyMonitor {
  readonly violations: string[] = [];
  private readonly leaders = new Map<number, NodeId>();
  private readonly committed = new Map<number, number>();
  private readonly checkedCommit = new Map<NodeId, number>();
  private readonly leaderViews = new Map<NodeId, { term: number; lastIndex: number; lastTerm: number }>();
  private readonly digests = new Map<number, { digest: string; node: NodeId }>();

  observe<A extends AppTypes>(core: RaftCore<A>): void {
    const status = core.status();
    if (status.role === 'leader') {
      this.checkElectionSafety(status.id, status.term);
      this.checkLeader(core, status.term);
    } else {
      this.leaderViews.delete(status.id);
    }
    this.checkCommitted(core, status.commitIndex);
    this.checkDigest(status.id, status.appliedIndex, status.digest);
  }

  /** A node crashed: its volatile views are gone (its durable history stays checked). */
  forget(id: NodeId): void {
    this.leaderViews.delete(id);
    this.checkedCommit.set(id, 0);
  }

  private report(text: string): void {
    if (!this.violations.includes(text)) this.violations.push(text);
  }

  private checkElectionSafety(id: NodeId, term: number): void {
    const known = this.leaders.get(term);
    if (known === undefined) this.leaders.set(term, id);
    else if (known !== id) this.report(`Election Safety: ${known} and ${id} both lead term ${term}`);
  }

  private checkLeader<A extends AppTypes>(core: RaftCore<A>, term: number): void {
    const log = core.log;
    const view = this.leaderViews.get(core.id);
    if (view === undefined || view.term !== term) {
      // Newly observed leader: Leader Completeness against everything committed so far.
      for (const [index, committedTerm] of this.committed) {
        if (index < log.firstIndex()) continue;
        const ours = log.term(index);
        if (ours !== committedTerm) {
          this.report(`Leader Completeness: leader ${core.id} of term ${term} has ${ours ?? 'nothing'} at ${index}, committed term ${committedTerm}`);
        }
      }
    } else {
      const termAtLast = log.term(view.lastIndex);
      if (log.lastIndex() < view.lastIndex || (termAtLast !== undefined && termAtLast !== view.lastTerm)) {
        this.report(`Leader Append-Only: leader ${core.id} of term ${term} lost or rewrote entries through ${view.lastIndex}`);
      }
    }
    this.leaderViews.set(core.id, { term, lastIndex: log.lastIndex(), lastTerm: log.lastTerm() });
  }

  private checkCommitted<A extends AppTypes>(core: RaftCore<A>, commit: number): void {
    const from = (this.checkedCommit.get(core.id) ?? 0) + 1;
    for (let index = Math.max(from, core.log.firstIndex()); index <= commit; index += 1) {
      const term = core.log.term(index);
      if (term === undefined) continue;
      const known = this.committed.get(index);
      if (known === undefined) this.committed.set(index, term);
      else if (known !== term) this.report(`State Machine Safety: ${core.id} committed term ${term} at ${index}, another node committed term ${known}`);
    }
    this.checkedCommit.set(core.id, Math.max(commit, from - 1));
  }

  private checkDigest(id: NodeId, appliedIndex: number, digest: string): void {
    const known = this.digests.get(appliedIndex);
    if (known === undefined) this.digests.set(appliedIndex, { digest, node: id });
    else if (known.digest !== digest) this.report(`State Machine Safety: ${id} and ${known.node} differ in state at applied index ${appliedIndex}`);
  }
}

/** Log Matching over every pair of cores: same (index, term) implies the same terms before it. */
export function checkLogMatching<A extends AppTypes>(cores: readonly RaftCore<A>[]): string[] {
  const problems: string[] = [];
  for (let left = 0; left < cores.length; left += 1) {
    for (let right = left + 1; right < cores.length; right += 1) {
      const a = cores[left]!.log;
      const b = cores[right]!.log;
      const low = Math.max(a.firstIndex(), b.firstIndex());
      let high = Math.min(a.lastIndex(), b.lastIndex());
      while (high >= low && a.term(high) !== b.term(high)) high -= 1;
      for (let index = low; index < high; index += 1) {
        if (a.term(index) !== b.term(index)) {
          problems.push(`Log Matching: ${cores[left]!.id} and ${cores[right]!.id} agree at ${high} but differ at ${index}`);
          break;
        }
      }
    }
  }
  return problems;
}
