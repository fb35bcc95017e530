import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyMembershipChange,
  checkMembership,
  describeMembership,
  isJoint,
  membershipOfVoters,
} from '../../../src/protocols/raft/membership.js';
import { committedValue, majorityValue, voteResult } from '../../../src/protocols/raft/quorum.js';
import type { Membership, MembershipChange } from '../../../src/protocols/raft/types.js';

function apply(membership: Membership, change: MembershipChange): Membership {
  const result = applyMembershipChange(membership, change);
  if (!result.ok) throw new Error(result.reason);
  return result.membership;
}

const base = membershipOfVoters(['n1', 'n2', 'n3']);

describe('membership changes (thesis §4, etcd confchange)', () => {
  it('one-server changes apply directly', () => {
    const added = apply(base, { changes: [{ type: 'addVoter', node: 'n4' }], transition: 'auto' });
    expect(describeMembership(added)).toBe('voters=(n1 n2 n3 n4)');
    const removed = apply(added, { changes: [{ type: 'remove', node: 'n1' }], transition: 'auto' });
    expect(describeMembership(removed)).toBe('voters=(n2 n3 n4)');
  });

  it('learners are added, promoted and demoted', () => {
    const learner = apply(base, { changes: [{ type: 'addLearner', node: 'n4' }], transition: 'auto' });
    expect(describeMembership(learner)).toBe('voters=(n1 n2 n3) learners=(n4)');
    const promoted = apply(learner, { changes: [{ type: 'addVoter', node: 'n4' }], transition: 'auto' });
    expect(describeMembership(promoted)).toBe('voters=(n1 n2 n3 n4)');
    const demoted = apply(promoted, { changes: [{ type: 'addLearner', node: 'n1' }], transition: 'auto' });
    expect(describeMembership(demoted)).toBe('voters=(n2 n3 n4) learners=(n1)');
  });

  it('several voter changes enter a joint configuration that leaves automatically', () => {
    const joint = apply(base, {
      changes: [
        { type: 'addVoter', node: 'n4' },
        { type: 'remove', node: 'n1' },
      ],
      transition: 'auto',
    });
    expect(isJoint(joint)).toBe(true);
    expect(describeMembership(joint)).toBe('voters=(n2 n3 n4) outgoing=(n1 n2 n3) autoLeave');
    const left = apply(joint, { changes: [], transition: 'auto' });
    expect(describeMembership(left)).toBe('voters=(n2 n3 n4)');
  });

  it('a demoted outgoing voter waits in learnersNext until the joint state is left', () => {
    const joint = apply(base, { changes: [{ type: 'addLearner', node: 'n3' }], transition: 'jointExplicit' });
    expect(describeMembership(joint)).toBe('voters=(n1 n2) outgoing=(n1 n2 n3) learnersNext=(n3)');
    expect(checkMembership(joint)).toBeNull();
    expect(describeMembership(apply(joint, { changes: [], transition: 'auto' }))).toBe('voters=(n1 n2) learners=(n3)');
  });

  it('refuses what is unsafe or meaningless', () => {
    const joint = apply(base, { changes: [{ type: 'addVoter', node: 'n4' }], transition: 'jointExplicit' });
    const reasons = [
      applyMembershipChange(base, { changes: [], transition: 'auto' }),
      applyMembershipChange(joint, { changes: [{ type: 'addVoter', node: 'n5' }], transition: 'auto' }),
      applyMembershipChange(joint, { changes: [{ type: 'addVoter', node: 'n5' }], transition: 'jointImplicit' }),
      applyMembershipChange(base, {
        changes: [
          { type: 'remove', node: 'n1' },
          { type: 'remove', node: 'n2' },
          { type: 'remove', node: 'n3' },
        ],
        transition: 'jointImplicit',
      }),
    ].map((result) => (result.ok ? 'ok' : result.reason));
    expect(reasons).toEqual([
      'cannot leave a non-joint configuration',
      'cannot apply a simple change in a joint configuration',
      'configuration is already joint',
      'removed all voters',
    ]);
  });

  it('random change sequences keep the configuration invariants', () => {
    const node = fc.constantFrom('n1', 'n2', 'n3', 'n4', 'n5');
    const item = fc.record({ type: fc.constantFrom('addVoter' as const, 'addLearner' as const, 'remove' as const), node });
    const change = fc.record({
      changes: fc.array(item, { maxLength: 3 }),
      transition: fc.constantFrom('auto' as const, 'jointImplicit' as const, 'jointExplicit' as const),
    });
    fc.assert(
      fc.property(fc.array(change, { maxLength: 20 }), (changes) => {
        let membership = base;
        for (const next of changes) {
          const result = applyMembershipChange(membership, next);
          if (!result.ok) continue;
          expect(checkMembership(result.membership)).toBeNull();
          expect(result.membership.voters.length).toBeGreaterThan(0);
          if (!isJoint(membership) && !isJoint(result.membership)) {
            const before = new Set(membership.voters);
            const after = new Set(result.membership.voters);
            const changed = [...before].filter((id) => !after.has(id)).length + [...after].filter((id) => !before.has(id)).length;
            expect(changed).toBeLessThanOrEqual(1); // one-server changes only outside joint consensus
          }
          membership = result.membership;
        }
      }),
    );
  });
});

describe('quorums', () => {
  it('majorityValue is the highest value a majority has reached', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(20), { minLength: 1, maxLength: 7 }), (values) => {
        const voters = values.map((_, position) => `n${position}`);
        const result = majorityValue(voters, (id) => values[Number(id.slice(1))]!);
        const reached = (candidate: number) => values.filter((value) => value >= candidate).length > values.length / 2;
        expect(reached(result)).toBe(true);
        expect(reached(result + 1)).toBe(false);
      }),
    );
  });

  it('a joint configuration needs both majorities', () => {
    const joint: Membership = { voters: ['a', 'b', 'c'], outgoingVoters: ['c', 'd', 'e'], learners: [], learnersNext: [], autoLeave: false };
    const match: Record<string, number> = { a: 9, b: 9, c: 5, d: 3, e: 1 };
    expect(committedValue(joint, (id) => match[id]!)).toBe(3);
    expect(voteResult(joint, new Map([['a', true], ['b', true]]))).toBe('pending');
    expect(voteResult(joint, new Map([['a', true], ['b', true], ['d', true], ['e', true]]))).toBe('won');
    expect(voteResult(joint, new Map([['a', true], ['b', true], ['d', false], ['e', false]]))).toBe('lost');
  });
});
