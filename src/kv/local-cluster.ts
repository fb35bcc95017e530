import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import type { NodeId } from '../core/ids.js';
import type { ClusterStatus } from './api.js';

/**
 * A cluster of real `concord node` processes on one machine: what `concord cluster up`,
 * `npm start` and the multi-process tests use. Each node gets a peer port, an HTTP port, a data
 * directory `<dataRoot>/<id>` and a log file `<dataRoot>/<id>.log`. Only processes started here
 * are ever signalled.
 */
export interface LocalClusterOptions {
  readonly size: number;
  readonly host?: string;
  readonly httpPorts: readonly number[];
  readonly peerPorts: readonly number[];
  readonly dataRoot: string;
  readonly secret?: string;
  readonly token?: string;
  /** Extra `concord node` flags for every node (e.g. timing knobs in tests). */
  readonly extraArgs?: readonly string[];
  /** Called when a node process exits (expectedly or not). */
  readonly onExit?: (id: NodeId, code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface LocalNode {
  readonly id: NodeId;
  readonly httpUrl: string;
  readonly peerAddress: string;
  readonly dataDir: string;
  readonly logFile: string;
  process: ChildProcess | null;
}

/**
 * V8 flags for every node process. A young generation of 4 MiB semi-spaces (V8's default grows to
 * 16 MiB) makes scavenges shorter and more frequent: a replica keeps the entries it receives until
 * the next snapshot, so each scavenge copies what arrived since the last one, and with the larger
 * semi-space those pauses (5–20 ms) were the commonest stall behind the write p99. Measured in
 * BENCHMARKS.md ("Young-generation size").
 */
export const nodeRuntimeFlags: readonly string[] = ['--max-semi-space-size=4'];

/** The package's CLI entry point (dist/cli/main.js), found from this module's location. */
export function cliEntryPoint(): string {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth += 1) {
    if (existsSync(path.join(directory, 'package.json'))) return path.join(directory, 'dist', 'cli', 'main.js');
    directory = path.dirname(directory);
  }
  throw new Error('cannot find the concord package root');
}

/** `count` distinct free TCP ports on `host` (bound then released; fine for tests on loopback). */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => resolve(server));
  })));
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

export class LocalCluster {
  readonly nodes = new Map<NodeId, LocalNode>();
  private readonly host: string;
  private readonly exits = new Map<NodeId, Promise<void>>();

  constructor(private readonly options: LocalClusterOptions) {
    if (options.httpPorts.length < options.size || options.peerPorts.length < options.size) throw new Error('one HTTP and one peer port per node are needed');
    this.host = options.host ?? '127.0.0.1';
    for (let index = 0; index < options.size; index += 1) {
      const id = `n${index + 1}`;
      this.nodes.set(id, {
        id,
        httpUrl: `http://${this.host}:${options.httpPorts[index]}`,
        peerAddress: `${this.host}:${options.peerPorts[index]}`,
        dataDir: path.join(options.dataRoot, id),
        logFile: path.join(options.dataRoot, `${id}.log`),
        process: null,
      });
    }
  }

  get endpoints(): string[] {
    return [...this.nodes.values()].map((node) => node.httpUrl);
  }

  peersFlag(): string {
    return [...this.nodes.values()].map((node) => `${node.id}=${node.peerAddress}`).join(',');
  }

  /** Starts every node that is not running. */
  startAll(): void {
    for (const id of this.nodes.keys()) this.start(id);
  }

  start(id: NodeId): void {
    const node = this.node(id);
    if (node.process !== null) return;
    mkdirSync(this.options.dataRoot, { recursive: true });
    const logFd = openSync(node.logFile, 'a');
    const args = [cliEntryPoint(), ...this.nodeArguments(id)];
    const env = { ...process.env, ...(this.options.secret === undefined ? {} : { CONCORD_SECRET: this.options.secret }) };
    const child = spawn(process.execPath, [...nodeRuntimeFlags, ...args], { stdio: ['ignore', logFd, logFd], env });
    closeSync(logFd);
    node.process = child;
    this.exits.set(id, new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (node.process === child) node.process = null;
        this.options.onExit?.(id, code, signal);
        resolve();
      });
    }));
  }

  /** The `concord node …` arguments of a member (what `start` runs; printable for a manual restart). */
  nodeArguments(id: NodeId): string[] {
    const node = this.node(id);
    return [
      'node', '--id', id, '--peers', this.peersFlag(),
      '--http', node.httpUrl.replace(/^https?:\/\//, ''), '--data', node.dataDir,
      ...(this.options.token === undefined ? [] : ['--token', this.options.token]),
      ...(this.options.extraArgs ?? []),
    ];
  }

  /** Sends `signal` to a node started here; resolves when it exited (SIGTERM/SIGKILL) or at once (SIGSTOP/SIGCONT). */
  async signal(id: NodeId, signal: NodeJS.Signals): Promise<void> {
    const node = this.node(id);
    if (node.process === null) return;
    node.process.kill(signal);
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') return;
    await this.exits.get(id);
  }

  kill(id: NodeId): Promise<void> {
    return this.signal(id, 'SIGKILL');
  }

  /** Graceful stop of every node: SIGTERM, then SIGKILL after `graceMs`. */
  async stopAll(graceMs = 5_000): Promise<void> {
    const running = [...this.nodes.values()].filter((node) => node.process !== null);
    for (const node of running) {
      node.process!.kill('SIGCONT');
      node.process!.kill('SIGTERM');
    }
    const timer = setTimeout(() => {
      for (const node of running) node.process?.kill('SIGKILL');
    }, graceMs);
    await Promise.all(running.map((node) => this.exits.get(node.id)));
    clearTimeout(timer);
  }

  /** Polls /healthz of the given nodes (default: every running one) until all answer 200. */
  async waitHealthy(timeoutMs: number, ids?: readonly NodeId[]): Promise<void> {
    const targets = ids ?? [...this.nodes.values()].filter((node) => node.process !== null).map((node) => node.id);
    const deadline = Date.now() + timeoutMs;
    for (const id of targets) {
      for (;;) {
        const result = await getJson(`${this.node(id).httpUrl}/healthz`, 1_000, this.options.token).catch(() => null);
        if (result !== null && result.status === 200) break;
        if (Date.now() > deadline) throw new Error(`node ${id} not healthy within ${timeoutMs} ms (log: ${this.node(id).logFile})`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** The leader that a majority of the running nodes agree on, polled until `timeoutMs`. */
  async waitForLeader(timeoutMs: number, exclude: readonly NodeId[] = []): Promise<NodeId> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const statuses = await Promise.all([...this.nodes.values()].filter((node) => node.process !== null).map((node) => this.status(node.id).catch(() => null)));
      const votes = new Map<NodeId, number>();
      for (const status of statuses) if (status?.leader != null && status.role !== 'candidate') votes.set(status.leader, (votes.get(status.leader) ?? 0) + 1);
      for (const [leader, count] of votes) {
        if (count > this.nodes.size / 2 && !exclude.includes(leader) && this.node(leader).process !== null) return leader;
      }
      if (Date.now() > deadline) throw new Error(`no agreed leader within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async status(id: NodeId): Promise<ClusterStatus> {
    const result = await getJson(`${this.node(id).httpUrl}/v1/cluster`, 1_000, this.options.token);
    if (result.status !== 200) throw new Error(`status of ${id}: HTTP ${result.status}`);
    return result.body as ClusterStatus;
  }

  node(id: NodeId): LocalNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id} in this cluster`);
    return node;
  }
}

function getJson(url: string, timeoutMs: number, token: string | undefined): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { timeout: timeoutMs, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        try {
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        } catch (error) {
          reject(error);
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
  });
}
