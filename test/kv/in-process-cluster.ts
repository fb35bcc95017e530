import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { expect } from 'vitest';
import type { NodeConfig } from '../../src/kv/config.js';
import { startNode, type RunningNode } from '../../src/kv/node.js';
import { freePorts } from '../../src/kv/local-cluster.js';
import { request } from './cluster-helpers.js';

/**
 * Three KV nodes hosted in the test process (each with its own WAL directory, TCP transport and
 * HTTP port): for tests that need to stop and restart individual nodes quickly.
 */
export interface InProcessCluster {
  readonly configs: readonly NodeConfig[];
  /** Starts node `index` (again, after a stop) from its data directory. */
  start(index: number): Promise<RunningNode>;
  /** Stops node `index` gracefully; it can be started again. */
  stop(index: number): Promise<void>;
  /** HTTP base URL of node `index`. */
  base(index: number): string;
  /** Stops every running node and removes the data. */
  cleanup(): Promise<void>;
}

export async function inProcessCluster(overrides: Partial<NodeConfig> = {}): Promise<InProcessCluster> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'concord-in-process-'));
  const ports = await freePorts(6);
  const peers = new Map([0, 1, 2].map((index) => [`n${index + 1}`, { host: '127.0.0.1', port: ports[index]! }]));
  const configs: NodeConfig[] = [0, 1, 2].map((index) => ({
    id: `n${index + 1}`, peers, http: { host: '127.0.0.1', port: ports[index + 3]! }, dataDir: path.join(directory, `n${index + 1}`),
    secret: 'test-secret-0123456789abcdef', secretIsDefault: false, token: undefined, tls: undefined, join: false,
    tickIntervalMs: 10, electionTimeoutTicks: 20, heartbeatIntervalTicks: 2, requestTimeoutMs: 3_000, logLevel: 'silent',
    readMode: 'readIndex', enableFaultInjection: false, snapshotThresholdEntries: 50_000, forwardWrites: 'raft', walIo: 'auto',
    ...overrides,
  }));
  const running = new Map<number, RunningNode>();
  return {
    configs,
    async start(index) {
      const node = await startNode(configs[index]!, pino({ level: 'silent' }));
      running.set(index, node);
      return node;
    },
    async stop(index) {
      await running.get(index)?.stop();
      running.delete(index);
    },
    base: (index) => `http://127.0.0.1:${configs[index]!.http.port}`,
    async cleanup() {
      for (const node of running.values()) await node.stop();
      running.clear();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** Writes keys s<from> … s<to - 1> (value v<n>) through `endpoint`, 16 at a time; each must succeed. */
export async function putMany(endpoint: string, from: number, to: number): Promise<void> {
  for (let index = from; index < to; index += 16) {
    const batch = Array.from({ length: Math.min(16, to - index) }, (_, offset) => request(endpoint, 'PUT', `/v1/kv/s${index + offset}`, JSON.stringify({ value: `v${index + offset}` })));
    for (const response of await Promise.all(batch)) expect(response.status).toBe(200);
  }
}

/** Polls `check` every 50 ms until it holds; throws after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
