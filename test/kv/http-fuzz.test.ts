import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { NodeConfig } from '../../src/kv/config.js';
import { startNode, type RunningNode } from '../../src/kv/node.js';
import { freePorts } from '../../src/kv/local-cluster.js';
import { request } from './cluster-helpers.js';

/**
 * Hostile input at the HTTP edge (fixed seed, bounded runs): arbitrary methods, paths, query
 * strings and bodies. Every answer is JSON with a stable error code (or a success), never a 5xx
 * other than 503/504, and the node keeps serving what was acknowledged.
 */
const stableCodes = new Set(['MALFORMED_INPUT', 'INVALID_ARGUMENT', 'NOT_FOUND', 'UNSUPPORTED', 'CONFLICT', 'VALUE_TOO_LARGE', 'COMPACTED', 'NO_LEADER', 'NOT_LEADER', 'OVERLOADED', 'TIMEOUT', 'UNAUTHENTICATED']);

describe('HTTP API under hostile input', () => {
  let node: RunningNode;
  let base = '';
  let dataDir = '';

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'concord-fuzz-'));
    const [peerPort, httpPort] = await freePorts(2);
    const config: NodeConfig = {
      id: 'n1', peers: new Map([['n1', { host: '127.0.0.1', port: peerPort! }]]), http: { host: '127.0.0.1', port: httpPort! }, dataDir,
      secret: 'test-secret-0123456789abcdef', secretIsDefault: false, token: undefined, tls: undefined, join: false,
      tickIntervalMs: 10, electionTimeoutTicks: 10, heartbeatIntervalTicks: 2, requestTimeoutMs: 2_000, logLevel: 'silent', readMode: 'readIndex', enableFaultInjection: false, snapshotThresholdEntries: 50_000, forwardWrites: 'raft', walIo: 'auto',
    };
    node = await startNode(config, pino({ level: 'silent' }));
    base = `http://127.0.0.1:${node.httpAddress.port}`;
    const deadline = Date.now() + 10_000;
    while ((await request(base, 'GET', '/healthz')).status !== 200 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  }, 30_000);

  afterAll(async () => {
    await node?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers every request with a stable JSON outcome and keeps serving', async () => {
    expect((await request(base, 'PUT', '/v1/kv/anchor', '{"value":"kept"}')).status).toBe(200);
    const segment = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('v1', 'kv', 'cas', 'cluster', 'members', 'watch', '%', '%zz', '%00', '..', '%E2%82'));
    const pathArbitrary = fc.oneof(
      fc.array(segment, { maxLength: 5 }).map((parts) => `/${parts.map((part) => encodeURI(part).replace(/[?#]/g, '')).join('/')}`),
      fc.constantFrom('/v1/kv/a', '/v1/kv/a/cas', '/v1/kv', '/v1/cluster', '/v1/cluster/members', '/v1/cluster/members/n9', '/v1/cluster/transfer-leader'),
    );
    const queryArbitrary = fc.oneof(fc.constant(''), fc.constantFrom('?consistency=serializable', '?consistency=x', '?prefix=a&limit=-1', '?limit=99999999999', '?x=1', '?prefix=%FF'));
    const bodyArbitrary = fc.oneof(
      fc.constant(undefined),
      fc.json({ maxDepth: 3 }),
      fc.string({ maxLength: 64 }),
      fc.record({ value: fc.oneof(fc.string({ maxLength: 32 }), fc.integer(), fc.constant(null)), expected: fc.option(fc.string({ maxLength: 8 })) }).map((body) => JSON.stringify(body)),
      fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS'), pathArbitrary, queryArbitrary, bodyArbitrary, async (method, pathname, query, body) => {
        if (pathname.startsWith('/v1/cluster/')) return; // administration changes membership; tested elsewhere
        const response = await request(base, method, pathname + query, body);
        if (method === 'OPTIONS' && response.status === 404) return;
        if (response.status === 200) {
          expect(response.json ?? response.text.length).toBeTruthy();
          return;
        }
        expect(response.json, `${method} ${pathname}${query} → ${response.status} ${response.text.slice(0, 120)}`).not.toBeNull();
        expect(stableCodes.has(response.json.error.code), `code ${response.json.error.code}`).toBe(true);
        expect(response.status === 500 || response.status === 502).toBe(false);
      }),
      { seed: 20261124, numRuns: 300 },
    );
    expect((await request(base, 'GET', '/v1/kv/anchor')).json.value).toBe('kept');
  }, 60_000);
});
