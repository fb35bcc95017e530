import { mkdtempSync, rmSync, writeFileSync, mkdirSync, cpSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { historyToJsonLines } from '../../../src/core/history.js';
import type { NodeId } from '../../../src/core/ids.js';
import { Rng } from '../../../src/core/rng.js';
import type { TestingBug } from '../../../src/kv/testing-bugs.js';
import { ensureBuilt } from '../../kv/cluster-helpers.js';
import { checkInserts, checkLinearizable, type DurabilityVerdict, type LinearizabilityVerdict } from './checker.js';
import { FaultCluster, sleep } from './cluster.js';
import { NetworkLab, namespacesAvailable } from './netns.js';
import { HookPartitioner, NamespacePartitioner, injectFault, type NemesisContext, type NemesisKind, type Partitioner } from './nemesis.js';
import { Workload, insertPrefix, type WorkloadOptions } from './workload.js';

/**
 * One Jepsen-style run against real `concord node` processes: start a cluster, run concurrent
 * clients while the nemesis injects faults, heal, wait for recovery, then judge the history
 * (linearizability per key), the inserts (every acknowledged one present) and the replicas
 * (identical state). Bounded in time; tears everything down in `finally`.
 */
export interface ScenarioOptions {
  readonly name: string;
  readonly seed: number;
  readonly nodes: number;
  /** How long the nemesis runs. */
  readonly durationMs: number;
  readonly nemeses: readonly NemesisKind[];
  /** A fixed sequence of faults instead of random picks from `nemeses` until `durationMs`. */
  readonly schedule?: readonly NemesisKind[];
  /** How long each fault stays before it is healed, and the pause after it. */
  readonly holdMs?: readonly [number, number];
  readonly quietMs?: readonly [number, number];
  readonly clients?: number;
  /** Relative weights of read / write / cas / insert (workload.ts has the default). */
  readonly mix?: WorkloadOptions['mix'];
  readonly keysPerEpoch?: number;
  readonly epochMs?: number;
  readonly readMode?: 'readIndex' | 'lease';
  readonly testingBugs?: readonly TestingBug[];
  /** `auto`: namespaces when available, else the transport hook. */
  readonly partition?: 'auto' | 'hook';
  readonly recoveryTimeoutMs?: number;
  readonly checkTimeoutMs?: number;
  /** Extra `concord node` flags. */
  readonly nodeArgs?: readonly string[];
  readonly log?: (line: string) => void;
}

export interface ScenarioResult {
  readonly name: string;
  readonly seed: number;
  readonly partitionMechanism: 'netns-iptables' | 'transport-hook';
  readonly mechanismReason: string;
  readonly elapsedMs: number;
  readonly operations: { invoked: number; ok: number; fail: number; info: number; unexpected: number; unexpectedSamples: readonly string[] };
  readonly acknowledgedWrites: number;
  readonly faults: Readonly<Record<string, number>>;
  readonly faultLog: readonly string[];
  readonly linearizability: LinearizabilityVerdict;
  readonly durability: DurabilityVerdict;
  /** Keys whose value differs between replicas after recovery. */
  readonly divergence: readonly string[];
  /** Everything else that went wrong: disk-fault handling, no recovery, … */
  readonly anomalies: readonly string[];
  /** ok operations while the healed cluster was given time to recover. */
  readonly okAfterHeal: number;
  readonly valid: boolean;
}

/** Raft timing for the harness: 10 ms ticks, 300–600 ms elections, 30 ms heartbeats; 1.5 s request deadline. */
export const harnessTiming = ['--tick-interval-ms', '10', '--election-timeout-ticks', '30', '--heartbeat-interval-ticks', '3', '--request-timeout-ms', '1500', '--log-level', 'info'];

const secret = 'fault-harness-secret-0123456789';
const token = 'fault-harness-token';

export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(`[faults] ${line}\n`));
  const started = Date.now();
  ensureBuilt();
  const available = options.partition === 'hook' ? { ok: false, reason: 'hook partitions requested' } : await namespacesAvailable();
  const dataRoot = mkdtempSync(path.join(os.tmpdir(), 'concord-faults-'));
  let lab: NetworkLab | null = null;
  let cluster: FaultCluster | null = null;
  try {
    lab = available.ok ? await NetworkLab.create() : null;
    const mechanism = lab === null ? 'transport-hook' : 'netns-iptables';
    log(`${options.name}: seed ${options.seed}, ${options.nodes} nodes, reads via ${options.readMode ?? 'readIndex'}, partitions via ${mechanism} (${available.reason})${options.testingBugs?.length ? `, TESTING BUGS ${options.testingBugs.join(',')}` : ''}`);
    cluster = await FaultCluster.create({
      size: options.nodes,
      lab,
      dataRoot,
      token,
      secret,
      extraArgs: [...harnessTiming, ...(options.readMode === 'lease' ? ['--read-mode', 'lease'] : []), ...(options.nodeArgs ?? [])],
      env: options.testingBugs?.length ? { CONCORD_TESTING_BUGS: options.testingBugs.join(',') } : {},
    });
    for (const id of cluster.members()) cluster.start(id);
    await cluster.waitForAgreedLeader(30_000);
    const partitioner: Partitioner = lab === null ? new HookPartitioner(cluster) : new NamespacePartitioner(lab);
    return await exercise(options, cluster, partitioner, log, started, available.reason);
  } finally {
    if (cluster !== null) await cluster.killAll();
    if (lab !== null) await lab.destroy();
    keepArtifacts(dataRoot, options.name);
    rmSync(dataRoot, { recursive: true, force: true });
  }
}

/** With CONCORD_FAULTS_KEEP=<dir>, copies the run's logs and history there before cleanup. */
function keepArtifacts(dataRoot: string, name: string): void {
  const keep = process.env.CONCORD_FAULTS_KEEP;
  if (keep === undefined || keep === '') return;
  const target = path.join(keep, `${name.replace(/[^A-Za-z0-9_.-]+/g, '_')}-${Date.now()}`);
  mkdirSync(target, { recursive: true });
  cpSync(dataRoot, target, { recursive: true, filter: (source) => !source.endsWith('.seg') && !source.endsWith('.tmp') });
}

async function exercise(options: ScenarioOptions, cluster: FaultCluster, partitioner: Partitioner, log: (line: string) => void, started: number, reason: string): Promise<ScenarioResult> {
  const rng = Rng.fromSeed(options.seed);
  const workload = new Workload({
    cluster,
    rng: rng.split('workload'),
    clients: options.clients ?? 6,
    ...(options.mix === undefined ? {} : { mix: options.mix }),
    keysPerEpoch: options.keysPerEpoch ?? 3,
    epochMs: options.epochMs ?? 6_000,
    opTimeoutMs: 2_500,
  });
  const anomalies: string[] = [];
  const context: NemesisContext = { cluster, partitioner, rng: rng.split('nemesis'), log, anomalies, lastAcknowledgedWriteAt: () => workload.lastAcknowledgedWriteAt };
  const faults: Record<string, number> = {};
  const faultLog: string[] = [];
  workload.start();
  try {
    await runNemesis(options, context, workload, faults, faultLog);
    log(`${options.name}: healing`);
    await healEverything(cluster, partitioner);
    workload.markRecovery();
    const recovered = await waitRecovered(cluster, options.recoveryTimeoutMs ?? 30_000).catch((error: Error) => {
      anomalies.push(`no recovery after heal: ${error.message}`);
      return false;
    });
    if (recovered) await sleep(2_000); // the healed cluster keeps serving the clients for a while
  } finally {
    await workload.stop();
  }
  const okAfterHeal = workload.okSinceMark;
  for (const exit of cluster.unexpectedExits) anomalies.push(`unexpected exit: ${exit}`);
  if (okAfterHeal === 0) anomalies.push('no operation succeeded after the heal (liveness)');
  const final = await finalReads(cluster, workload, anomalies, options.recoveryTimeoutMs ?? 20_000);
  const linearizability = checkLinearizable(workload.events, options.checkTimeoutMs ?? 120_000);
  const durability = checkInserts(workload.inserts, final.present);
  saveHistory(options.name, workload);
  const valid = linearizability.verdict === 'linearizable' && durability.lost.length === 0 && durability.phantom.length === 0 && durability.unexpected.length === 0
    && final.divergence.length === 0 && anomalies.length === 0 && workload.counts.unexpected === 0;
  const result: ScenarioResult = {
    name: options.name,
    seed: options.seed,
    partitionMechanism: partitioner.mechanism,
    mechanismReason: reason,
    elapsedMs: Date.now() - started,
    operations: { ...workload.counts },
    acknowledgedWrites: workload.counts.acknowledgedWrites,
    faults,
    faultLog,
    linearizability,
    durability,
    divergence: final.divergence,
    anomalies,
    okAfterHeal,
    valid,
  };
  log(summarize(result));
  return result;
}

async function runNemesis(options: ScenarioOptions, context: NemesisContext, workload: Workload, faults: Record<string, number>, faultLog: string[]): Promise<void> {
  const rng = context.rng.split('schedule');
  const hold = options.holdMs ?? [1_500, 3_500];
  const quiet = options.quietMs ?? [1_000, 2_500];
  const deadline = Date.now() + options.durationMs;
  const schedule = options.schedule === undefined ? null : [...options.schedule];
  await sleep(1_000); // a fault-free start
  while (schedule !== null ? schedule.length > 0 : Date.now() < deadline && options.nemeses.length > 0) {
    const kind = schedule !== null ? schedule.shift()! : rng.pick(options.nemeses);
    const at = (workload.now() / 1e9).toFixed(1);
    let healed = false;
    try {
      const fault = await injectFault(context, kind);
      faults[kind] = (faults[kind] ?? 0) + 1;
      const line = `t=${at}s ${kind}: ${fault.detail}`;
      faultLog.push(line);
      context.log(`${options.name}: ${line}`);
      await sleep(rng.int(hold[0]!, hold[1]!));
      const during = await observeLeaders(context.cluster);
      faultLog[faultLog.length - 1] += ` | before heal: ${during}`;
      context.log(`${options.name}:   before heal: ${during}`);
      await fault.heal();
      healed = true;
    } catch (error) {
      const line = `t=${at}s ${kind}: could not inject (${(error as Error).message})`;
      faultLog.push(line);
      context.log(`${options.name}: ${line}`);
    } finally {
      if (!healed) await healEverything(context.cluster, context.partitioner).catch(() => undefined);
    }
    await sleep(rng.int(quiet[0]!, quiet[1]!));
  }
}

/** Each reachable member's view: `id:leader@term` (paused or down members show as such). */
async function observeLeaders(cluster: FaultCluster): Promise<string> {
  const views = await Promise.all(cluster.members().map(async (id) => {
    const slot = cluster.slot(id);
    if (slot.process === null) return `${id}:down`;
    if (slot.paused) return `${id}:paused`;
    const status = await cluster.status(id, 700);
    return status === null ? `${id}:?` : `${id}:${status.leader ?? '-'}@${status.term}`;
  }));
  return views.join(' ');
}

async function healEverything(cluster: FaultCluster, partitioner: Partitioner): Promise<void> {
  for (const id of cluster.members()) {
    cluster.resume(id);
    cluster.start(id);
  }
  await sleep(300);
  await partitioner.heal();
}

/** A leader all members agree on, every member applied through the leader's commit index. */
async function waitRecovered(cluster: FaultCluster, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const leader = await cluster.waitForAgreedLeader(timeoutMs);
  for (;;) {
    const leaderStatus = await cluster.status(leader);
    const statuses = await Promise.all(cluster.members().map((id) => cluster.status(id)));
    if (leaderStatus !== null && statuses.every((status) => status !== null && status.appliedIndex >= leaderStatus.commitIndex - 1)) return true;
    if (Date.now() > deadline) throw new Error(`replicas did not catch up within ${timeoutMs} ms`);
    await sleep(200);
  }
}

interface FinalState {
  readonly present: Set<string>;
  readonly divergence: string[];
}

/**
 * After recovery: a linearizable read of every register (recorded in the history, so the checker
 * also judges the final state against every acknowledged write), the inserted keys as listed by
 * the leader, and the same keys read locally (serializable) on every replica, which must agree.
 */
async function finalReads(cluster: FaultCluster, workload: Workload, anomalies: string[], leaderTimeoutMs: number): Promise<FinalState> {
  const present = new Set<string>();
  const divergence: string[] = [];
  const leader = await cluster.waitForAgreedLeader(leaderTimeoutMs).catch(() => null);
  if (leader === null) {
    anomalies.push('no leader for the final reads');
    return { present, divergence };
  }
  const finalProcess = 1_000_000;
  const leaderValues = new Map<string, string | null>();
  for (const key of [...workload.registerKeys].sort()) {
    const reader = finalProcess + leaderValues.size;
    workload.events.push({ process: reader, type: 'invoke', f: 'read', key, value: null, time: workload.now() });
    const reply = await cluster.call(leader, 'GET', `/v1/kv/${encodeURIComponent(key)}`, undefined, 5_000);
    const value = reply.kind === 'response' && reply.status === 200 ? (reply.body.value as string) : null;
    const ok = reply.kind === 'response' && (reply.status === 200 || reply.status === 404);
    workload.events.push({ process: reader, type: ok ? 'ok' : 'fail', f: 'read', key, value: ok ? value : null, time: workload.now() });
    if (!ok) anomalies.push(`final read of ${key} failed: ${reply.kind === 'response' ? reply.status : reply.kind}`);
    leaderValues.set(key, value);
  }
  for (const epoch of [...workload.insertEpochs].sort((a, b) => a - b)) {
    const reply = await cluster.call(leader, 'GET', `/v1/kv?prefix=${encodeURIComponent(insertPrefix(epoch))}&limit=10000`, undefined, 10_000);
    if (reply.kind !== 'response' || reply.status !== 200) {
      anomalies.push(`listing ${insertPrefix(epoch)} failed`);
      continue;
    }
    for (const entry of reply.body.entries as { key: string }[]) present.add(entry.key);
  }
  await compareReplicas(cluster, leader, leaderValues, present, divergence);
  return { present, divergence };
}

async function compareReplicas(cluster: FaultCluster, leader: NodeId, leaderValues: Map<string, string | null>, present: Set<string>, divergence: string[]): Promise<void> {
  for (const id of cluster.members().filter((member) => member !== leader)) {
    for (const [key, expected] of leaderValues) {
      const reply = await cluster.call(id, 'GET', `/v1/kv/${encodeURIComponent(key)}?consistency=serializable`, undefined, 5_000);
      const value = reply.kind === 'response' && reply.status === 200 ? reply.body.value : reply.kind === 'response' && reply.status === 404 ? null : '<unreachable>';
      if (value !== expected) divergence.push(`${key}: leader ${JSON.stringify(expected)}, ${id} ${JSON.stringify(value)}`);
    }
    const prefixes = new Set([...present].map((key) => key.slice(0, key.lastIndexOf('/') + 1)));
    let count = 0;
    for (const prefix of prefixes) {
      const reply = await cluster.call(id, 'GET', `/v1/kv?prefix=${encodeURIComponent(prefix)}&limit=10000&consistency=serializable`, undefined, 10_000);
      if (reply.kind === 'response' && reply.status === 200) count += (reply.body.entries as unknown[]).length;
    }
    if (count !== present.size) divergence.push(`inserted keys: leader lists ${present.size}, ${id} ${count}`);
  }
}

function saveHistory(name: string, workload: Workload): void {
  const keep = process.env.CONCORD_FAULTS_KEEP;
  if (keep === undefined || keep === '') return;
  mkdirSync(keep, { recursive: true });
  writeFileSync(path.join(keep, `${name.replace(/[^A-Za-z0-9_.-]+/g, '_')}.history.jsonl`), historyToJsonLines(workload.events));
}

export function summarize(result: ScenarioResult): string {
  const faults = Object.entries(result.faults).map(([kind, count]) => `${kind}×${count}`).join(' ') || 'none';
  const lines = [
    `${result.name}: ${result.valid ? 'VALID' : 'INVALID'} in ${(result.elapsedMs / 1000).toFixed(1)} s (seed ${result.seed}, partitions via ${result.partitionMechanism})`,
    `  operations ${result.operations.invoked} register + ${result.durability.attempted} inserts: ok ${result.operations.ok}, fail ${result.operations.fail}, info ${result.operations.info}; acknowledged writes ${result.acknowledgedWrites}; ok after heal ${result.okAfterHeal}`,
    `  faults: ${faults}`,
    `  linearizability: ${result.linearizability.verdict} (${result.linearizability.operations} ops, ${result.linearizability.partitions} keys, ${result.linearizability.elapsedMs} ms)${result.linearizability.reason ? ` — ${result.linearizability.reason}` : ''}`,
    `  inserts: ${result.durability.acknowledged} acknowledged, ${result.durability.lost.length} lost, ${result.durability.phantom.length} phantom, ${result.durability.unexpected.length} unexpected; info present ${result.durability.infoPresent}/absent ${result.durability.infoAbsent}`,
    `  replicas: ${result.divergence.length === 0 ? 'identical' : `${result.divergence.length} differences`}; anomalies ${result.anomalies.length}; unexpected replies ${result.operations.unexpected}`,
  ];
  if (result.linearizability.explanation !== undefined) lines.push(result.linearizability.explanation);
  for (const line of [...result.durability.lost.slice(0, 5).map((key) => `  LOST acknowledged insert ${key}`), ...result.divergence.slice(0, 5).map((line) => `  DIVERGED ${line}`), ...result.anomalies.map((line) => `  ANOMALY ${line}`), ...result.operations.unexpectedSamples.map((line) => `  UNEXPECTED ${line}`)]) lines.push(line);
  return lines.join('\n');
}
