import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from './cluster-helpers.js';
import { eventually, inProcessCluster, putMany, type InProcessCluster } from './in-process-cluster.js';

/**
 * Snapshots and log compaction in the real host: with a low snapshot threshold, a node restarts
 * from its checkpoint record and snapshot file, and a node that was down while the leader compacted its log catches
 * up through InstallSnapshot. Three nodes in this process, each with its own WAL and TCP transport.
 */
let cluster: InProcessCluster | null = null;

afterEach(async () => {
  await cluster?.cleanup();
  cluster = null;
});

describe('snapshots in the real host', () => {
  // Both WAL io modes: inline writes and syncs must keep the same durability and recovery.
  it.each(['threadpool', 'inline'] as const)('a lagging node catches up from a snapshot; every node restarts from its checkpoint (WAL io %s)', async (walIo) => {
    const nodes = (cluster = await inProcessCluster({ snapshotThresholdEntries: 100, walIo }));
    const base = nodes.base;
    for (const index of [0, 1, 2]) await nodes.start(index);
    await eventually(async () => (await request(base(0), 'GET', '/healthz')).status === 200, 10_000, 'a leader');
    await putMany(base(0), 0, 50);
    // A follower goes down (n3, or n2 when n3 leads: this test is about catching up, not failover);
    // the others commit far past the snapshot threshold and compact their logs.
    const leader = (await request(base(0), 'GET', '/v1/cluster')).json.leader as string;
    const lagging = leader === 'n3' ? 1 : 2;
    await nodes.stop(lagging);
    await putMany(base(0), 50, 450);
    const status = await request(base(0), 'GET', '/v1/cluster');
    expect(status.json.commitIndex).toBeGreaterThan(400);
    const restarted = await nodes.start(lagging);
    expect(restarted.id).toBe(nodes.configs[lagging]!.id);
    await eventually(async () => (await request(base(lagging), 'GET', '/v1/kv/s449?consistency=serializable')).status === 200, 15_000, 'the lagging node catches up');
    // It got there through a snapshot: its log starts past the entries it missed.
    expect((await request(base(lagging), 'GET', '/v1/cluster')).json.snapshotIndex).toBeGreaterThan(60);
    const listing = await request(base(lagging), 'GET', '/v1/kv?prefix=s&limit=1000&consistency=serializable');
    expect(listing.json.entries).toHaveLength(450);
    // Each node keeps one snapshot file (the newest) beside its WAL, not inside it.
    for (const index of [0, 1, 2]) {
      expect(readdirSync(path.join(nodes.configs[index]!.dataDir, 'snap'))).toEqual([expect.stringMatching(/^snap-\d{16}\.snap$/)]);
    }
    // Full restart of everyone: each recovers from its checkpoint (snapshot read back from its
    // file) plus the tail of its log.
    for (const index of [0, 1, 2]) await nodes.stop(index);
    for (const index of [0, 1, 2]) await nodes.start(index);
    await eventually(async () => (await request(base(1), 'GET', '/healthz')).status === 200, 10_000, 'a leader after restart');
    const after = await request(base(1), 'GET', '/v1/kv?prefix=s&limit=1000');
    expect(after.json.entries).toHaveLength(450);
    expect((await request(base(2), 'GET', '/v1/kv/s0')).json.value).toBe('v0');
  }, 60_000);
});
