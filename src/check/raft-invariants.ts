import type { NodeId } from '../core/ids.js';
import type { RaftLogView } from '../protocols/raft/raft.js';
import type { LogEntry, RaftBrief } from '../protocols/raft/types.js';
import { canonicalJson } from './values.js';

/**
 * Raft's five safety properties (Raft paper, Figure 3), checked incrementally after every
 * simulator event through a core's read-only inspection API (`brief()`, `digest()`, `log`):
 *
 * - **Election Safety**: at most one leader per term.
 * - **Leader Append-Only**: a leader never overwrites or deletes entries of its log in its term.
 * - **Log Matching**: two logs with an entry of the same index and term hold the same entry there
 *   and identical entries before it. Checked by induction: every (index, term) ever seen in any
 *   log is recorded with its predecessor's term and its content; a log whose entry (i, t) sits
 *   after another predecessor term, or holds other content, breaks the property.
 * - **Leader Completeness**: a leader holds every entry committed in an earlier term. Checked when
 *   a node is first seen leading a term (against every entry known committed in a lower term),
 *   and when a commit becomes known (against every current leader of a higher term than the
 *   committer's). The commit term of an entry is bounded by the lowest term of a node seen
 *   holding it committed.
 * - **State Machine Safety**: no two nodes commit (hence apply) different entries at one index;
 *   nodes at the same applied index have the same state-machine digest.
 *
 * Cost: each observation of an unchanged node is O(1) (compare the last log entry by reference,
 * the commit and applied indices); new entries, commits and digests are each checked once per
 * node; a new leader costs O(committed entries), a restart O(its log).
 *
 * Violations are collected as text (bounded), never thrown, so a test can assert a bug is caught.
 */

/** What the checker reads of one node (a `RaftCore` satisfies it). */
export interface RaftInspectable<C> {
  readonly id: NodeId;
  brief(): RaftBrief;
  /** The state machine's digest at the applied index; read only when that index moves. */
  digest(): string;
  readonly log: RaftLogView<C>;
}

interface EntryInfo {
  readonly term: number;
  readonly prevTerm: number;
  readonly entry: LogEntry<unknown>;
  /** Canonical JSON of the payload, computed only when two entry objects must be compared. */
  fingerprint: string | null;
  readonly node: NodeId;
}

interface CommittedInfo {
  readonly term: number;
  /**
   * An upper bound on the term in which the entry was committed: the lowest term of a node seen
   * holding it committed (the committing leader is usually the first one seen, in its own term).
   */
  commitTerm: number;
  readonly entry: LogEntry<unknown> | null;
  fingerprint: string | null;
  readonly node: NodeId;
}

interface NodeTrack {
  core: RaftInspectable<unknown> | null;
  incarnation: number;
  /** Entry objects checked at each index (valid for firstIndex … checkedTop). */
  refs: (LogEntry<unknown> | undefined)[];
  checkedTop: number;
  commitChecked: number;
  appliedSeen: number;
  /** While leading: the term, and the last entry seen in that term (for Append-Only). */
  leaderTerm: number;
  leaderLastIndex: number;
  leaderLastTerm: number;
  leaderLastEntry: LogEntry<unknown> | undefined;
}

export interface RaftInvariantOptions {
  /** Most violation texts kept (further ones are counted only). Default 20. */
  readonly maxViolations?: number;
}

export class RaftInvariants {
  readonly violations: string[] = [];
  violationCount = 0;
  private readonly maxViolations: number;
  private readonly nodes = new Map<NodeId, NodeTrack>();
  private readonly leaders = new Map<number, NodeId>();
  /** Per index, every (term → info) seen in any log. */
  private readonly entries: (EntryInfo[] | undefined)[] = [];
  private readonly committed: (CommittedInfo | undefined)[] = [];
  /** Highest index known committed anywhere. */
  private committedTop = 0;
  private readonly digests = new Map<number, { digest: string; node: NodeId }>();

  constructor(options: RaftInvariantOptions = {}) {
    this.maxViolations = options.maxViolations ?? 20;
  }

  /** The most recent violation found (null while none). */
  lastViolation: string | null = null;

  /**
   * Observes one node: `core` is null while it is down; `incarnation` changes with every restart
   * (volatile state is gone, the durable log is re-checked). Returns whether this observation
   * found a violation (`lastViolation` says which).
   */
  observe(id: NodeId, incarnation: number, core: RaftInspectable<unknown> | null): boolean {
    const before = this.violationCount;
    const track = this.track(id, incarnation, core);
    if (core === null) return false;
    const status = core.brief();
    this.observeLog(track, core.log);
    if (status.role === 'leader') this.observeLeader(track, status.term, core.log);
    else track.leaderTerm = 0;
    if (status.commitIndex > track.commitChecked) this.observeCommit(track, status, core.log);
    if (status.appliedIndex !== track.appliedSeen) this.observeApplied(track, status.appliedIndex, core.digest());
    return this.violationCount !== before;
  }

  private track(id: NodeId, incarnation: number, core: RaftInspectable<unknown> | null): NodeTrack {
    let track = this.nodes.get(id);
    if (track === undefined) {
      track = freshTrack(core, incarnation);
      this.nodes.set(id, track);
    } else if (track.incarnation !== incarnation || track.core !== core) {
      Object.assign(track, freshTrack(core, incarnation));
    }
    return track;
  }

  private report(text: string): void {
    this.violationCount += 1;
    this.lastViolation = text;
    if (this.violations.length < this.maxViolations && !this.violations.includes(text)) this.violations.push(text);
  }

  // ── Log Matching ───────────────────────────────────────────────────────────────────────────

  private observeLog(track: NodeTrack, log: RaftLogView<unknown>): void {
    const first = log.firstIndex();
    const last = log.lastIndex();
    let top = Math.min(track.checkedTop, last);
    // Walk back to where the log still holds what we checked (O(1) when nothing was truncated).
    while (top >= first && log.entry(top) !== track.refs[top]) top -= 1;
    if (top < first - 1) top = first - 1;
    for (let index = top + 1; index <= last; index += 1) {
      const entry = log.entry(index)!;
      track.refs[index] = entry;
      this.checkEntry(track.core!.id, entry, log.term(index - 1) ?? -1);
    }
    if (track.refs.length > last + 1) track.refs.length = last + 1;
    track.checkedTop = last;
  }

  private checkEntry(node: NodeId, entry: LogEntry<unknown>, prevTerm: number): void {
    let infos = this.entries[entry.index];
    if (infos === undefined) this.entries[entry.index] = infos = [];
    const known = infos.find((info) => info.term === entry.term);
    if (known === undefined) {
      infos.push({ term: entry.term, prevTerm, entry, fingerprint: null, node });
      return;
    }
    if (prevTerm >= 0 && known.prevTerm >= 0 && known.prevTerm !== prevTerm) {
      this.report(
        `Log Matching: ${node} and ${known.node} both hold entry ${entry.index}/${entry.term} but after entries of terms ${prevTerm} and ${known.prevTerm} at ${entry.index - 1}`,
      );
    }
    if (known.entry !== entry && !samePayload(known, entry)) {
      this.report(`Log Matching: ${node} and ${known.node} hold different entries at ${entry.index}/${entry.term}`);
    }
  }

  // ── Election Safety, Leader Append-Only, Leader Completeness ─────────────────────────────────

  private observeLeader(track: NodeTrack, term: number, log: RaftLogView<unknown>): void {
    const id = track.core!.id;
    if (track.leaderTerm !== term) {
      const known = this.leaders.get(term);
      if (known === undefined) this.leaders.set(term, id);
      else if (known !== id) this.report(`Election Safety: ${known} and ${id} both lead term ${term}`);
      this.checkCompleteness(id, term, log, 1);
    } else {
      this.checkAppendOnly(id, track, term, log);
    }
    track.leaderTerm = term;
    track.leaderLastIndex = log.lastIndex();
    track.leaderLastTerm = log.lastTerm();
    track.leaderLastEntry = log.entry(track.leaderLastIndex);
  }

  private checkAppendOnly(id: NodeId, track: NodeTrack, term: number, log: RaftLogView<unknown>): void {
    const index = track.leaderLastIndex;
    if (log.lastIndex() < index) {
      this.report(`Leader Append-Only: leader ${id} of term ${term} shrank its log from ${index} to ${log.lastIndex()}`);
      return;
    }
    const entry = log.entry(index);
    const rewritten = entry !== undefined ? track.leaderLastEntry !== undefined && entry !== track.leaderLastEntry : log.term(index) !== undefined && log.term(index) !== track.leaderLastTerm;
    if (rewritten) this.report(`Leader Append-Only: leader ${id} of term ${term} rewrote its entry at ${index}`);
  }

  /**
   * Every entry known committed in a term before `term` is in `id`'s log (compacted entries
   * excepted). Entries committed in later terms do not count: a candidate can win an old term
   * late (its votes were granted before it paused), after a later term committed more.
   */
  private checkCompleteness(id: NodeId, term: number, log: RaftLogView<unknown>, from: number): void {
    const start = Math.max(from, log.firstIndex() - 1);
    for (let index = start; index <= this.committedTop; index += 1) {
      const committed = this.committed[index];
      if (committed === undefined || committed.commitTerm >= term) continue;
      const ours = log.term(index);
      if (ours !== committed.term) {
        this.report(`Leader Completeness: leader ${id} of term ${term} has ${ours === undefined ? 'no entry' : `term ${ours}`} at ${index}, where ${committed.node} committed term ${committed.term}`);
        return;
      }
    }
  }

  // ── State Machine Safety ───────────────────────────────────────────────────────────────────

  private observeCommit(track: NodeTrack, status: RaftBrief, log: RaftLogView<unknown>): void {
    const id = status.id;
    const first = log.firstIndex();
    const from = track.commitChecked + 1;
    // Entries folded into a snapshot: only the snapshot's last entry (index, term) is known.
    if (from < first && status.snapshotIndex >= from) this.checkCommitted(id, status.term, status.snapshotIndex, status.snapshotTerm, null);
    for (let index = Math.max(from, first); index <= status.commitIndex; index += 1) {
      const entry = log.entry(index);
      if (entry !== undefined) this.checkCommitted(id, status.term, index, entry.term, entry);
    }
    track.commitChecked = status.commitIndex;
  }

  private checkCommitted(id: NodeId, nodeTerm: number, index: number, term: number, entry: LogEntry<unknown> | null): void {
    const known = this.committed[index];
    if (known === undefined) {
      this.committed[index] = { term, commitTerm: nodeTerm, entry, fingerprint: null, node: id };
      if (index > this.committedTop) this.committedTop = index;
      this.checkLeadersHold(id, nodeTerm, index, term);
      return;
    }
    if (nodeTerm < known.commitTerm) known.commitTerm = nodeTerm;
    if (known.term !== term) {
      this.report(`State Machine Safety: ${id} committed term ${term} at ${index}, ${known.node} committed term ${known.term}`);
    } else if (entry !== null && known.entry !== null && known.entry !== entry && !samePayload(known, entry)) {
      this.report(`State Machine Safety: ${id} and ${known.node} committed different entries at ${index}/${term}`);
    }
  }

  /** A newly known commit (seen at a node in term `nodeTerm`): leaders of later terms must hold it. */
  private checkLeadersHold(committer: NodeId, nodeTerm: number, index: number, term: number): void {
    for (const [id, track] of this.nodes) {
      if (track.core === null || track.leaderTerm <= nodeTerm) continue;
      const ours = track.core.log.term(index);
      if (ours !== undefined && ours !== term) {
        this.report(`Leader Completeness: leader ${id} of term ${track.leaderTerm} has term ${ours} at ${index}, where ${committer} committed term ${term}`);
      } else if (ours === undefined && index >= track.core.log.firstIndex()) {
        this.report(`Leader Completeness: leader ${id} of term ${track.leaderTerm} has no entry at ${index}, where ${committer} committed term ${term}`);
      }
    }
  }

  private observeApplied(track: NodeTrack, applied: number, digest: string): void {
    track.appliedSeen = applied;
    const id = track.core!.id;
    const known = this.digests.get(applied);
    if (known === undefined) this.digests.set(applied, { digest, node: id });
    else if (known.digest !== digest) this.report(`State Machine Safety: ${id} and ${known.node} differ in state at applied index ${applied}`);
  }
}

function freshTrack(core: RaftInspectable<unknown> | null, incarnation: number): NodeTrack {
  return {
    core,
    incarnation,
    refs: [],
    checkedTop: 0,
    commitChecked: 0,
    appliedSeen: -1,
    leaderTerm: 0,
    leaderLastIndex: 0,
    leaderLastTerm: 0,
    leaderLastEntry: undefined,
  };
}

/** Content equality of a recorded entry and another object at the same (index, term). */
function samePayload(known: { entry: LogEntry<unknown> | null; fingerprint: string | null }, entry: LogEntry<unknown>): boolean {
  if (known.entry === null) return true;
  if (known.fingerprint === null) known.fingerprint = canonicalJson(known.entry.payload);
  return known.fingerprint === canonicalJson(entry.payload);
}
