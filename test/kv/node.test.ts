import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { NodeConfig } from '../../src/kv/config.js';
import { startNode, type RunningNode } from '../../src/kv/node.js';
import { freePorts } from '../../src/kv/local-cluster.js';
import { request } from './cluster-helpers.js';

/** A single-node cluster hosted in the test process: the HTTP edge, sessions, admin and restart. */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface NodeOptions {
  token?: string;
  dataDir?: string;
  id?: string;
  /** Extra members this node knows (a joining node lists the cluster it joins). */
  peers?: Map<string, { host: string; port: number }>;
  join?: boolean;
  waitHealthy?: boolean;
  readMode?: 'readIndex' | 'lease';
  faults?: boolean;
  snapshotThresholdEntries?: number;
}

async function singleNode(options: NodeOptions = {}): Promise<{ node: RunningNode; base: string; dataDir: string; peerPort: number }> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'concord-node-test-'));
  const [peerPort, httpPort] = await freePorts(2);
  const id = options.id ?? 'n1';
  const config: NodeConfig = {
    id,
    peers: new Map([...(options.peers ?? []), [id, { host: '127.0.0.1', port: peerPort! }]]),
    http: { host: '127.0.0.1', port: httpPort! },
    dataDir,
    secret: 'test-secret-0123456789abcdef',
    secretIsDefault: false,
    token: options.token,
    tls: undefined,
    join: options.join === true,
    tickIntervalMs: 10,
    electionTimeoutTicks: 10,
    heartbeatIntervalTicks: 2,
    requestTimeoutMs: 2_000,
    logLevel: 'silent',
    readMode: options.readMode ?? 'readIndex',
    enableFaultInjection: options.faults === true,
    snapshotThresholdEntries: options.snapshotThresholdEntries ?? 50_000,
    forwardWrites: 'raft',
    walIo: 'auto',
  };
  const node = await startNode(config, pino({ level: 'silent' }));
  let stopped = false;
  cleanups.push(async () => {
    if (!stopped) await node.stop();
    stopped = true;
    if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${node.httpAddress.port}`;
  const deadline = Date.now() + 10_000;
  while (options.waitHealthy !== false && (await request(base, 'GET', '/healthz')).status !== 200) {
    if (Date.now() > deadline) throw new Error('single node did not become healthy');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { node, base, dataDir, peerPort: peerPort! };
}

describe('KV node (in process)', () => {
  it('requires the bearer token when one is configured, except on /healthz', async () => {
    const { base } = await singleNode({ token: 's3cret' });
    expect((await request(base, 'GET', '/healthz')).status).toBe(200);
    const denied = await request(base, 'PUT', '/v1/kv/a', '{"value":"1"}');
    expect(denied.status).toBe(401);
    expect(denied.json.error.code).toBe('UNAUTHENTICATED');
    expect((await request(base, 'GET', '/v1/kv/a', undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await request(base, 'GET', '/metrics')).status).toBe(401);
    const allowed = await request(base, 'PUT', '/v1/kv/a', '{"value":"1"}', { authorization: 'Bearer s3cret' });
    expect(allowed.status).toBe(200);
  });

  it('applies a retried write of one client session once', async () => {
    const { base } = await singleNode();
    const session = { 'concord-client-id': 'client-7', 'concord-sequence': '1' };
    const first = await request(base, 'POST', '/v1/kv/counter/cas', JSON.stringify({ expected: null, value: '1' }), session);
    expect(first.status).toBe(200);
    // The same (client, sequence) again — a retry after a lost reply — answers the first outcome.
    const retry = await request(base, 'POST', '/v1/kv/counter/cas', JSON.stringify({ expected: null, value: '1' }), session);
    expect(retry.status).toBe(200);
    expect(retry.json.revision).toBe(first.json.revision);
    const next = await request(base, 'POST', '/v1/kv/counter/cas', JSON.stringify({ expected: null, value: '1' }), { ...session, 'concord-sequence': '2' });
    expect(next.status).toBe(409);
    expect((await request(base, 'PUT', '/v1/kv/x', '{"value":"1"}', { 'concord-sequence': '2' })).status).toBe(400);
  });

  it('replays watch history from a revision and hides reserved metadata', async () => {
    const { base } = await singleNode();
    const first = await request(base, 'PUT', '/v1/kv/w/a', '{"value":"1"}');
    await request(base, 'PUT', '/v1/kv/w/b', '{"value":"2"}');
    const listing = await request(base, 'GET', '/v1/kv?limit=10');
    expect(listing.json.entries.map((entry: { key: string }) => entry.key)).toEqual(['w/a', 'w/b']);
    const text = await new Promise<string>((resolve, reject) => {
      let received = '';
      void import('node:http').then(({ default: http }) => {
        const client = http.get(`${base}/v1/watch?prefix=w/&revision=${first.json.revision}`, (response) => {
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            received += chunk;
            if ((received.match(/event: put/g) ?? []).length >= 2) {
              client.destroy();
              resolve(received);
            }
          });
        });
        client.on('error', (error) => (received.length > 0 ? resolve(received) : reject(error)));
        setTimeout(() => reject(new Error(`watch replay incomplete: ${received}`)), 5_000).unref();
      });
    });
    expect(text).toContain(`id: ${first.json.revision}\nevent: put\ndata: {"type":"put","key":"w/a","value":"1","revision":${first.json.revision}}`);
    expect(text).toContain('"key":"w/b"');
  });

  it('adds and removes a learner, refuses a transfer without another voter', async () => {
    const { base } = await singleNode();
    const added = await request(base, 'POST', '/v1/cluster/members', JSON.stringify({ id: 'n9', address: '127.0.0.1:9', learner: true }));
    expect(added.status).toBe(200);
    expect(added.json.members).toContainEqual(expect.objectContaining({ id: 'n9', voter: false, role: 'learner', address: '127.0.0.1:9' }));
    const removed = await request(base, 'DELETE', '/v1/cluster/members/n9');
    expect(removed.status).toBe(200);
    expect(removed.json.members.map((member: { id: string }) => member.id)).toEqual(['n1']);
    expect((await request(base, 'DELETE', '/v1/cluster/members/n9')).status).toBe(404);
    const transfer = await request(base, 'POST', '/v1/cluster/transfer-leader', '{}');
    expect(transfer.status).toBe(400);
  });

  it('grows by a joining node: added as a voter, it catches up and serves reads', async () => {
    const first = await singleNode();
    await request(first.base, 'PUT', '/v1/kv/early', '{"value":"before-join"}');
    const joiner = await singleNode({ id: 'n2', join: true, waitHealthy: false, peers: new Map([['n1', { host: '127.0.0.1', port: first.peerPort }]]) });
    expect((await request(joiner.base, 'GET', '/healthz')).status).toBe(503);
    const added = await request(first.base, 'POST', '/v1/cluster/members', JSON.stringify({ id: 'n2', address: `127.0.0.1:${joiner.peerPort}` }));
    expect(added.status).toBe(200);
    expect(added.json.members.map((member: { id: string; voter: boolean }) => `${member.id}:${member.voter}`)).toEqual(['n1:true', 'n2:true']);
    // The joiner learns the log, then serves linearizable reads (through the leader's read index).
    const deadline = Date.now() + 10_000;
    let read = await request(joiner.base, 'GET', '/v1/kv/early');
    while (read.status !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      read = await request(joiner.base, 'GET', '/v1/kv/early');
    }
    expect(read.json.value).toBe('before-join');
    expect((await request(joiner.base, 'PUT', '/v1/kv/late', '{"value":"via-joiner"}')).status).toBe(200);
    expect((await request(first.base, 'GET', '/v1/kv/late')).json.value).toBe('via-joiner');
  });

  it('serves fault injection only when enabled: clock jumps and rate, link blocks, heal', async () => {
    const plain = await singleNode();
    expect((await request(plain.base, 'GET', '/v1/debug/faults')).status).toBe(404);
    const { base } = await singleNode({ faults: true, readMode: 'lease' });
    expect((await request(base, 'PUT', '/v1/kv/leased', '{"value":"1"}')).status).toBe(200);
    const jumped = await request(base, 'POST', '/v1/debug/faults/clock', '{"offsetMs":2000,"rate":0.5}');
    expect(jumped.json.clock).toEqual({ rate: 0.5, offsetMs: 2000 });
    const blocked = await request(base, 'POST', '/v1/debug/faults/links', '{"block":["n7"],"direction":"outbound"}');
    expect(blocked.json.links).toEqual({ outbound: ['n7'], inbound: [] });
    expect((await request(base, 'POST', '/v1/debug/faults/links', '{"block":"n7"}')).status).toBe(400);
    expect((await request(base, 'POST', '/v1/debug/faults/links', '{"heal":true}')).json.links).toEqual({ outbound: [], inbound: [] });
    expect((await request(base, 'POST', '/v1/debug/faults/clock', '{"rate":1}')).status).toBe(200);
    // After the jump (a burst of ticks) the single node is still the leader and serves lease reads.
    const deadline = Date.now() + 5_000;
    let read = await request(base, 'GET', '/v1/kv/leased');
    while (read.status !== 200 && Date.now() < deadline) read = await request(base, 'GET', '/v1/kv/leased');
    expect(read.json.value).toBe('1');
  });

  it('recovers its data from the write-ahead log after a graceful restart', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'concord-node-restart-'));
    try {
      const first = await singleNode({ dataDir });
      for (let index = 0; index < 50; index += 1) expect((await request(first.base, 'PUT', `/v1/kv/r${index}`, JSON.stringify({ value: `v${index}` }))).status).toBe(200);
      await first.node.stop();
      expect((await first.node.stopped).fatal).toBeNull();
      const second = await singleNode({ dataDir });
      const listing = await request(second.base, 'GET', '/v1/kv?prefix=r&limit=100');
      expect(listing.json.entries).toHaveLength(50);
      expect((await request(second.base, 'GET', '/v1/kv/r49')).json.value).toBe('v49');
    } finally {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
