import http from 'node:http';
import https from 'node:https';
import * as hdr from 'hdr-histogram-js';
import { Rng } from '../core/rng.js';

/**
 * Closed-loop load against API v1: `clients` workers, each with one request in flight, for
 * `seconds` after a warm-up; latencies in an HDR histogram (µs, 3 significant digits).
 */
export interface LoadOptions {
  readonly endpoints: readonly string[];
  readonly op: 'put' | 'get';
  readonly clients: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly keyBytes: number;
  readonly valueBytes: number;
  readonly keyspace: number;
  readonly serializable: boolean;
  readonly token?: string;
  /** CA certificate (PEM) trusted for https endpoints (default: the system's). */
  readonly ca?: Buffer;
  readonly timeoutMs: number;
  /** Called about every 100 ms with the fraction done. */
  readonly onProgress?: (done: number, opsSoFar: number) => void;
}

export interface LoadResult {
  readonly op: string;
  readonly clients: number;
  readonly seconds: number;
  readonly ops: number;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly errors: number;
  readonly firstError: string | null;
}

function makeKey(index: number, bytes: number): string {
  return `k${String(index).padStart(bytes - 1, '0')}`;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const urls = options.endpoints.map((endpoint) => new URL(endpoint.includes('://') ? endpoint : `http://${endpoint}`));
  const secure = urls[0]?.protocol === 'https:';
  if (urls.some((url) => (url.protocol === 'https:') !== secure)) throw new Error('endpoints must all be http or all https');
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: options.clients, ...(options.ca === undefined ? {} : { ca: options.ca }) })
    : new http.Agent({ keepAlive: true, maxSockets: options.clients });
  const requestFn = secure ? https.request : http.request;
  const value = 'v'.repeat(options.valueBytes);
  const putBody = JSON.stringify({ value });
  const headers: Record<string, string> = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
  // A fixed seed: every run draws the same key sequence.
  const rng = Rng.fromSeed(0x9e3779b9);
  const nextKey = (): string => makeKey(rng.int(0, options.keyspace - 1), options.keyBytes);
  const send = (url: URL, method: string, path: string, body: string | undefined): Promise<number> => new Promise((resolve, reject) => {
    const request = requestFn({ host: url.hostname, port: url.port, method, path, agent, timeout: options.timeoutMs, headers: { ...headers, 'content-length': body === undefined ? 0 : Buffer.byteLength(body) } }, (response) => {
      response.on('data', () => undefined);
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
    request.end(body);
  });
  if (options.op === 'get') {
    for (let index = 0; index < options.keyspace; index += 64) {
      await Promise.all(Array.from({ length: Math.min(64, options.keyspace - index) }, (_, offset) => send(urls[0]!, 'PUT', `/v1/kv/${makeKey(index + offset, options.keyBytes)}`, putBody)));
    }
  }
  const startMs = performance.now();
  const measureFromMs = startMs + options.warmupSeconds * 1000;
  const endMs = measureFromMs + options.seconds * 1000;
  let ops = 0;
  let errors = 0;
  let firstError: string | null = null;
  const progress = options.onProgress === undefined ? null : setInterval(() => options.onProgress!(Math.min(1, (performance.now() - startMs) / (endMs - startMs)), ops), 100);
  const worker = async (index: number): Promise<void> => {
    const url = urls[index % urls.length]!;
    const query = options.serializable ? '?consistency=serializable' : '';
    while (performance.now() < endMs && errors <= 1000) {
      const key = nextKey();
      const began = performance.now();
      try {
        const status = options.op === 'put' ? await send(url, 'PUT', `/v1/kv/${key}`, putBody) : await send(url, 'GET', `/v1/kv/${key}${query}`, undefined);
        if (status !== 200 && status !== 404) throw new Error(`HTTP ${status}`);
      } catch (error) {
        errors += 1;
        firstError ??= (error as Error).message;
        continue;
      }
      const ended = performance.now();
      if (began >= measureFromMs && ended <= endMs) {
        ops += 1;
        histogram.recordValue(Math.max(1, Math.round((ended - began) * 1000)));
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, (_, index) => worker(index)));
  if (progress !== null) clearInterval(progress);
  agent.destroy();
  const measuredSeconds = (Math.min(performance.now(), endMs) - measureFromMs) / 1000;
  const ms = (percentile: number): number => Math.round(histogram.getValueAtPercentile(percentile)) / 1000;
  return {
    op: options.op + (options.op === 'get' ? (options.serializable ? ' (serializable)' : ' (linearizable)') : ''),
    clients: options.clients,
    seconds: Math.round(measuredSeconds * 100) / 100,
    ops,
    opsPerSecond: Math.round(ops / measuredSeconds),
    p50Ms: ms(50),
    p90Ms: ms(90),
    p99Ms: ms(99),
    maxMs: Math.round(histogram.maxValue) / 1000,
    errors,
    firstError,
  };
}
