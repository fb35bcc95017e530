import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvClient } from '../../src/kv/client.js';
import { request, startTestCluster, type TestCluster } from './cluster-helpers.js';

/**
 * The replicated KV service as real processes on loopback: a 3-node cluster serves through any
 * node, survives a kill -9 of its leader, and a restarted node catches up; no acknowledged write
 * is lost. Every step is bounded; the cluster is torn down whatever happens.
 */
describe('3-node KV cluster (real processes)', () => {
  let test: TestCluster;

  beforeAll(async () => {
    test = await startTestCluster(3);
  }, 90_000);

  afterAll(async () => {
    await test?.cleanup();
  });

  it('serves put through one node and get through every other', async () => {
    const [first, second, third] = test.cluster.endpoints;
    const put = await request(first!, 'PUT', '/v1/kv/greeting', '{"value":"hello"}');
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ key: 'greeting', value: 'hello' });
    expect(put.json.revision).toBeGreaterThan(0);
    const linearizable = await request(second!, 'GET', '/v1/kv/greeting');
    expect(linearizable.status).toBe(200);
    expect(linearizable.json).toEqual({ key: 'greeting', value: 'hello', revision: put.json.revision });
    // A linearizable read on a follower sees the write at once; a serializable one may lag briefly.
    expect((await request(third!, 'GET', '/v1/kv/greeting')).json.value).toBe('hello');
    const missing = await request(third!, 'GET', '/v1/kv/nope');
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('NOT_FOUND');
  });

  it('supports delete, cas (409 with the current value) and prefix listing', async () => {
    const [first, second] = test.cluster.endpoints;
    for (const key of ['list/a', 'list/b', 'list/c', 'other']) expect((await request(first!, 'PUT', `/v1/kv/${key}`, JSON.stringify({ value: key }))).status).toBe(200);
    const listing = await request(second!, 'GET', '/v1/kv?prefix=list/&limit=2');
    expect(listing.status).toBe(200);
    expect(listing.json.entries.map((entry: { key: string }) => entry.key)).toEqual(['list/a', 'list/b']);
    expect(listing.json.more).toBe(true);
    const casOk = await request(second!, 'POST', '/v1/kv/list%2Fa/cas', JSON.stringify({ expected: 'list/a', value: 'changed' }));
    expect(casOk.status).toBe(200);
    expect(casOk.json.value).toBe('changed');
    const casFail = await request(first!, 'POST', '/v1/kv/list%2Fa/cas', JSON.stringify({ expected: 'list/a', value: 'again' }));
    expect(casFail.status).toBe(409);
    expect(casFail.json.error.code).toBe('CONFLICT');
    expect(casFail.json.error.current).toMatchObject({ key: 'list/a', value: 'changed' });
    const casAbsent = await request(first!, 'POST', '/v1/kv/fresh/cas', JSON.stringify({ expected: null, value: 'new' }));
    expect(casAbsent.status).toBe(200);
    const deleted = await request(second!, 'DELETE', '/v1/kv/list%2Fb');
    expect(deleted.json).toMatchObject({ key: 'list/b', deleted: true });
    expect((await request(first!, 'DELETE', '/v1/kv/list%2Fb')).json.deleted).toBe(false);
    expect((await request(first!, 'GET', '/v1/kv/list%2Fb')).status).toBe(404);
  });

  it('reports the cluster: one leader, three voting members, health and metrics', async () => {
    const status = await request(test.cluster.endpoints[1]!, 'GET', '/v1/cluster');
    expect(status.status).toBe(200);
    expect(status.json.leader).toMatch(/^n[123]$/);
    expect(status.json.members).toHaveLength(3);
    expect(status.json.members.filter((member: { role: string }) => member.role === 'leader')).toHaveLength(1);
    expect((await request(test.cluster.endpoints[0]!, 'GET', '/healthz')).json.status).toBe('ok');
    const metrics = await request(test.cluster.endpoints[0]!, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    for (const name of ['concord_proposals_total', 'concord_commits_total', 'concord_elections_observed_total', 'concord_raft_apply_lag', 'concord_http_request_duration_seconds_bucket']) {
      expect(metrics.text).toContain(name);
    }
    // The default WAL io is auto: inline on this loopback test machine's disk, unless it proved slow.
    expect(metrics.text).toMatch(/concord_wal_inline_io\{node="n\d"\} [01]/);
    expect(metrics.text).toMatch(/concord_wal_inline_batches_total\{node="n\d"\} \d+/);
  });

  it('validates requests with stable codes and keeps serving', async () => {
    const endpoint = test.cluster.endpoints[0]!;
    const cases: [string, string, string | undefined, number, string][] = [
      ['PUT', '/v1/kv/k', '{"value": ', 400, 'MALFORMED_INPUT'],
      ['PUT', '/v1/kv/k', '{"value": 5}', 400, 'INVALID_ARGUMENT'],
      ['PUT', '/v1/kv/k', '[1,2]', 400, 'INVALID_ARGUMENT'],
      ['PUT', '/v1/kv/k', '{"value":"x","extra":1}', 400, 'INVALID_ARGUMENT'],
      ['PUT', '/v1/kv/k', undefined, 400, 'INVALID_ARGUMENT'],
      ['PUT', '/v1/kv/k', '{"value":"\\ud800"}', 400, 'INVALID_ARGUMENT'],
      ['PUT', '/v1/kv/%E0%A4%A', '{"value":"x"}', 400, 'INVALID_ARGUMENT'],
      ['PUT', '/v1/kv/%00reserved', '{"value":"x"}', 400, 'INVALID_ARGUMENT'],
      ['GET', '/v1/kv?prefix=%00concord', undefined, 400, 'INVALID_ARGUMENT'],
      ['GET', '/v1/watch?prefix=%00concord', undefined, 400, 'INVALID_ARGUMENT'],
      ['GET', '/v1/kv/k?consistency=sometimes', undefined, 400, 'INVALID_ARGUMENT'],
      ['GET', '/v1/kv/k?colour=blue', undefined, 400, 'INVALID_ARGUMENT'],
      ['GET', '/v1/kv?limit=0', undefined, 400, 'INVALID_ARGUMENT'],
      ['POST', '/v1/kv/k/cas', '{"value":"x"}', 400, 'INVALID_ARGUMENT'],
      ['PUT', `/v1/kv/${'k'.repeat(5000)}`, '{"value":"x"}', 413, 'VALUE_TOO_LARGE'],
      ['PUT', '/v1/kv/k', JSON.stringify({ value: 'v'.repeat((1 << 20) + 1) }), 413, 'VALUE_TOO_LARGE'],
      ['GET', '/v2/anything', undefined, 404, 'NOT_FOUND'],
      ['PATCH', '/v1/kv/k', '{}', 405, 'UNSUPPORTED'],
      ['POST', '/v1/cluster/members', '{"id":"bad id","address":"x"}', 400, 'INVALID_ARGUMENT'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const response = await request(endpoint, method, path, body);
      expect({ method, path: path.slice(0, 40), status: response.status, code: response.json?.error?.code }).toEqual({ method, path: path.slice(0, 40), status, code });
      expect(typeof response.json.error.message).toBe('string');
    }
    const huge = await request(endpoint, 'PUT', '/v1/kv/k', Buffer.alloc(5 << 20, 0x61));
    expect(huge.status).toBe(413);
    expect((await request(endpoint, 'PUT', '/v1/kv/still-serving', '{"value":"yes"}')).status).toBe(200);
    expect((await request(endpoint, 'GET', '/v1/kv/still-serving')).json.value).toBe('yes');
  });

  it('streams watch events as server-sent events', async () => {
    const client = new KvClient({ endpoints: [test.cluster.endpoints[2]!] });
    const abort = new AbortController();
    const seen: { type: string; key: string }[] = [];
    const done = client.watch('watched/', 0, (event) => {
      seen.push({ type: event.type, key: event.key });
      if (seen.length === 2) abort.abort();
    }, abort.signal);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const writer = new KvClient({ endpoints: [test.cluster.endpoints[0]!] });
    await writer.put('unwatched', 'x');
    await writer.put('watched/1', 'a');
    await writer.delete('watched/1');
    await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error('watch saw too little')), 5_000))]);
    expect(seen).toEqual([{ type: 'put', key: 'watched/1' }, { type: 'delete', key: 'watched/1' }]);
    client.close();
    writer.close();
  });

  it('keeps every acknowledged write through a kill -9 of the leader and a restart', async () => {
    const { cluster } = test;
    const leader = await cluster.waitForLeader(10_000);
    const acknowledged = new Map<string, string>();
    const client = new KvClient({ endpoints: cluster.endpoints, timeoutMs: 4_000, attemptsMax: 20, retryDelayMs: 100 });
    for (let index = 0; index < 20; index += 1) {
      await client.put(`durable/${index}`, `v${index}`);
      acknowledged.set(`durable/${index}`, `v${index}`);
    }
    await cluster.kill(leader);
    const writing = (async () => {
      for (let index = 20; index < 60; index += 1) {
        try {
          await client.put(`durable/${index}`, `v${index}`);
          acknowledged.set(`durable/${index}`, `v${index}`);
        } catch {
          // Unacknowledged: may or may not be present, never checked.
        }
      }
    })();
    const newLeader = await cluster.waitForLeader(10_000, [leader]);
    expect(newLeader).not.toBe(leader);
    await writing;
    expect(acknowledged.size).toBeGreaterThan(40);
    cluster.start(leader);
    await cluster.waitHealthy(20_000, [leader]);
    const restarted = cluster.node(leader).httpUrl;
    // The restarted node catches up: its own replica (serializable) converges to every acknowledged write.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const listing = await request(restarted, 'GET', '/v1/kv?prefix=durable/&limit=1000&consistency=serializable');
      const present = new Map<string, string>(listing.json.entries.map((entry: { key: string; value: string }) => [entry.key, entry.value]));
      const missing = [...acknowledged].filter(([key, value]) => present.get(key) !== value);
      if (missing.length === 0) break;
      if (Date.now() > deadline) throw new Error(`restarted node misses ${missing.length} acknowledged writes, e.g. ${missing[0]}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    for (const endpoint of cluster.endpoints) {
      const listing = await request(endpoint, 'GET', '/v1/kv?prefix=durable/&limit=1000');
      expect(listing.status).toBe(200);
      for (const [key, value] of acknowledged) expect(listing.json.entries.find((entry: { key: string }) => entry.key === key)?.value, `${key} via ${endpoint}`).toBe(value);
    }
    client.close();
  });
});
