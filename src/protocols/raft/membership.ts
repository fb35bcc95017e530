import { assert } from '../../core/errors.js';
import type { NodeId } from '../../core/ids.js';
import type { Membership, MembershipChange, MembershipChangeItem } from './types.js';

/**
 * Configuration changes (etcd `confchange`): one-server changes, joint consensus (thesis §4.3)
 * with automatic or explicit leave, learners, promotion and demotion. Pure functions over the
 * immutable `Membership` value; every result is checked by `checkMembership`.
 */

export const emptyMembership: Membership = Object.freeze({
  voters: [],
  outgoingVoters: [],
  learners: [],
  learnersNext: [],
  autoLeave: false,
});

export function membershipOfVoters(voters: readonly NodeId[]): Membership {
  return { ...emptyMembership, voters: sorted(voters) };
}

export function isJoint(membership: Membership): boolean {
  return membership.outgoingVoters.length > 0;
}

/** A voter in either half of the (possibly joint) configuration. */
export function isVoter(membership: Membership, id: NodeId): boolean {
  return membership.voters.includes(id) || membership.outgoingVoters.includes(id);
}

export function isLearner(membership: Membership, id: NodeId): boolean {
  return membership.learners.includes(id);
}

/** Everyone a leader replicates to: voters of both halves and learners, sorted, no duplicates. */
export function allMembers(membership: Membership): NodeId[] {
  return sorted([...membership.voters, ...membership.outgoingVoters, ...membership.learners, ...membership.learnersNext]);
}

/** Voters of both halves, sorted, no duplicates: whom a candidate asks for votes. */
export function allVoters(membership: Membership): NodeId[] {
  return sorted([...membership.voters, ...membership.outgoingVoters]);
}

export type ChangeResult = { readonly ok: true; readonly membership: Membership } | { readonly ok: false; readonly reason: string };

/** Applies `change` to `current`, or explains why it is not allowed. */
export function applyMembershipChange(current: Membership, change: MembershipChange): ChangeResult {
  if (change.changes.length === 0) return leaveJoint(current);
  if (change.transition !== 'auto' || change.changes.length > 1) {
    return enterJoint(current, change.changes, change.transition !== 'jointExplicit');
  }
  return simpleChange(current, change.changes);
}

function simpleChange(current: Membership, items: readonly MembershipChangeItem[]): ChangeResult {
  if (isJoint(current)) return { ok: false, reason: 'cannot apply a simple change in a joint configuration' };
  const draft = Draft.from(current);
  const problem = draft.apply(items);
  if (problem !== null) return { ok: false, reason: problem };
  const before = new Set(current.voters);
  const changed = symmetricDifferenceSize(before, draft.voters);
  if (changed > 1) return { ok: false, reason: 'more than one voter changed without entering a joint configuration' };
  return draft.finish();
}

function enterJoint(current: Membership, items: readonly MembershipChangeItem[], autoLeave: boolean): ChangeResult {
  if (isJoint(current)) return { ok: false, reason: 'configuration is already joint' };
  if (current.voters.length === 0) return { ok: false, reason: 'cannot make a zero-voter configuration joint' };
  const draft = Draft.from(current);
  draft.outgoing = new Set(current.voters);
  const problem = draft.apply(items);
  if (problem !== null) return { ok: false, reason: problem };
  draft.autoLeave = autoLeave;
  return draft.finish();
}

function leaveJoint(current: Membership): ChangeResult {
  if (!isJoint(current)) return { ok: false, reason: 'cannot leave a non-joint configuration' };
  const draft = Draft.from(current);
  for (const id of draft.learnersNext) draft.learners.add(id);
  draft.learnersNext.clear();
  draft.outgoing.clear();
  draft.autoLeave = false;
  return draft.finish();
}

/** Mutable working copy used while applying one change. */
class Draft {
  voters = new Set<NodeId>();
  outgoing = new Set<NodeId>();
  learners = new Set<NodeId>();
  learnersNext = new Set<NodeId>();
  autoLeave = false;

  static from(membership: Membership): Draft {
    const draft = new Draft();
    draft.voters = new Set(membership.voters);
    draft.outgoing = new Set(membership.outgoingVoters);
    draft.learners = new Set(membership.learners);
    draft.learnersNext = new Set(membership.learnersNext);
    draft.autoLeave = membership.autoLeave;
    return draft;
  }

  apply(items: readonly MembershipChangeItem[]): string | null {
    for (const item of items) {
      switch (item.type) {
        case 'addVoter':
          this.learners.delete(item.node);
          this.learnersNext.delete(item.node);
          this.voters.add(item.node);
          break;
        case 'addLearner':
          this.makeLearner(item.node);
          break;
        case 'remove':
          this.voters.delete(item.node);
          this.learners.delete(item.node);
          this.learnersNext.delete(item.node);
          break;
      }
    }
    return this.voters.size === 0 ? 'removed all voters' : null;
  }

  /** A voter of C_old cannot be a learner while joint, so it is staged in learnersNext. */
  private makeLearner(id: NodeId): void {
    if (this.learners.has(id)) return;
    this.voters.delete(id);
    if (this.outgoing.has(id)) this.learnersNext.add(id);
    else this.learners.add(id);
  }

  finish(): ChangeResult {
    const membership: Membership = {
      voters: sorted(this.voters),
      outgoingVoters: sorted(this.outgoing),
      learners: sorted(this.learners),
      learnersNext: sorted(this.learnersNext),
      autoLeave: this.autoLeave,
    };
    const problem = checkMembership(membership);
    return problem === null ? { ok: true, membership } : { ok: false, reason: problem };
  }
}

/**
 * The configuration invariants: learners are nobody's voters; learnersNext are outgoing voters
 * only; outside a joint state there is no outgoing half, no learnersNext and no autoLeave.
 * Returns a reason, or null when the configuration is well-formed.
 */
export function checkMembership(membership: Membership): string | null {
  for (const id of membership.learners) {
    if (membership.voters.includes(id) || membership.outgoingVoters.includes(id)) return `${id} is both learner and voter`;
  }
  for (const id of membership.learnersNext) {
    if (!membership.outgoingVoters.includes(id)) return `${id} is in learnersNext but not an outgoing voter`;
    if (membership.learners.includes(id)) return `${id} is in learnersNext and learners`;
  }
  if (!isJoint(membership)) {
    if (membership.learnersNext.length > 0) return 'learnersNext must be empty outside a joint configuration';
    if (membership.autoLeave) return 'autoLeave must be false outside a joint configuration';
  }
  return null;
}

/** `voters=(n1 n2) outgoing=(n1 n2 n3) learners=(n4) learnersNext=() autoLeave` style text. */
export function describeMembership(membership: Membership): string {
  const parts = [`voters=(${membership.voters.join(' ')})`];
  if (isJoint(membership)) parts.push(`outgoing=(${membership.outgoingVoters.join(' ')})`);
  if (membership.learners.length > 0) parts.push(`learners=(${membership.learners.join(' ')})`);
  if (membership.learnersNext.length > 0) parts.push(`learnersNext=(${membership.learnersNext.join(' ')})`);
  if (membership.autoLeave) parts.push('autoLeave');
  return parts.join(' ');
}

export function describeChange(change: MembershipChange): string {
  if (change.changes.length === 0) return 'leaveJoint';
  const items = change.changes.map((item) => `${item.type}(${item.node})`).join(' ');
  return change.transition === 'auto' ? items : `${items} ${change.transition}`;
}

function sorted(ids: Iterable<NodeId>): NodeId[] {
  return [...new Set(ids)].sort();
}

function symmetricDifferenceSize(left: ReadonlySet<NodeId>, right: ReadonlySet<NodeId>): number {
  let count = 0;
  for (const id of left) if (!right.has(id)) count += 1;
  for (const id of right) if (!left.has(id)) count += 1;
  return count;
}

/**
 * The configurations in a node's log (thesis §4.1: a server uses the latest configuration in its
 * log, committed or not). Holds the configuration at the snapshot point (the base) and one entry
 * per configuration entry after it; truncating the log reverts to the configuration before the
 * truncated suffix. A configuration entry whose change is not allowed from the configuration
 * before it takes no effect, identically on every node, and records why (`problem`).
 */
export class MembershipLog {
  private readonly history: { index: number; membership: Membership; problem: string | null }[];

  constructor(base: { index: number; membership: Membership } = { index: 0, membership: emptyMembership }) {
    this.history = [{ ...base, problem: null }];
  }

  get current(): Membership {
    return this.history[this.history.length - 1]!.membership;
  }

  /** Index of the latest configuration entry (or of the base). */
  get lastIndex(): number {
    return this.history[this.history.length - 1]!.index;
  }

  /** The configuration in effect at `index` (the latest one at or before it that is still known). */
  at(index: number): Membership {
    for (let position = this.history.length - 1; position > 0; position -= 1) {
      if (this.history[position]!.index <= index) return this.history[position]!.membership;
    }
    return this.history[0]!.membership;
  }

  /** Why the configuration entry at `index` took no effect, or null. */
  problemAt(index: number): string | null {
    return this.history.find((entry) => entry.index === index)?.problem ?? null;
  }

  /** Forgets configuration entries at or after `index` (the log was truncated there). */
  truncateFrom(index: number): void {
    while (this.history.length > 1 && this.history[this.history.length - 1]!.index >= index) this.history.pop();
  }

  /** Records a configuration entry appended at `index`; returns whether the configuration changed. */
  observe(index: number, payload: { type: 'membership'; change: MembershipChange } | { type: 'bootstrap'; voters: readonly NodeId[] }): boolean {
    assert(index > this.lastIndex, () => `configuration entry ${index} is not after the last one at ${this.lastIndex}`);
    if (payload.type === 'bootstrap') {
      this.history.push({ index, membership: membershipOfVoters(payload.voters), problem: null });
      return true;
    }
    const result = applyMembershipChange(this.current, payload.change);
    if (result.ok) this.history.push({ index, membership: result.membership, problem: null });
    else this.history.push({ index, membership: this.current, problem: result.reason });
    return result.ok;
  }

  /** Replaces the history by a base (snapshot install, or compaction at `index`). */
  rebase(index: number, membership: Membership): void {
    const later = this.history.filter((entry) => entry.index > index);
    this.history.length = 0;
    this.history.push({ index, membership, problem: null }, ...later);
  }
}
