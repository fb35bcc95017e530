import { afterEach, describe, expect, it } from 'vitest';
import { request } from './cluster-helpers.js';
import { eventually, inProcessCluster, putMany, type InProcessCluster } from './in-process-cluster.js';

/**
 * Graceful stop of the leader: it hands leadership to a caught-up voter before it goes, so the
 * cluster has a live leader the moment the stop returns (no election timeout to wait out) and
 * writes through a follower go on.
 */
let cluster: InProcessCluster | null = null;

afterEach(async () => {
  await cluster?.cleanup();
  cluster = null;
});

async function leaderOf(nodes: InProcessCluster, index: number): Promise<{ leader: string | null; term: number }> {
  const status = (await request(nodes.base(index), 'GET', '/v1/cluster')).json as { leader: string | null; term: number };
  return { leader: status.leader, term: status.term };
}

describe('graceful shutdown', () => {
  it('a stopping leader hands leadership over first; the cluster keeps a leader and serves writes at once', async () => {
    // Election timeout 1 s: without the hand-over, followers would still name the stopped leader for ≥ 1 s.
    const nodes = (cluster = await inProcessCluster({ electionTimeoutTicks: 100, heartbeatIntervalTicks: 5 }));
    for (const index of [0, 1, 2]) await nodes.start(index);
    await eventually(async () => (await leaderOf(nodes, 0)).leader !== null, 10_000, 'a leader');
    await putMany(nodes.base(0), 0, 32);
    const before = await leaderOf(nodes, 0);
    const leaderIndex = nodes.configs.findIndex((config) => config.id === before.leader);
    const follower = leaderIndex === 0 ? 1 : 0;

    const startedMs = Date.now();
    await nodes.stop(leaderIndex);
    const after = await leaderOf(nodes, follower);
    expect(after.leader).not.toBeNull();
    expect(after.leader).not.toBe(before.leader);
    expect(after.term).toBeGreaterThan(before.term);
    // The hand-over finished well within one election timeout.
    expect(Date.now() - startedMs).toBeLessThan(1_000);
    await putMany(nodes.base(follower), 32, 64);
    const read = await request(nodes.base(follower), 'GET', '/v1/kv/s63');
    expect(read.json.value).toBe('v63');
  }, 30_000);
});
