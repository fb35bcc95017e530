import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeId } from '../../src/core/ids.js';
import { statusFor } from '../../src/kv/http.js';
import type { FaultCluster } from '../jepsen/harness/cluster.js';
import { callJson, type JsonReply } from '../jepsen/harness/http.js';
import { startProcessCluster, testToken } from './process-cluster.js';
import { rawExchange } from './raw-http.js';

/**
 * Hostile input against running `concord node` processes (a 3-node cluster, token on): fuzzed
 * requests to every endpoint through leader and followers, raw-socket garbage, huge keys and
 * values, slow and half-closed connections. Every answer is a clear error with a stable code and
 * the matching status (or a success); the processes keep serving; and nothing acknowledged is
 * lost — a sequential model of every acknowledged change is compared with the store at the end.
 * (The frame decoder and WAL reader have their own fuzz suites in test/net; the in-process HTTP
 * fuzz test is test/kv/http-fuzz.test.ts.)
 */
const stableCodes = new Set(['MALFORMED_INPUT', 'INVALID_ARGUMENT', 'NOT_FOUND', 'UNSUPPORTED', 'CONFLICT', 'VALUE_TOO_LARGE', 'COMPACTED', 'NO_LEADER', 'NOT_LEADER', 'OVERLOADED', 'TIMEOUT', 'UNAUTHENTICATED']);
const hugeValue = 'v'.repeat((1 << 20) + 1);

interface FuzzRequest {
  readonly target: number;
  readonly method: string;
  readonly path: string;
  readonly body: string | Buffer | undefined;
  readonly auth: 'valid' | 'missing' | 'wrong';
}

/** A key as it travels in the path: well-formed text, or raw percent-encoded bytes (often invalid UTF-8). */
const keySegment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a', 'b', 'c', 'key/with/slashes', 'ключ', '🔑', ' spaced ', 'x/cas').map(encodeURIComponent) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 0, maxLength: 12 }).map(encodeURIComponent) },
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 6 }).map((bytes) => [...bytes].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('')) },
  { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%00abc', '%ED%A0%80', '%FF%FE', 'k'.repeat(4097), '') },
);

const jsonValue = fc.oneof(fc.string({ maxLength: 16 }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 }), fc.constant(hugeValue));
const body = fc.oneof(
  { weight: 4, arbitrary: fc.record({ value: jsonValue }, { requiredKeys: [] }).map((value) => JSON.stringify(value)) },
  { weight: 3, arbitrary: fc.record({ expected: fc.oneof(jsonValue, fc.constantFrom('a', 'b')), value: jsonValue }, { requiredKeys: [] }).map((value) => JSON.stringify(value)) },
  { weight: 2, arbitrary: fc.json({ maxDepth: 2 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 48 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 1, arbitrary: fc.constantFrom('{"value":"\\ud800"}', '{"value":"ok","extra":1}', '{"value": ', '[1,2]', 'null', '{"value":"\u0000"}') },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

/** Administration and fault endpoints only ever get bodies that cannot be valid (no membership change by accident). */
const adminRequest = fc.oneof(
  fc.tuple(fc.constant('POST'), fc.constant('/v1/cluster/members'), fc.constantFrom('{"id":5,"address":"h:1"}', '{"id":"n9"}', '{"id":"n9","address":"nohostport"}', '{"id":"n9","address":"h:1","learner":"yes"}', 'garbage', '')),
  fc.tuple(fc.constant('DELETE'), fc.string({ minLength: 1, maxLength: 8 }).filter((id) => !/^n\d$/.test(id)).map((id) => `/v1/cluster/members/${encodeURIComponent(id)}`), fc.constant(undefined)),
  fc.tuple(fc.constant('POST'), fc.constant('/v1/cluster/transfer-leader'), fc.constantFrom('{"to":5}', '{"to":"not an id!"}', '{"unknown":1}', '[]')),
  fc.tuple(fc.constant('POST'), fc.constant('/v1/debug/faults/clock'), fc.constantFrom('{"rate":0}', '{"rate":-1}', '{"rate":1000}', '{"offsetMs":"soon"}', '{"offsetMs":1e12}', '{"other":1}', 'nope')),
  fc.tuple(fc.constant('POST'), fc.constant('/v1/debug/faults/links'), fc.constantFrom('{"block":"n2"}', '{"block":[1]}', '{"direction":"sideways","block":["n2"]}', '{}', '{"heal":"yes"}')),
  fc.tuple(fc.constantFrom('GET', 'PUT'), fc.constantFrom('/v1/watch?revision=abc', '/v1/watch?prefix=' + 'p'.repeat(5000), '/v1/watch?bogus=1'), fc.constant(undefined)),
);

const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc.record({
  target: fc.integer({ min: 0, max: 2 }),
  auth: fc.oneof({ weight: 12, arbitrary: fc.constant('valid' as const) }, { weight: 1, arbitrary: fc.constantFrom('missing' as const, 'wrong' as const) }),
  request: fc.oneof(
    { weight: 10, arbitrary: fc.tuple(fc.constantFrom('GET', 'PUT', 'DELETE', 'POST', 'PATCH'), keySegment, fc.constantFrom('', '', '/cas', '?consistency=serializable', '?consistency=bogus', '?x=1'), body).map(([method, key, suffix, payload]) => [method, `/v1/kv/${key}${suffix}`, payload] as const) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('GET', 'POST'), fc.constantFrom('?prefix=a', '?limit=0', '?limit=-1', '?limit=999999999999', '?prefix=%FF', '?prefix=a&limit=2&consistency=serializable', '?what=1'), fc.constant(undefined)).map(([method, query, payload]) => [method, `/v1/kv${query}`, payload] as const) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('GET', 'POST', 'DELETE'), fc.constantFrom('/', '/v1', '/v2/kv/a', '/v1/kvx', '/v1/cluster', '/healthz', '/metrics', '/v1/debug/faults', '/../etc/passwd', '/v1/kv/%2e%2e'), body).map(([method, path, payload]) => [method, path, payload] as const) },
    { weight: 3, arbitrary: adminRequest },
  ),
}).map(({ target, auth, request }) => ({ target, auth, method: request[0], path: request[1], body: request[2] }));

function headersFor(auth: FuzzRequest['auth']): { token?: string; headers?: Record<string, string> } {
  if (auth === 'valid') return { token: testToken };
  if (auth === 'wrong') return { token: 'not-the-token' };
  return {};
}

/** The model: every acknowledged change, in order (one sequential client). */
class Model {
  readonly values = new Map<string, string>();
  readonly deleted = new Set<string>();

  observe(method: string, path: string, reply: JsonReply): void {
    if (reply.kind !== 'response' || reply.status !== 200 || !path.startsWith('/v1/kv/')) return;
    const body = reply.body as { key?: string; value?: string; deleted?: boolean };
    if (typeof body?.key !== 'string') return;
    if (method === 'DELETE') {
      this.values.delete(body.key);
      this.deleted.add(body.key);
    } else if ((method === 'PUT' || method === 'POST') && typeof body.value === 'string') {
      this.values.set(body.key, body.value);
      this.deleted.delete(body.key);
    }
  }
}

describe('hostile input against running node processes', () => {
  let cluster: FaultCluster;
  let cleanup: () => Promise<void>;
  let ids: NodeId[];

  beforeAll(async () => {
    ({ cluster, cleanup } = await startProcessCluster(3));
    ids = cluster.members();
  }, 60_000);

  afterAll(async () => {
    await cleanup?.();
  });

  const url = (index: number): string => cluster.slot(ids[index]!).httpUrl;

  it('answers fuzzed requests to every endpoint with a stable code and status, and loses nothing acknowledged', async () => {
    const model = new Model();
    const anchor = await cluster.call(ids[0]!, 'PUT', '/v1/kv/anchor', { value: 'kept' });
    expect(anchor.kind === 'response' && anchor.status).toBe(200);
    model.observe('PUT', '/v1/kv/anchor', anchor);
    await fc.assert(
      fc.asyncProperty(fuzzRequest, async (request) => {
        const reply = await callJson({ base: url(request.target), method: request.method, path: request.path, body: request.body, timeoutMs: 8_000, ...headersFor(request.auth) });
        const what = `${request.method} ${request.path.slice(0, 80)} (auth ${request.auth})`;
        expect(reply.kind, what).toBe('response');
        if (reply.kind !== 'response') return;
        model.observe(request.method, request.path, reply);
        if (request.auth !== 'valid' && request.path !== '/healthz') {
          expect(reply.status, what).toBe(401);
          expect(reply.body?.error?.code, what).toBe('UNAUTHENTICATED');
          return;
        }
        if (reply.status === 200) return;
        expect(reply.body, `${what} → ${reply.status} ${reply.text.slice(0, 120)}`).not.toBeNull();
        const code = reply.body.error?.code;
        expect(stableCodes.has(code), `${what} → code ${code}`).toBe(true);
        expect(typeof reply.body.error.message, what).toBe('string');
        if (request.path !== '/healthz') expect(reply.status, `${what} → ${code}`).toBe(statusFor(code));
      }),
      { numRuns: 250 },
    );
    for (const [key, value] of model.values) {
      const read = await cluster.call(ids[1]!, 'GET', `/v1/kv/${encodeURIComponent(key)}`);
      expect(read.kind === 'response' && read.body?.value, `acknowledged ${JSON.stringify(key)}`).toBe(value);
    }
    for (const key of model.deleted) {
      const read = await cluster.call(ids[2]!, 'GET', `/v1/kv/${encodeURIComponent(key)}`);
      expect(read.kind === 'response' && read.status, `deleted ${JSON.stringify(key)}`).toBe(404);
    }
    expect(cluster.unexpectedExits).toEqual([]);
  }, 90_000);

  it('answers raw protocol garbage with 4xx and a JSON error, and keeps serving', async () => {
    const garbage: (string | Buffer)[] = [
      'GARBAGE\r\n\r\n',
      'GET /v1/kv/a HTTP/9.9\r\n\r\n',
      Buffer.concat([Buffer.from('GET /v1/kv/'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(' HTTP/1.1\r\nhost: x\r\n\r\n')]),
      `GET /v1/kv/a HTTP/1.1\r\nhost: x\r\nx-big: ${'h'.repeat(20_000)}\r\n\r\n`,
      `PUT /v1/kv/a HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${testToken}\r\ncontent-length: -5\r\n\r\n`,
      `PUT /v1/kv/a HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${testToken}\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n`,
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00]), // a TLS ClientHello on plain HTTP
    ];
    for (const request of garbage) {
      const result = await rawExchange(url(0), [request], 5_000);
      const label = JSON.stringify(request.toString('latin1').slice(0, 40));
      expect(result.status, `${label}: ${result.text.slice(0, 80)}`).toBeGreaterThanOrEqual(400);
      expect(result.status!, label).toBeLessThan(500);
      expect(stableCodes.has(result.json?.error?.code), `${label}: ${result.text.slice(0, 200)}`).toBe(true);
      expect(result.closedByServer, label).toBe(true);
    }
    expect((await cluster.call(ids[0]!, 'GET', '/healthz')).kind).toBe('response');
  }, 60_000);

  it('refuses huge keys, values and bodies with 413 VALUE_TOO_LARGE', async () => {
    const leader = await cluster.waitForAgreedLeader(10_000);
    const key = await cluster.call(leader, 'PUT', `/v1/kv/${'k'.repeat(4097)}`, { value: 'x' });
    expect(key.kind === 'response' && [key.status, key.body.error.code]).toEqual([413, 'VALUE_TOO_LARGE']);
    const value = await cluster.call(leader, 'PUT', '/v1/kv/big', { value: hugeValue }, 10_000);
    expect(value.kind === 'response' && [value.status, value.body.error.code]).toEqual([413, 'VALUE_TOO_LARGE']);
    const body = await cluster.call(leader, 'PUT', '/v1/kv/big', `{"value":"${'b'.repeat(3 << 20)}"}`, 10_000);
    expect(body.kind === 'response' && [body.status, body.body.error.code]).toEqual([413, 'VALUE_TOO_LARGE']);
    // A declared 10 GB body is refused at once, before any of it is read.
    const declared = await rawExchange(cluster.slot(leader).httpUrl, [`PUT /v1/kv/big HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${testToken}\r\ncontent-type: application/json\r\ncontent-length: 10000000000\r\n\r\n{"value":`], 5_000);
    expect([declared.status, declared.json?.error?.code]).toEqual([413, 'VALUE_TOO_LARGE']);
    expect(declared.elapsedMs).toBeLessThan(3_000);
    expect((await cluster.call(leader, 'GET', '/v1/kv/big')).kind === 'response').toBe(true);
  }, 60_000);

  it('bounds slow and half-closed connections while other clients are served', async () => {
    const base = url(0);
    const auth = `authorization: Bearer ${testToken}\r\n`;
    // Slowloris: headers one byte at a time. The server gives up at its header deadline.
    const slowHeaders = rawExchange(base, ['PUT /v1/kv/slow HTTP/1.1\r\n', ...[...'host: x\r\nx-slow: 1234567890\r\n'].flatMap((byte) => [byte, { delayMs: 150 }])], 15_000);
    // A body that never completes: the request deadline ends it.
    const slowBody = rawExchange(base, [`PUT /v1/kv/slow HTTP/1.1\r\nhost: x\r\n${auth}content-type: application/json\r\ncontent-length: 100\r\n\r\n{"value":`, { delayMs: 12_000 }], 15_000);
    // Meanwhile the API answers others promptly.
    const started = Date.now();
    for (let index = 0; index < 20; index++) {
      const reply = await cluster.call(ids[index % 3]!, 'PUT', `/v1/kv/during-slow-${index}`, { value: String(index) });
      expect(reply.kind === 'response' && reply.status).toBe(200);
    }
    expect(Date.now() - started).toBeLessThan(8_000);
    const [headers, bodyResult] = await Promise.all([slowHeaders, slowBody]);
    expect(headers.closedByServer).toBe(true);
    expect(headers.elapsedMs).toBeLessThan(12_000);
    expect(bodyResult.closedByServer).toBe(true);
    expect(bodyResult.elapsedMs).toBeLessThan(12_000);
    // Half-closed after a complete request: the answer still arrives.
    const complete = '{"value":"half"}';
    const halfClosed = await rawExchange(base, [`PUT /v1/kv/half HTTP/1.1\r\nhost: x\r\n${auth}content-type: application/json\r\ncontent-length: ${complete.length}\r\n\r\n${complete}`, { halfClose: true }], 8_000);
    expect(halfClosed.status).toBe(200);
    // Half-closed in the middle of the body: a clear 400, nothing written.
    const cut = await rawExchange(base, [`PUT /v1/kv/cut HTTP/1.1\r\nhost: x\r\n${auth}content-type: application/json\r\ncontent-length: 50\r\n\r\n{"value":"cu`, { halfClose: true }], 8_000);
    expect(cut.closedByServer).toBe(true);
    expect([cut.status, cut.json?.error?.code]).toEqual([400, 'MALFORMED_INPUT']);
    const cutRead = await cluster.call(ids[1]!, 'GET', '/v1/kv/cut');
    expect(cutRead.kind === 'response' && cutRead.status).toBe(404);
    const halfRead = await cluster.call(ids[1]!, 'GET', '/v1/kv/half');
    expect(halfRead.kind === 'response' && halfRead.body?.value).toBe('half');
    expect(cluster.unexpectedExits).toEqual([]);
  }, 60_000);

  it('keeps serving with hundreds of idle connections open', async () => {
    const { hostname, port } = new URL(url(0));
    const net = await import('node:net');
    const sockets = await Promise.all(Array.from({ length: 300 }, () => new Promise<import('node:net').Socket>((resolve) => {
      const socket = net.connect({ host: hostname, port: Number(port) }, () => resolve(socket));
      socket.on('error', () => resolve(socket));
    })));
    try {
      const reply = await cluster.call(ids[0]!, 'PUT', '/v1/kv/idle-storm', { value: 'ok' }, 5_000);
      expect(reply.kind === 'response' && reply.status, JSON.stringify(reply).slice(0, 300)).toBe(200);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  }, 30_000);
});
