import http from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import { ConcordError, ErrorCode } from '../core/errors.js';
import type { CasResult, ClusterStatus, DeleteResult, KvEntry, PutResult, RangeResult, WatchEvent } from './api.js';

/**
 * An HTTP client of API v1 for the CLI, tests and tools. It tries its endpoints in turn when one
 * is unreachable or answers 503 (no leader / overloaded), within `attemptsMax` attempts; writes
 * carry a client session (`concord-client-id`, `concord-sequence`) so a retried write takes
 * effect once.
 */
export interface KvClientOptions {
  readonly endpoints: readonly string[];
  readonly token?: string;
  readonly timeoutMs?: number;
  /** Attempts per operation across endpoints (default 6). */
  readonly attemptsMax?: number;
  /** Pause between attempts (default 150 ms). */
  readonly retryDelayMs?: number;
  /** Trust this CA for https endpoints. */
  readonly ca?: Buffer;
}

export interface HttpResult {
  readonly status: number;
  readonly body: any;
}

export class KvHttpError extends ConcordError {
  constructor(readonly status: number, code: string, message: string, readonly body: unknown) {
    super(code as ErrorCode, message);
  }
}

export class KvClient {
  readonly clientId = `c-${randomBytes(8).toString('hex')}`;
  private sequence = 0;
  private preferred = 0;
  private readonly agents = new Map<string, http.Agent>();
  private readonly endpoints: URL[];

  constructor(private readonly options: KvClientOptions) {
    if (options.endpoints.length === 0) throw new ConcordError(ErrorCode.InvalidArgument, 'at least one endpoint is needed');
    this.endpoints = options.endpoints.map((endpoint) => new URL(endpoint.includes('://') ? endpoint : `http://${endpoint}`));
  }

  async put(key: string, value: string): Promise<PutResult> {
    return (await this.write('PUT', keyPath(key), { value })).body as PutResult;
  }

  async get(key: string, options: { serializable?: boolean } = {}): Promise<KvEntry | null> {
    const result = await this.call('GET', keyPath(key) + (options.serializable === true ? '?consistency=serializable' : ''), undefined, [200, 404]);
    return result.status === 404 ? null : (result.body as KvEntry);
  }

  async delete(key: string): Promise<DeleteResult> {
    return (await this.write('DELETE', keyPath(key), undefined)).body as DeleteResult;
  }

  async cas(key: string, expected: string | null, value: string): Promise<CasResult> {
    const result = await this.write('POST', `${keyPath(key)}/cas`, { expected, value }, [200, 409]);
    if (result.status === 200) return { succeeded: true, entry: result.body as KvEntry };
    return { succeeded: false, current: (result.body as { error: { current: KvEntry | null } }).error.current ?? null };
  }

  async list(prefix: string, options: { limit?: number; serializable?: boolean } = {}): Promise<RangeResult> {
    const query = new URLSearchParams({ prefix });
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.serializable === true) query.set('consistency', 'serializable');
    return (await this.call('GET', `/v1/kv?${query}`)).body as RangeResult;
  }

  async cluster(endpointIndex?: number): Promise<ClusterStatus> {
    return (await this.call('GET', '/v1/cluster', undefined, [200], endpointIndex)).body as ClusterStatus;
  }

  async addMember(id: string, address: string, learner: boolean): Promise<ClusterStatus> {
    return (await this.write('POST', '/v1/cluster/members', { id, address, learner })).body as ClusterStatus;
  }

  async removeMember(id: string): Promise<ClusterStatus> {
    return (await this.write('DELETE', `/v1/cluster/members/${encodeURIComponent(id)}`, undefined)).body as ClusterStatus;
  }

  async transferLeader(to: string | null): Promise<ClusterStatus> {
    return (await this.call('POST', '/v1/cluster/transfer-leader', { to })).body as ClusterStatus;
  }

  /**
   * Streams watch events until `signal` aborts or the server ends the stream. Resolves when the
   * stream ends; rejects on an `event: error` from the server.
   */
  async watch(prefix: string, fromRevision: number, onEvent: (event: WatchEvent) => void, signal?: AbortSignal): Promise<void> {
    const url = new URL(`/v1/watch?${new URLSearchParams({ prefix, revision: String(fromRevision) })}`, this.endpoints[this.preferred]);
    await new Promise<void>((resolve, reject) => {
      const request = this.transport(url).request(url, { method: 'GET', headers: this.headers(), signal }, (response) => {
        if (response.statusCode !== 200) {
          collect(response).then((body) => reject(errorFrom(response.statusCode ?? 0, body)), reject);
          return;
        }
        parseEvents(response, onEvent, resolve, reject);
      });
      request.on('error', (error) => (signal?.aborted === true ? resolve() : reject(error)));
      request.end();
    });
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  // ---------------------------------------------------------------- plumbing

  private write(method: string, path: string, body: unknown, accept: readonly number[] = [200]): Promise<HttpResult> {
    this.sequence += 1;
    const session = { 'concord-client-id': this.clientId, 'concord-sequence': String(this.sequence) };
    return this.call(method, path, body, accept, undefined, session);
  }

  /** One operation with retries over the endpoints; 4xx answers are final. */
  async call(method: string, path: string, body?: unknown, accept: readonly number[] = [200], endpointIndex?: number, extraHeaders: Record<string, string> = {}): Promise<HttpResult> {
    const attemptsMax = endpointIndex === undefined ? (this.options.attemptsMax ?? 6) : 1;
    let lastError: unknown = null;
    for (let attempt = 0; attempt < attemptsMax; attempt += 1) {
      const index = endpointIndex ?? (this.preferred + attempt) % this.endpoints.length;
      try {
        const result = await this.once(this.endpoints[index]!, method, path, body, extraHeaders);
        if (accept.includes(result.status)) {
          if (endpointIndex === undefined) this.preferred = index;
          return result;
        }
        const error = errorFrom(result.status, result.body);
        if (result.status !== 503) throw error;
        lastError = error;
      } catch (error) {
        if (error instanceof KvHttpError && error.status !== 503) throw error;
        lastError = error;
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs ?? 150));
    }
    throw lastError instanceof Error ? lastError : new ConcordError(ErrorCode.NoLeader, 'no endpoint answered');
  }

  private once(endpoint: URL, method: string, path: string, body: unknown, extraHeaders: Record<string, string>): Promise<HttpResult> {
    const url = new URL(path, endpoint);
    const text = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const request = this.transport(url).request(url, {
        method,
        agent: this.agent(url),
        timeout: this.options.timeoutMs ?? 10_000,
        headers: { ...this.headers(), ...extraHeaders, 'content-type': 'application/json', 'content-length': text === undefined ? 0 : Buffer.byteLength(text) },
      }, (response) => {
        collect(response).then((raw) => resolve({ status: response.statusCode ?? 0, body: parseJson(raw) }), reject);
      });
      request.on('timeout', () => request.destroy(new ConcordError(ErrorCode.Timeout, `no answer from ${endpoint.host} within ${this.options.timeoutMs ?? 10_000} ms`)));
      request.on('error', reject);
      request.end(text);
    });
  }

  private headers(): Record<string, string> {
    return this.options.token === undefined ? {} : { authorization: `Bearer ${this.options.token}` };
  }

  private transport(url: URL): typeof http | typeof https {
    return url.protocol === 'https:' ? https : http;
  }

  private agent(url: URL): http.Agent {
    let agent = this.agents.get(url.host);
    if (agent === undefined) {
      agent = url.protocol === 'https:' ? new https.Agent({ keepAlive: true, ca: this.options.ca }) : new http.Agent({ keepAlive: true });
      this.agents.set(url.host, agent);
    }
    return agent;
  }
}

function keyPath(key: string): string {
  return `/v1/kv/${encodeURIComponent(key)}`;
}

function collect(response: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  if (text.length === 0) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { raw: text };
  }
}

function errorFrom(status: number, body: unknown): KvHttpError {
  const parsed = typeof body === 'string' ? parseJson(body) : body;
  const error = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
  return new KvHttpError(status, error?.code ?? ErrorCode.Internal, error?.message ?? `HTTP ${status}`, parsed);
}

/** Minimal SSE parser: `event:`, `data:` and `id:` lines, blank line ends an event. */
function parseEvents(response: http.IncomingMessage, onEvent: (event: WatchEvent) => void, resolve: () => void, reject: (error: Error) => void): void {
  let buffer = '';
  let eventType = 'message';
  let data = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
      if (line.startsWith('event: ')) eventType = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
      else if (line === '') {
        if (data !== '') {
          const payload = JSON.parse(data) as unknown;
          if (eventType === 'error') {
            const error = (payload as { error: { code: string; message: string } }).error;
            reject(new KvHttpError(200, error.code, error.message, payload));
            response.destroy();
            return;
          }
          onEvent(payload as WatchEvent);
        }
        eventType = 'message';
        data = '';
      }
    }
  });
  response.on('end', resolve);
  response.on('error', (error) => reject(error));
}
