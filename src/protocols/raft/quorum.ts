import type { NodeId } from '../../core/ids.js';
import type { Membership } from './types.js';

/**
 * Quorum arithmetic (etcd `quorum`). A joint configuration decides only with a majority of each
 * half; an empty half imposes no constraint (it agrees to everything).
 */

export type VoteResult = 'won' | 'lost' | 'pending';

const scratch: number[] = [];

/**
 * The largest value that a majority of `voters` has reached, where `valueOf` gives each voter's
 * value (a match index, an acknowledged heartbeat context). Infinity for an empty set.
 */
export function majorityValue(voters: readonly NodeId[], valueOf: (id: NodeId) => number): number {
  const count = voters.length;
  if (count === 0) return Number.POSITIVE_INFINITY;
  scratch.length = count;
  for (let position = 0; position < count; position += 1) scratch[position] = valueOf(voters[position]!);
  // Insertion sort, descending: clusters are small, and this avoids allocating per call.
  for (let position = 1; position < count; position += 1) {
    const value = scratch[position]!;
    let slot = position - 1;
    while (slot >= 0 && scratch[slot]! < value) {
      scratch[slot + 1] = scratch[slot]!;
      slot -= 1;
    }
    scratch[slot + 1] = value;
  }
  return scratch[Math.floor(count / 2)]!;
}

/** The value a joint (or simple) configuration has reached: the minimum over both halves. */
export function committedValue(membership: Membership, valueOf: (id: NodeId) => number): number {
  const incoming = majorityValue(membership.voters, valueOf);
  const outgoing = majorityValue(membership.outgoingVoters, valueOf);
  return Math.min(incoming, outgoing);
}

export function majorityVoteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.length === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === undefined) missing += 1;
    else if (vote) granted += 1;
  }
  const needed = Math.floor(voters.length / 2) + 1;
  if (granted >= needed) return 'won';
  if (granted + missing >= needed) return 'pending';
  return 'lost';
}

export function voteResult(membership: Membership, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const incoming = majorityVoteResult(membership.voters, votes);
  const outgoing = majorityVoteResult(membership.outgoingVoters, votes);
  if (incoming === 'won' && outgoing === 'won') return 'won';
  if (incoming === 'lost' || outgoing === 'lost') return 'lost';
  return 'pending';
}

/** Whether the members for which `active` holds form a quorum of the configuration. */
export function hasQuorum(membership: Membership, active: (id: NodeId) => boolean): boolean {
  return committedValue(membership, (id) => (active(id) ? 1 : 0)) >= 1;
}
