import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { ConcordError, ErrorCode, isConcordError } from '../core/errors.js';
import { isNodeId } from '../core/ids.js';
import type { Consistency, KvLimits, KvService, ReadOptions, SessionRef, WriteOptions } from './api.js';
import type { KvMetrics } from './metrics.js';
import { WatchStream } from './watch-stream.js';
import { applyFaultRequest, describeFaults, type FaultControls } from './faults.js';

/**
 * HTTP API v1 on node:http. Every request is validated; every failure is JSON
 * `{"error":{"code","message",...}}` with a status from `statusFor`; nothing waits past
 * `requestTimeoutMs` (the service rejects with TIMEOUT and the socket has a hard timeout too).
 */
export interface HttpServerOptions {
  readonly service: KvService;
  readonly limits: KvLimits;
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
  readonly metrics: KvMetrics;
  /** When set, every route but /healthz requires `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** PEM cert and key: serve HTTPS instead of HTTP. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /** Whether this node is ready to serve (false while starting or stopping). */
  readonly healthy: () => { readonly ok: boolean; readonly detail: Record<string, unknown> };
  /**
   * How a follower passes writes to the leader: `raft` (proposal forwarding inside Raft; the
   * follower answers once it applied the entry) or `http` (the request is relayed to the leader's
   * HTTP API over a keep-alive connection and its answer relayed back).
   */
  readonly forwardWrites?: 'raft' | 'http';
  /** Fault injection (`/v1/debug/faults…`), present only when the node enables it. */
  readonly faults?: FaultControls;
}

/** Status of every stable error code at the HTTP edge. */
export function statusFor(code: string): number {
  switch (code) {
    case ErrorCode.InvalidArgument:
    case ErrorCode.MalformedInput:
    case ErrorCode.InvalidConfig:
    case ErrorCode.UnknownNode:
      return 400;
    case ErrorCode.Unauthenticated:
      return 401;
    case ErrorCode.NotFound:
      return 404;
    case ErrorCode.Unsupported:
      return 405;
    case ErrorCode.Conflict:
      return 409;
    case ErrorCode.Compacted:
      return 410;
    case ErrorCode.ValueTooLarge:
      return 413;
    case ErrorCode.NotLeader:
    case ErrorCode.NoLeader:
    case ErrorCode.NoQuorum:
    case ErrorCode.Overloaded:
    case ErrorCode.Stopped:
      return 503;
    case ErrorCode.Timeout:
      return 504;
    default:
      return 500;
  }
}

const retryAfterSeconds = '1';
/** Open client connections at once; more are refused by the listener (bounded memory). */
const maxConnections = 4096;
/** A too-large body up to this size is read and discarded before the 413 goes out. */
const maxDrainBytes = 64 << 20;
const jsonHeaders = { 'content-type': 'application/json' } as const;
const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Shared by every request without a query string (read-only use). */
const noParameters = new URLSearchParams();

type Handler = (request: Parsed) => Promise<Reply> | Reply;

interface Route {
  readonly name: string;
  readonly handler: Handler;
}

interface Parsed {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: Buffer | null;
  readonly headers: http.IncomingHttpHeaders;
  readonly raw: http.IncomingMessage;
  readonly response: http.ServerResponse;
}

/** A JSON reply, or `null` when the handler streams the response itself (watch). */
type Reply = { readonly status: number; readonly body: unknown } | null;

export class KvHttpServer {
  private readonly server: http.Server;
  private readonly tokenDigest: Buffer | null;
  private readonly watches = new Set<WatchStream>();
  /** Keep-alive pools for relaying writes to the leader (bounded: a few leaders over time). */
  private readonly relayAgents = new Map<string, http.Agent>();
  /** The hot route, built once rather than per request. */
  private readonly kvRoute: Route = { name: 'kv', handler: (request) => this.kvKey(request) };

  constructor(private readonly options: HttpServerOptions) {
    this.tokenDigest = options.token === undefined ? null : digest(options.token);
    const listener = (request: http.IncomingMessage, response: http.ServerResponse): void => this.onRequest(request, response);
    // The header and request deadlines below are only enforced when connections are checked (Node's default: every 30 s).
    const serverOptions = { keepAlive: true, connectionsCheckingInterval: 500 };
    this.server = options.tls === undefined ? http.createServer(serverOptions, listener) : https.createServer({ ...options.tls, ...serverOptions }, listener);
    // Hard bounds against slow or half-closed clients; the service's own deadline is shorter.
    this.server.headersTimeout = Math.max(1_000, options.requestTimeoutMs);
    this.server.requestTimeout = options.requestTimeoutMs + 2_000;
    this.server.keepAliveTimeout = 30_000;
    this.server.maxHeadersCount = 64;
    this.server.maxConnections = maxConnections;
    // A client that half-closes after a complete request (shutdown(SHUT_WR)) still gets its answer.
    (this.server as unknown as { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      if (socket.writable) socket.end(protocolErrorResponse(error));
      else socket.destroy(error);
    });
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    for (const watch of this.watches) watch.close();
    this.watches.clear();
    this.closeRelayAgents();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      setTimeout(() => this.server.closeAllConnections(), 1_000).unref();
    });
  }

  // ---------------------------------------------------------------- request cycle

  private onRequest(request: http.IncomingMessage, response: http.ServerResponse): void {
    const startedMs = performance.now();
    const url = request.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    const route = this.route(request.method ?? 'GET', path);
    const finish = (status: number): void => {
      this.options.metrics.observeRequest(route.name, status, (performance.now() - startedMs) / 1000);
    };
    if (route.name !== 'healthz' && !this.authorized(request)) {
      this.sendError(response, new ConcordError(ErrorCode.Unauthenticated, 'missing or wrong bearer token'), finish);
      request.resume();
      return;
    }
    const declaredLength = Number(request.headers['content-length'] ?? 0);
    if (declaredLength > this.options.limits.maxBodyBytes) {
      // Answer once the body is drained (so the client reads the 413 instead of a reset), unless
      // it is absurdly large: then answer at once and drop the connection.
      response.shouldKeepAlive = false;
      const error = tooLarge(`body of ${declaredLength} bytes exceeds ${this.options.limits.maxBodyBytes}`);
      if (declaredLength > maxDrainBytes) {
        this.sendError(response, error, finish);
        return;
      }
      request.on('end', () => this.sendError(response, error, finish));
      request.resume();
      return;
    }
    readBody(request, this.options.limits.maxBodyBytes).then(
      (body) => {
        const query = queryAt < 0 ? noParameters : new URLSearchParams(url.slice(queryAt + 1));
        const parsed: Parsed = { method: request.method ?? 'GET', path, query, body, headers: request.headers, raw: request, response };
        return route.handler(parsed);
      },
    ).then(
      (reply) => {
        if (reply === null) return; // streamed
        this.sendJson(response, reply.status, reply.body);
        finish(reply.status);
      },
      (error: unknown) => {
        if (isConcordError(error, ErrorCode.ValueTooLarge)) response.shouldKeepAlive = false;
        this.sendError(response, error, finish);
      },
    );
  }

  private authorized(request: http.IncomingMessage): boolean {
    if (this.tokenDigest === null) return true;
    const header = request.headers.authorization;
    if (header === undefined || !header.startsWith('Bearer ')) return false;
    return timingSafeEqual(digest(header.slice(7)), this.tokenDigest);
  }

  private sendJson(response: http.ServerResponse, status: number, body: unknown): void {
    if (response.headersSent) return;
    const text = JSON.stringify(body);
    response.writeHead(status, { ...jsonHeaders, 'content-length': Buffer.byteLength(text) });
    response.end(text);
  }

  private sendError(response: http.ServerResponse, error: unknown, finish: (status: number) => void): void {
    const concord = isConcordError(error) ? error : null;
    if (concord === null) this.options.logger.error({ err: error }, 'request failed unexpectedly');
    const code = concord?.code ?? ErrorCode.Internal;
    const status = statusFor(code);
    const message = concord?.message ?? 'internal error';
    const body = { error: { code, message, ...(concord?.details ?? {}) } };
    if (!response.headersSent && status === 503) response.setHeader('retry-after', retryAfterSeconds);
    this.sendJson(response, status, body);
    finish(status);
  }

  // ---------------------------------------------------------------- routes

  private route(method: string, path: string): Route {
    if (path.startsWith('/v1/kv/')) return this.kvRoute;
    if (path === '/v1/kv') return { name: 'range', handler: only(method, 'GET', (request) => this.range(request)) };
    if (path === '/v1/watch') return { name: 'watch', handler: only(method, 'GET', (request) => this.watch(request)) };
    if (path === '/v1/cluster') return { name: 'cluster', handler: only(method, 'GET', () => this.clusterStatus()) };
    if (path === '/v1/cluster/members') return { name: 'members', handler: only(method, 'POST', this.admin((request) => this.addMember(request))) };
    if (path.startsWith('/v1/cluster/members/')) return { name: 'members', handler: only(method, 'DELETE', this.admin((request) => this.removeMember(request))) };
    if (path === '/v1/cluster/transfer-leader') return { name: 'transfer', handler: only(method, 'POST', this.admin((request) => this.transfer(request))) };
    if (path === '/metrics') return { name: 'metrics', handler: only(method, 'GET', (request) => this.metrics(request)) };
    if (path === '/healthz') return { name: 'healthz', handler: only(method, 'GET', () => this.health()) };
    const faults = this.options.faults;
    if (faults !== undefined && path === '/v1/debug/faults') return { name: 'faults', handler: only(method, 'GET', () => ({ status: 200, body: describeFaults(faults) })) };
    if (faults !== undefined && path.startsWith('/v1/debug/faults/')) {
      return { name: 'faults', handler: only(method, 'POST', (request) => ({ status: 200, body: applyFaultRequest(faults, path.slice('/v1/debug/faults/'.length), this.jsonBody(request, ['offsetMs', 'rate', 'block', 'isolate', 'heal', 'direction'])) })) };
    }
    return { name: 'unknown', handler: () => { throw new ConcordError(ErrorCode.NotFound, `no route ${method} ${path}`); } };
  }

  private async kvKey(request: Parsed): Promise<Reply> {
    const method = request.method;
    if (this.options.forwardWrites === 'http' && method !== 'GET' && request.headers[proxiedHeader] === undefined) {
      const target = this.options.service.adminTarget();
      if (target !== null) {
        const relayed = await this.relay(request, target);
        if (relayed !== null) return relayed;
      }
    }
    const rest = request.path.slice('/v1/kv/'.length);
    if (method === 'POST' && rest.endsWith('/cas')) return this.cas(request, this.key(rest.slice(0, -'/cas'.length)));
    const key = this.key(rest);
    switch (method) {
      case 'PUT': {
        const body = this.jsonBody(request, ['value']);
        const value = this.value(body.value, 'value');
        const result = await this.options.service.put(key, value, this.writeOptions(request));
        return { status: 200, body: result };
      }
      case 'GET': {
        const options = this.readOptions(request.query, keyReadQuery);
        const entry = await this.options.service.get(key, options);
        if (entry === null) throw new ConcordError(ErrorCode.NotFound, `key not found: ${key}`);
        return { status: 200, body: entry };
      }
      case 'DELETE': {
        noBody(request);
        noQuery(request.query, []);
        return { status: 200, body: await this.options.service.delete(key, this.writeOptions(request)) };
      }
      default:
        throw new ConcordError(ErrorCode.Unsupported, `method ${method} not allowed on /v1/kv/<key>`);
    }
  }

  private async cas(request: Parsed, key: string): Promise<Reply> {
    const body = this.jsonBody(request, ['expected', 'value']);
    if (!('expected' in body)) throw invalid('field "expected" is required (a string, or null for "absent")');
    const expected = body.expected === null ? null : this.value(body.expected, 'expected');
    const value = this.value(body.value, 'value');
    const result = await this.options.service.cas(key, expected, value, this.writeOptions(request));
    if (result.succeeded) return { status: 200, body: result.entry };
    throw new ConcordError(ErrorCode.Conflict, `value of ${key} is not the expected one`, { current: result.current });
  }

  private async range(request: Parsed): Promise<Reply> {
    noBody(request);
    const options = this.readOptions(request.query, rangeQuery);
    const prefix = request.query.get('prefix') ?? '';
    if (Buffer.byteLength(prefix) > this.options.limits.maxKeyBytes) throw tooLarge(`prefix longer than ${this.options.limits.maxKeyBytes} bytes`);
    const limit = intParam(request.query, 'limit', { min: 1, max: this.options.limits.maxRangeLimit, fallback: Math.min(1000, this.options.limits.maxRangeLimit) });
    return { status: 200, body: await this.options.service.range(prefix, limit, options) };
  }

  private watch(request: Parsed): Reply {
    noBody(request);
    noQuery(request.query, ['prefix', 'revision']);
    const prefix = request.query.get('prefix') ?? '';
    if (Buffer.byteLength(prefix) > this.options.limits.maxKeyBytes) throw tooLarge(`prefix longer than ${this.options.limits.maxKeyBytes} bytes`);
    if (prefix.startsWith('\u0000')) throw invalid('prefixes starting with U+0000 are reserved');
    const lastEventId = request.headers['last-event-id'];
    let fromRevision = intParam(request.query, 'revision', { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 });
    if (typeof lastEventId === 'string' && /^\d{1,15}$/.test(lastEventId)) fromRevision = Number(lastEventId) + 1;
    if (this.watches.size >= this.options.limits.maxWatchers) throw new ConcordError(ErrorCode.Overloaded, `more than ${this.options.limits.maxWatchers} watches open`);
    const stream = new WatchStream(request.raw, request.response, () => this.watches.delete(stream));
    this.watches.add(stream);
    stream.attach(this.options.service.watch(prefix, fromRevision, stream));
    return null;
  }

  private clusterStatus(): Reply {
    return { status: 200, body: this.options.service.cluster() };
  }

  /** Administration runs on the leader: a follower proxies the request there (once, never in a loop). */
  private admin(handler: Handler): Handler {
    return (request) => {
      const target = request.headers[proxiedHeader] === undefined ? this.options.service.adminTarget() : null;
      if (target === null) return handler(request);
      return proxy(request, target, this.options.requestTimeoutMs, this.options.tls !== undefined);
    };
  }

  /**
   * Relays a write to the leader over a pooled keep-alive connection. `null` when the leader
   * could not be reached before anything was sent (the caller then forwards through Raft); a
   * failure after the request may have arrived is a TIMEOUT (outcome unknown), never retried here.
   */
  private async relay(request: Parsed, target: string): Promise<Reply> {
    let agent = this.relayAgents.get(target);
    if (agent === undefined) {
      if (this.relayAgents.size >= 16) this.closeRelayAgents();
      agent = this.options.tls === undefined ? new http.Agent({ keepAlive: true, maxSockets: 256 }) : new https.Agent({ keepAlive: true, maxSockets: 256 });
      this.relayAgents.set(target, agent);
    }
    try {
      return await proxy(request, target, this.options.requestTimeoutMs + 500, this.options.tls !== undefined, agent);
    } catch (error) {
      if ((error as { details?: { notSent?: boolean } }).details?.notSent === true) return null;
      throw error;
    }
  }

  /** Dropping an agent from the map does not close its idle keep-alive sockets: destroy it. */
  private closeRelayAgents(): void {
    for (const agent of this.relayAgents.values()) agent.destroy();
    this.relayAgents.clear();
  }

  private async addMember(request: Parsed): Promise<Reply> {
    const body = this.jsonBody(request, ['id', 'address', 'learner']);
    if (!isNodeId(body.id)) throw invalid('field "id" must be a node id (letters, digits, _ . -; 1–64 characters)');
    if (typeof body.address !== 'string' || !/^[^\s:]+:\d{1,5}$/.test(body.address)) throw invalid('field "address" must be "host:port"');
    if (body.learner !== undefined && typeof body.learner !== 'boolean') throw invalid('field "learner" must be a boolean');
    const member = { id: body.id, address: body.address, voter: body.learner !== true };
    return { status: 200, body: await this.options.service.addMember(member, this.writeOptions(request)) };
  }

  private async removeMember(request: Parsed): Promise<Reply> {
    noBody(request);
    const id = decode(request.path.slice('/v1/cluster/members/'.length));
    if (!isNodeId(id)) throw invalid('member id must be a node id');
    return { status: 200, body: await this.options.service.removeMember(id, this.writeOptions(request)) };
  }

  private async transfer(request: Parsed): Promise<Reply> {
    const body = request.body === null || request.body.length === 0 ? {} : this.jsonBody(request, ['to']);
    if (body.to !== undefined && body.to !== null && !isNodeId(body.to)) throw invalid('field "to" must be a node id or null');
    const to = typeof body.to === 'string' ? body.to : null;
    return { status: 200, body: await this.options.service.transferLeader(to, { timeoutMs: this.options.requestTimeoutMs }) };
  }

  private async metrics(request: Parsed): Promise<Reply> {
    const text = await this.options.metrics.registry.metrics();
    request.response.writeHead(200, { 'content-type': this.options.metrics.registry.contentType, 'content-length': Buffer.byteLength(text) });
    request.response.end(text);
    return null;
  }

  private health(): Reply {
    const health = this.options.healthy();
    return { status: health.ok ? 200 : 503, body: { status: health.ok ? 'ok' : 'unavailable', ...health.detail } };
  }

  // ---------------------------------------------------------------- validation

  private key(encoded: string): string {
    const key = decode(encoded);
    if (key.length === 0) throw invalid('key must not be empty');
    if (Buffer.byteLength(key) > this.options.limits.maxKeyBytes) throw tooLarge(`key longer than ${this.options.limits.maxKeyBytes} bytes`);
    if (!isWellFormed(key)) throw invalid('key must be valid UTF-8');
    return key;
  }

  private value(value: unknown, field: string): string {
    if (typeof value !== 'string') throw invalid(`field "${field}" must be a string`);
    if (!isWellFormed(value)) throw invalid(`field "${field}" must be well-formed Unicode`);
    // A UTF-8 byte count bound without encoding: at most 3 bytes per UTF-16 unit.
    if (value.length * 3 > this.options.limits.maxValueBytes && Buffer.byteLength(value) > this.options.limits.maxValueBytes) {
      throw tooLarge(`field "${field}" longer than ${this.options.limits.maxValueBytes} bytes`);
    }
    return value;
  }

  private jsonBody(request: Parsed, allowed: readonly string[]): Record<string, unknown> {
    if (request.body === null || request.body.length === 0) throw invalid('request body must be a JSON object');
    let text: string;
    try {
      text = utf8.decode(request.body);
    } catch {
      throw invalid('request body is not valid UTF-8');
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new ConcordError(ErrorCode.MalformedInput, `request body is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('request body must be a JSON object');
    for (const field of Object.keys(body)) {
      if (!allowed.includes(field)) throw invalid(`unknown field "${field}" (allowed: ${allowed.join(', ')})`);
    }
    return body as Record<string, unknown>;
  }

  /** `allowed`: the route's query parameters, `consistency` among them. */
  private readOptions(query: URLSearchParams, allowed: readonly string[]): ReadOptions {
    noQuery(query, allowed);
    const consistency = query.get('consistency') ?? 'linearizable';
    if (consistency !== 'linearizable' && consistency !== 'serializable') throw invalid('consistency must be "linearizable" or "serializable"');
    return { consistency: consistency as Consistency, timeoutMs: this.options.requestTimeoutMs };
  }

  /** Optional session headers make retries exactly-once: `concord-client-id` + `concord-sequence`. */
  private writeOptions(request: Parsed): WriteOptions {
    const clientId = request.headers['concord-client-id'];
    const sequence = request.headers['concord-sequence'];
    if (clientId === undefined && sequence === undefined) return { timeoutMs: this.options.requestTimeoutMs };
    if (typeof clientId !== 'string' || !/^[A-Za-z0-9_.:-]{1,128}$/.test(clientId)) throw invalid('header concord-client-id must be 1–128 characters of [A-Za-z0-9_.:-]');
    if (typeof sequence !== 'string' || !/^[1-9]\d{0,14}$/.test(sequence)) throw invalid('header concord-sequence must be a positive integer');
    const session: SessionRef = { clientId, sequence: Number(sequence) };
    return { timeoutMs: this.options.requestTimeoutMs, session };
  }
}

// ---------------------------------------------------------------- helpers

const proxiedHeader = 'concord-proxied-by';
/** Query parameters of the read routes, allocated once (the key GET is on the hot path). */
const keyReadQuery: readonly string[] = ['consistency'];
const rangeQuery: readonly string[] = ['consistency', 'prefix', 'limit'];

/** Forwards a request to `target` (host:port) and relays its JSON answer. */
function proxy(request: Parsed, target: string, timeoutMs: number, useTls: boolean, agent?: http.Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { ...request.headers, [proxiedHeader]: '1', host: target };
    delete headers.connection;
    const client = (useTls ? https : http).request(`${useTls ? 'https' : 'http'}://${target}${request.raw.url ?? request.path}`, { method: request.method, headers, timeout: timeoutMs, ...(agent === undefined ? {} : { agent }) }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        try {
          resolve({ status: response.statusCode ?? 502, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        } catch {
          reject(new ConcordError(ErrorCode.Internal, `leader at ${target} sent a malformed answer`));
        }
      });
      response.on('error', reject);
    });
    client.on('timeout', () => client.destroy(new ConcordError(ErrorCode.Timeout, `leader at ${target} did not answer in time`)));
    client.on('error', (error) => {
      if (isConcordError(error)) {
        reject(error);
        return;
      }
      const notSent = (error as NodeJS.ErrnoException).code === 'ECONNREFUSED';
      reject(notSent
        ? new ConcordError(ErrorCode.NoLeader, `cannot reach the leader at ${target}: ${error.message}`, { notSent: true })
        : new ConcordError(ErrorCode.Timeout, `lost the leader at ${target} while relaying: ${error.message}`, { effect: 'unknown' }));
    });
    client.end(request.body ?? undefined);
  });
}

/** A raw answer to a request Node could not even parse, still with a stable JSON error code. */
function protocolErrorResponse(error: NodeJS.ErrnoException): string {
  const [status, reason, code] = error.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', ErrorCode.ValueTooLarge]
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout', ErrorCode.Timeout]
      : [400, 'Bad Request', ErrorCode.MalformedInput];
  const body = JSON.stringify({ error: { code, message: `malformed or incomplete HTTP request (${error.code ?? error.message})` } });
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** No lone surrogates: the string round-trips through UTF-8 unchanged. */
function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

function invalid(message: string): ConcordError {
  return new ConcordError(ErrorCode.InvalidArgument, message);
}

function tooLarge(message: string): ConcordError {
  return new ConcordError(ErrorCode.ValueTooLarge, message);
}

function only(method: string, allowed: string, handler: Handler): Handler {
  if (method === allowed) return handler;
  return () => {
    throw new ConcordError(ErrorCode.Unsupported, `method ${method} not allowed here (use ${allowed})`);
  };
}

function decode(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw invalid('malformed percent-encoding in path');
  }
}

function noBody(request: Parsed): void {
  if (request.body !== null && request.body.length > 0) throw invalid(`${request.method} ${request.path} takes no body`);
}

function noQuery(query: URLSearchParams, allowed: readonly string[]): void {
  for (const name of query.keys()) {
    if (!allowed.includes(name)) throw invalid(`unknown query parameter "${name}"${allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : ''}`);
  }
}

function intParam(query: URLSearchParams, name: string, bounds: { min: number; max: number; fallback: number }): number {
  const text = query.get(name);
  if (text === null) return bounds.fallback;
  if (!/^\d{1,16}$/.test(text)) throw invalid(`${name} must be an integer`);
  const value = Number(text);
  if (value < bounds.min || value > bounds.max) throw invalid(`${name} must be in [${bounds.min}, ${bounds.max}]`);
  return value;
}

/** Reads the whole body, failing with 413 past `maxBytes`. `null` when there is none. */
function readBody(request: http.IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  if (request.headers['content-length'] === '0' || (request.headers['content-length'] === undefined && request.headers['transfer-encoding'] === undefined)) {
    // No body (the usual GET): nothing to wait for; node:http discards the empty stream.
    return Promise.resolve(null);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (failed) {
        if (size > maxDrainBytes) request.destroy();
        return;
      }
      if (size > maxBytes) {
        // Keep draining (bounded) so the 413 is read by the client; answer at the end.
        failed = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (failed) reject(tooLarge(`body exceeds ${maxBytes} bytes`));
      else resolve(chunks.length === 0 ? null : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    request.on('error', (error) => {
      reject(new ConcordError(ErrorCode.MalformedInput, `request stream failed: ${error.message}`));
    });
  });
}
