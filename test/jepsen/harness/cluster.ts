import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { NodeId } from '../../../src/core/ids.js';
import type { ClusterStatus } from '../../../src/kv/api.js';
import { cliEntryPoint, freePorts, type LocalNode } from '../../../src/kv/local-cluster.js';
import { onExitCleanup } from './cleanup.js';
import { callJson, type JsonReply } from './http.js';
import type { NetworkLab } from './netns.js';

/**
 * A cluster of real `concord node` processes for the fault harness. Each node runs either on
 * loopback (its own ports) or inside its own network namespace (its own address, fixed ports),
 * always with `--enable-fault-injection` and a bearer token. Only processes started here are ever
 * signalled; every one is killed at teardown (and at process exit, whatever happens).
 */
export interface FaultClusterOptions {
  readonly size: number;
  /** Namespaces to run in; loopback when absent. */
  readonly lab: NetworkLab | null;
  readonly dataRoot: string;
  readonly token: string;
  readonly secret: string;
  /** Extra `concord node` flags for every node (timing, read mode). */
  readonly extraArgs: readonly string[];
  /** Extra environment (e.g. CONCORD_TESTING_BUGS). */
  readonly env?: Readonly<Record<string, string>>;
}

/** A harness node: a local node plus what the nemesis tracks about its incarnations. */
export interface NodeSlot extends LocalNode {
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null;
  paused: boolean;
  /** Incarnations started, for logs and summaries. */
  starts: number;
  /** Set while the harness itself kills the process (any other exit is unexpected). */
  killing: boolean;
}

const httpPort = 7001;
const peerPort = 7101;

export class FaultCluster {
  readonly slots = new Map<NodeId, NodeSlot>();
  /** Exits the harness did not cause: `id exited code/signal` with the log's last lines. */
  readonly unexpectedExits: string[] = [];
  /** Exits expected by a fault in progress (a node refusing a corrupted log) are not unexpected. */
  expectExitOf: NodeId | null = null;
  /** Ids of the members the cluster was started with or that were added; removed ones leave. */
  private readonly memberIds: NodeId[] = [];
  private nextIndex = 1;

  private constructor(readonly options: FaultClusterOptions) {}

  static async create(options: FaultClusterOptions): Promise<FaultCluster> {
    const cluster = new FaultCluster(options);
    for (let index = 0; index < options.size; index++) cluster.memberIds.push((await cluster.addSlot()).id);
    return cluster;
  }

  get partitionMechanism(): 'netns-iptables' | 'transport-hook' {
    return this.options.lab === null ? 'transport-hook' : 'netns-iptables';
  }

  members(): NodeId[] {
    return [...this.memberIds];
  }

  running(): NodeId[] {
    return this.memberIds.filter((id) => this.slot(id).process !== null);
  }

  slot(id: NodeId): NodeSlot {
    const slot = this.slots.get(id);
    if (slot === undefined) throw new Error(`no node ${id}`);
    return slot;
  }

  /** Reserves addresses and a data directory for a new node id (`n<k>`); not started, not a member. */
  async addSlot(): Promise<NodeSlot> {
    const id = `n${this.nextIndex++}`;
    let host = '127.0.0.1';
    let ports = [httpPort, peerPort];
    if (this.options.lab !== null) host = (await this.options.lab.addNode(id)).address;
    else ports = await freePorts(2);
    const slot: NodeSlot = {
      id,
      httpUrl: `http://${host}:${ports[0]}`,
      peerAddress: `${host}:${ports[1]}`,
      dataDir: path.join(this.options.dataRoot, id),
      logFile: path.join(this.options.dataRoot, `${id}.log`),
      process: null,
      exited: null,
      paused: false,
      starts: 0,
      killing: false,
    };
    this.slots.set(id, slot);
    return slot;
  }

  /** Makes `id` a member in the harness's view (after the cluster added it). */
  markMember(id: NodeId): void {
    if (!this.memberIds.includes(id)) this.memberIds.push(id);
  }

  /** Forgets `id` as a member (after the cluster removed it). */
  unmarkMember(id: NodeId): void {
    const at = this.memberIds.indexOf(id);
    if (at >= 0) this.memberIds.splice(at, 1);
  }

  private peersFlag(including: NodeId): string {
    const ids = new Set([...this.memberIds, including]);
    return [...ids].map((id) => `${id}=${this.slot(id).peerAddress}`).join(',');
  }

  /** Starts `id` unless it runs. `join`: start empty and wait to be added. */
  start(id: NodeId, options: { join?: boolean } = {}): void {
    const slot = this.slot(id);
    if (slot.process !== null) return;
    mkdirSync(this.options.dataRoot, { recursive: true });
    const logFd = openSync(slot.logFile, 'a');
    // `--data` first: other tools on this machine match `main.js node --id n…` to kill "their"
    // nodes (seen: a benchmark script's pgrep); the harness's nodes must not look like theirs.
    const nodeArgs = [
      cliEntryPoint(), 'node', '--data', slot.dataDir, '--id', id, '--peers', this.peersFlag(id),
      '--http', slot.httpUrl.replace(/^http:\/\//, ''),
      '--token', this.options.token, '--enable-fault-injection',
      ...(options.join === true ? ['--join'] : []),
      ...this.options.extraArgs,
    ];
    const prefix = this.options.lab?.spawnPrefix(id) ?? [];
    const command = prefix.length > 0 ? prefix[0]! : process.execPath;
    const args = prefix.length > 0 ? [...prefix.slice(1), process.execPath, ...nodeArgs] : nodeArgs;
    const child = spawn(command, args, {
      stdio: ['ignore', logFd, logFd],
      env: { ...process.env, CONCORD_SECRET: this.options.secret, ...this.options.env },
    });
    closeSync(logFd);
    slot.starts += 1;
    slot.process = child;
    slot.paused = false;
    slot.killing = false;
    const unregister = onExitCleanup(() => {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    });
    slot.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        unregister();
        if (!slot.killing && this.expectExitOf !== id) {
          // Who else was running (a stray `pkill` from elsewhere shows up here).
          const killers = spawnSync('ps', ['-eo', 'pid,etime,cmd'], { encoding: 'utf8' }).stdout?.split('\n').filter((line) => /\b(pkill|killall|kill)\b/.test(line)).join('; ') ?? '';
          this.unexpectedExits.push(`${id} exited at ${new Date().toISOString()} (code ${code}, signal ${signal})${killers ? ` [kill commands running: ${killers}]` : ''}: ${this.logTail(id, 3)}`);
        }
        if (slot.process === child) {
          slot.process = null;
          slot.paused = false;
        }
        resolve({ code, signal });
      });
    });
  }

  /** kill -9; resolves once the process is gone. */
  async kill(id: NodeId): Promise<void> {
    const slot = this.slot(id);
    if (slot.process === null) return;
    const exited = slot.exited;
    slot.killing = true;
    slot.process.kill('SIGKILL');
    await exited;
  }

  pause(id: NodeId): void {
    const slot = this.slot(id);
    if (slot.process === null || slot.paused) return;
    slot.process.kill('SIGSTOP');
    slot.paused = true;
  }

  resume(id: NodeId): void {
    const slot = this.slot(id);
    if (slot.process === null || !slot.paused) return;
    slot.process.kill('SIGCONT');
    slot.paused = false;
  }

  /** Waits up to `timeoutMs` for `id` to exit by itself; null if it is still running. */
  async waitExit(id: NodeId, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | null> {
    const exited = this.slot(id).exited;
    if (exited === null) return null;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
    const result = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    return result;
  }

  /** Kills every process started here (SIGCONT first so a paused one can die cleanly). */
  async killAll(): Promise<void> {
    await Promise.all([...this.slots.values()].map(async (slot) => {
      if (slot.process === null) return;
      slot.process.kill('SIGCONT');
      await this.kill(slot.id);
    }));
  }

  /** Removes a node's data directory (for replacing a member). */
  wipe(id: NodeId): void {
    rmSync(this.slot(id).dataDir, { recursive: true, force: true });
  }

  logTail(id: NodeId, lines = 20): string {
    try {
      return readFileSync(this.slot(id).logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  call(id: NodeId, method: string, pathAndQuery: string, body?: unknown, timeoutMs = 3_000): Promise<JsonReply> {
    return callJson({ base: this.slot(id).httpUrl, method, path: pathAndQuery, body, token: this.options.token, timeoutMs });
  }

  async status(id: NodeId, timeoutMs = 1_500): Promise<ClusterStatus | null> {
    const reply = await this.call(id, 'GET', '/v1/cluster', undefined, timeoutMs);
    return reply.kind === 'response' && reply.status === 200 ? (reply.body as ClusterStatus) : null;
  }

  /** The leader every running, unpaused member agrees on, polled until `timeoutMs`. */
  async waitForAgreedLeader(timeoutMs: number): Promise<NodeId> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ids = this.memberIds.filter((id) => this.slot(id).process !== null && !this.slot(id).paused);
      const statuses = await Promise.all(ids.map((id) => this.status(id)));
      const leaders = new Set(statuses.map((status) => status?.leader ?? null));
      const [leader] = [...leaders];
      if (ids.length > 0 && leaders.size === 1 && leader !== null && leader !== undefined && ids.includes(leader)) {
        const leaderStatus = statuses[ids.indexOf(leader)];
        if (leaderStatus?.role === 'leader') return leader;
      }
      if (Date.now() > deadline) {
        throw new Error(`no leader agreed by ${ids.join(', ')} within ${timeoutMs} ms (saw ${statuses.map((status, index) => `${ids[index]}:${status?.leader ?? '?'}/${status?.role ?? 'down'}`).join(' ')})`);
      }
      await sleep(150);
    }
  }

  /** Best guess of the current leader without waiting (null when none is visible). */
  async currentLeader(): Promise<NodeId | null> {
    const ids = this.memberIds.filter((id) => this.slot(id).process !== null && !this.slot(id).paused);
    const statuses = await Promise.all(ids.map((id) => this.status(id, 800)));
    const own = statuses.find((status) => status?.role === 'leader');
    if (own !== undefined && own !== null) return own.id;
    return null;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
