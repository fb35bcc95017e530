import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { resolveRaftConfig } from '../../../src/protocols/raft/config.js';
import { KvStateMachine, type KvCommand, type KvTypes } from '../../../src/protocols/raft/kv.js';
import { applyMembershipChange, membershipOfVoters } from '../../../src/protocols/raft/membership.js';
import { RaftCore } from '../../../src/protocols/raft/raft.js';
import { recoverRaftState } from '../../../src/protocols/raft/recovery.js';
import { SessionTable } from '../../../src/protocols/raft/sessions.js';
import { frameBytes } from '../../../src/protocols/raft/state-machine.js';
import type { LogEntry, RaftRecord } from '../../../src/protocols/raft/types.js';
import { checkLogMatching } from './harness/monitor.js';
import { RaftNetwork } from './harness/network.js';

/**
 * Crash recovery is exact: after any history of elections, replication, snapshots, reordering and
 * loss, a node whose records were all synced recovers the same durable state (term, vote, commit,
 * snapshot, log) and the same applied state (applied index, state-machine digest, membership).
 * A crash that loses unsynced records recovers a consistent, possibly older, state and never
 * breaks safety.
 */

const ids = ['n1', 'n2', 'n3'];

function randomCommand(rng: Rng): KvCommand {
  const key = `k${rng.int(0, 5)}`;
  switch (rng.int(0, 2)) {
    case 0:
      return { op: 'put', key, value: `v${rng.int(0, 99)}` };
    case 1:
      return { op: 'delete', key };
    default:
      return { op: 'cas', key, expected: rng.chance(0.5) ? null : `v${rng.int(0, 99)}`, value: `v${rng.int(0, 99)}` };
  }
}

/** One random action: client traffic, time, message delivery (reordered), loss, or a lossy crash. */
function randomAction(network: RaftNetwork, rng: Rng): void {
  const up = network.upIds();
  const id = rng.pick(up);
  const roll = rng.int(0, 99);
  if (roll < 20) network.propose(id, randomCommand(rng), rng.chance(0.3) ? { clientId: `c${id}`, sequence: rng.int(1, 3) } : undefined);
  else if (roll < 35) network.tick(id, rng.int(1, 3));
  else if (roll < 80 && network.queue.length > 0) network.deliverAt(rng.int(0, network.queue.length - 1));
  else if (roll < 85 && network.queue.length > 0) network.dropAt(rng.int(0, network.queue.length - 1));
  else if (roll < 93) network.syncAll();
  else if (roll < 95) network.read(id, { op: 'get', key: `k${rng.int(0, 5)}` });
  else if (roll < 96 && up.length === ids.length) {
    // A crash may keep any prefix of the unsynced records.
    const victim = rng.pick(up);
    const unsynced = network.records(victim).length;
    network.crash(victim, rng.int(0, unsynced - network.syncedCount(victim)));
    network.restart(victim);
  } else if (roll < 98) {
    // Membership changes among the three nodes (learners, removals, joint): configurations are
    // part of the durable state that recovery must rebuild.
    const node = rng.pick(ids);
    const type = rng.pick(['addVoter', 'addLearner', 'remove'] as const);
    network.changeMembership(id, { changes: [{ type, node }], transition: rng.pick(['auto', 'jointImplicit'] as const) });
  } else network.request(id, { type: 'campaign' });
}

function durablePicture(network: RaftNetwork, id: string) {
  const core = network.core(id);
  const status = core.status();
  return {
    durable: core.durableState(),
    applied: status.appliedIndex,
    digest: status.digest,
    membership: status.membership,
  };
}

// Snapshots whole in one step (the default budget against these small states), and spread over
// many steps (16 bytes of image per step) so crashes land in the middle of one.
describe.each([
  { label: 'snapshots in one step', stepBytes: {} },
  { label: 'snapshots 16 bytes per step', stepBytes: { snapshotStepBytes: 16 } },
])('crash recovery, $label', ({ stepBytes }) => {
  it('recovering from fully synced records rebuilds exactly the state before the crash', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
        const rng = Rng.fromSeed(seed);
        const network = new RaftNetwork(ids, { snapshotThresholdEntries: 6, snapshotCatchUpEntries: 2, snapshotChunkBytes: 48, maxSessions: 2, ...stepBytes }, seed);
        for (let step = 0; step < 400; step += 1) {
          randomAction(network, rng);
          if (step % 50 === 49) {
            const victim = rng.pick(network.upIds());
            network.sync(victim);
            const before = durablePicture(network, victim);
            const recovered = recoverRaftState(network.records(victim));
            expect(recovered?.hardState).toEqual(before.durable.hardState);
            expect(recovered?.entries).toEqual(before.durable.entries);
            network.crash(victim);
            network.restart(victim);
            expect(durablePicture(network, victim)).toEqual(before);
          }
        }
        expect(network.monitor.violations).toEqual([]);
        expect(checkLogMatching(network.upIds().map((id) => network.core(id)))).toEqual([]);
      }),
      { numRuns: 40 },
    );
  });

  it('a crash that loses unsynced records recovers a consistent state and stays safe', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
        const rng = Rng.fromSeed(seed);
        const network = new RaftNetwork(ids, { snapshotThresholdEntries: 5, snapshotCatchUpEntries: 1, snapshotChunkBytes: 40, ...stepBytes }, seed);
        for (let step = 0; step < 400; step += 1) {
          randomAction(network, rng);
          if (rng.chance(0.03)) {
            const victim = rng.pick(network.upIds());
            network.setHoldSync(victim, true);
          }
          if (rng.chance(0.02)) {
            const victim = rng.pick(network.upIds());
            const written = network.records(victim).length;
            network.crash(victim, rng.int(0, Math.max(0, written - network.syncedCount(victim))));
            network.setHoldSync(victim, false);
            network.restart(victim);
          }
        }
        for (const id of network.upIds()) network.setHoldSync(id, false);
        // Heal: let time pass and messages flow; the cluster converges.
        for (let round = 0; round < 60; round += 1) {
          for (const id of network.upIds()) network.tick(id);
          network.stabilize();
        }
        expect(network.monitor.violations).toEqual([]);
        const cores = network.upIds().map((id) => network.core(id));
        expect(checkLogMatching(cores)).toEqual([]);
        const leaders = cores.filter((core) => core.status().role === 'leader');
        expect(leaders, `seed ${seed}`).toHaveLength(1);
        // Members of the final configuration converge (a removed node is left behind).
        const membership = leaders[0]!.status().membership;
        const members = cores.filter((core) => membership.voters.includes(core.id) || membership.learners.includes(core.id));
        const commits = new Set(members.map((core) => `${core.status().commitIndex}:${core.status().digest}`));
        expect(commits.size, `seed ${seed}`).toBe(1);
      }),
      { numRuns: 40 },
    );
  });
});

describe('recovery of configurations', () => {
  it('configuration entries kept before the snapshot point are not applied a second time', () => {
    // A checkpoint at 6 keeps entries 4..7 for lagging followers; 4..6 changed the configuration
    // (enter joint, leave, enter joint again). Replaying them on top of the snapshot's
    // configuration would give a different one (and is refused by an assertion).
    const changes = [
      { changes: [{ type: 'remove' as const, node: 'n3' }], transition: 'jointExplicit' as const },
      { changes: [], transition: 'auto' as const },
      { changes: [{ type: 'addVoter' as const, node: 'n3' }], transition: 'jointExplicit' as const },
    ];
    let membership = membershipOfVoters(['n1', 'n2', 'n3']);
    for (const change of changes) {
      const next = applyMembershipChange(membership, change);
      if (!next.ok) throw new Error(next.reason);
      membership = next.membership;
    }
    const entries: LogEntry<KvCommand>[] = [
      ...changes.map((change, offset) => ({ index: 4 + offset, term: 2, sizeBytes: 0, payload: { type: 'membership' as const, change } })),
      { index: 7, term: 2, sizeBytes: 0, payload: { type: 'empty' } },
    ];
    const data = frameBytes({ sessions: new SessionTable(1).snapshot() }, new KvStateMachine().snapshot());
    const records: RaftRecord<KvCommand>[] = [
      {
        type: 'checkpoint',
        snapshot: { index: 6, term: 2, membership },
        data,
        hardState: { term: 2, vote: null, commit: 6 },
        logStart: { index: 3, term: 2 },
        entries,
      },
    ];
    const config = resolveRaftConfig<KvTypes>({ stateMachine: () => new KvStateMachine() });
    const core = new RaftCore<KvTypes>({ id: 'n1', peers: ['n1', 'n2', 'n3'], rng: Rng.fromSeed(1), recovered: records }, config);
    expect(core.status().membership).toEqual(membership);
    expect(core.status().appliedIndex).toBe(6);
  });
});
