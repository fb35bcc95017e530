import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { LocalCluster, cliEntryPoint, freePorts } from '../../src/kv/local-cluster.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

function newestMtime(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** The tests run real `concord node` processes from dist/: build it if src/ is newer. */
export function ensureBuilt(): void {
  const entry = cliEntryPoint();
  let builtAt = 0;
  try {
    builtAt = statSync(entry).mtimeMs;
  } catch {
    builtAt = 0;
  }
  if (builtAt < newestMtime(path.join(root, 'src'))) {
    execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit', timeout: 120_000 });
  }
}

/** Fast Raft timing for tests: 10 ms ticks, 300–600 ms election timeout, 30 ms heartbeats. */
export const fastTiming = ['--tick-interval-ms', '10', '--election-timeout-ticks', '30', '--heartbeat-interval-ticks', '3', '--request-timeout-ms', '3000', '--log-level', 'warn'];

export interface TestCluster {
  readonly cluster: LocalCluster;
  readonly dataRoot: string;
  cleanup(): Promise<void>;
}

export async function startTestCluster(size: number, options: { extraArgs?: readonly string[]; token?: string } = {}): Promise<TestCluster> {
  ensureBuilt();
  const dataRoot = mkdtempSync(path.join(os.tmpdir(), 'concord-kv-test-'));
  const ports = await freePorts(size * 2);
  const cluster = new LocalCluster({
    size,
    httpPorts: ports.slice(0, size),
    peerPorts: ports.slice(size),
    dataRoot,
    secret: 'test-secret-0123456789abcdef',
    token: options.token,
    extraArgs: [...fastTiming, ...(options.extraArgs ?? [])],
  });
  cluster.startAll();
  const cleanup = async (): Promise<void> => {
    await cluster.stopAll(3_000);
    rmSync(dataRoot, { recursive: true, force: true });
  };
  try {
    await cluster.waitHealthy(20_000);
  } catch (error) {
    await cleanup();
    throw error;
  }
  return { cluster, dataRoot, cleanup };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  readonly json: any;
}

/** One HTTP request with a bounded time; no agent reuse (each test request stands alone). */
export function request(base: string, method: string, pathAndQuery: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<RawResponse> {
  // The raw path goes out verbatim (no URL normalisation): hostile paths reach the server as sent.
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const client = http.request({ host: url.hostname, port: url.port, path: pathAndQuery, method, timeout: 10_000, agent: false, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown = null;
        try {
          json = JSON.parse(text);
        } catch {
          json = null;
        }
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json });
      });
    });
    client.on('timeout', () => client.destroy(new Error(`request ${method} ${pathAndQuery} timed out`)));
    client.on('error', reject);
    client.end(body);
  });
}
