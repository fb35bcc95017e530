import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { NodeId } from '../../../src/core/ids.js';
import type { Rng } from '../../../src/core/rng.js';
import { appendTornRecord, flipBitInRecord, walRecordLocations } from '../../../src/net/wal-faults.js';
import { sleep, type FaultCluster } from './cluster.js';
import type { NetworkLab } from './netns.js';

/**
 * The nemesis: faults injected into the running cluster one at a time, each healed before the
 * next. Every fault is placed so that the cluster can recover (a majority keeps its disk), so any
 * anomaly the checker finds is a real bug.
 */
export const nemesisKinds = [
  'kill-leader', 'kill-follower', 'kill-majority', 'kill-all',
  'pause-leader', 'pause-follower',
  'partition-leader', 'partition-halves', 'partition-bridge',
  'torn-wal', 'corrupt-wal',
  'membership', 'transfer-leader',
  'clock-jump', 'clock-jump-back', 'clock-back-partition', 'clock-slow-partition',
] as const;
export type NemesisKind = (typeof nemesisKinds)[number];

/** Cuts links between node pairs: network namespaces + iptables, or the transport's fault hook. */
export interface Partitioner {
  readonly mechanism: 'netns-iptables' | 'transport-hook';
  cut(pairs: readonly (readonly [NodeId, NodeId])[]): Promise<void>;
  heal(): Promise<void>;
}

export class NamespacePartitioner implements Partitioner {
  readonly mechanism = 'netns-iptables';
  constructor(private readonly lab: NetworkLab) {}
  cut(pairs: readonly (readonly [NodeId, NodeId])[]): Promise<void> {
    return this.lab.setCuts(pairs);
  }

  heal(): Promise<void> {
    return this.lab.heal();
  }
}

/** Drops Raft traffic at both ends of every cut pair via `POST /v1/debug/faults/links`. */
export class HookPartitioner implements Partitioner {
  readonly mechanism = 'transport-hook';
  constructor(private readonly cluster: FaultCluster) {}

  async cut(pairs: readonly (readonly [NodeId, NodeId])[]): Promise<void> {
    const blocked = new Map<NodeId, NodeId[]>();
    for (const [a, b] of pairs) {
      blocked.set(a, [...(blocked.get(a) ?? []), b]);
      blocked.set(b, [...(blocked.get(b) ?? []), a]);
    }
    await Promise.all([...this.cluster.slots.keys()].map(async (id) => {
      await this.set(id, { heal: true });
      if (blocked.has(id)) await this.set(id, { block: blocked.get(id), direction: 'both' });
    }));
  }

  async heal(): Promise<void> {
    await Promise.all([...this.cluster.slots.keys()].map((id) => this.set(id, { heal: true })));
  }

  private async set(id: NodeId, body: unknown): Promise<void> {
    if (this.cluster.slots.get(id)?.process == null) return; // a stopped node starts healed
    for (let attempt = 0; attempt < 5; attempt++) {
      const reply = await this.cluster.call(id, 'POST', '/v1/debug/faults/links', body);
      if (reply.kind === 'response' && reply.status === 200) return;
      await sleep(100);
    }
    throw new Error(`cannot set link faults on ${id}`);
  }
}

export interface NemesisContext {
  readonly cluster: FaultCluster;
  readonly partitioner: Partitioner;
  readonly rng: Rng;
  readonly log: (line: string) => void;
  /** Faults the service failed: a corrupted log served, a torn record not noticed, … */
  readonly anomalies: string[];
  /** Milliseconds (Date.now()) of the last acknowledged write, or 0: kills aim at writes in flight. */
  readonly lastAcknowledgedWriteAt: () => number;
}

export interface InjectedFault {
  readonly kind: NemesisKind;
  readonly detail: string;
  /** Undoes the fault (restart, resume, heal); the cluster may still be recovering afterwards. */
  heal(): Promise<void>;
}

const noHeal = async (): Promise<void> => undefined;

async function leaderOrAny(context: NemesisContext): Promise<NodeId> {
  const leader = await context.cluster.waitForAgreedLeader(15_000).catch(() => null);
  return leader ?? context.rng.pick(context.cluster.running());
}

async function followerOf(context: NemesisContext): Promise<NodeId> {
  const leader = await leaderOrAny(context);
  const others = context.cluster.running().filter((id) => id !== leader);
  return others.length > 0 ? context.rng.pick(others) : leader;
}

function restartAll(context: NemesisContext, ids: readonly NodeId[]): () => Promise<void> {
  return async () => {
    for (const id of ids) context.cluster.start(id);
  };
}

/**
 * Waits (at most `timeoutMs`) until a write was acknowledged in the last few milliseconds, so a
 * kill lands while acknowledged writes are fresh — where a missing fsync or a lost commit shows.
 */
async function whileWritesFlow(context: NemesisContext, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && Date.now() - context.lastAcknowledgedWriteAt() > 20) await sleep(5);
}

async function killSome(context: NemesisContext, kind: NemesisKind, ids: readonly NodeId[]): Promise<InjectedFault> {
  await whileWritesFlow(context, 3_000);
  await Promise.all(ids.map((id) => context.cluster.kill(id)));
  return { kind, detail: `kill -9 ${ids.join(', ')}`, heal: restartAll(context, ids) };
}

function pauseOne(context: NemesisContext, kind: NemesisKind, id: NodeId): InjectedFault {
  context.cluster.pause(id);
  return { kind, detail: `SIGSTOP ${id}`, heal: async () => context.cluster.resume(id) };
}

/** The other members split as evenly as possible, each half cut from the other. */
function crossPairs(left: readonly NodeId[], right: readonly NodeId[]): [NodeId, NodeId][] {
  return left.flatMap((a) => right.map((b): [NodeId, NodeId] => [a, b]));
}

async function partition(context: NemesisContext, kind: NemesisKind): Promise<InjectedFault> {
  const members = context.rng.shuffle(context.cluster.members());
  let pairs: [NodeId, NodeId][];
  let detail: string;
  if (kind === 'partition-leader') {
    const leader = await leaderOrAny(context);
    const others = members.filter((id) => id !== leader);
    pairs = crossPairs([leader], others);
    detail = `isolate leader ${leader} from ${others.join(', ')}`;
  } else if (kind === 'partition-halves') {
    const minority = members.slice(0, Math.floor(members.length / 2));
    const majority = members.slice(minority.length);
    pairs = crossPairs(minority, majority);
    detail = `minority {${minority.join(', ')}} | majority {${majority.join(', ')}}`;
  } else {
    // Bridge: two sides that cannot talk, and one node that talks to both.
    const bridge = members[0]!;
    const rest = members.slice(1);
    const left = rest.slice(0, Math.ceil(rest.length / 2));
    const right = rest.slice(left.length);
    pairs = crossPairs(left, right);
    detail = `{${left.join(', ')}} | {${right.join(', ')}} bridged by ${bridge}`;
  }
  await context.partitioner.cut(pairs);
  return { kind, detail: `${detail} [${context.partitioner.mechanism}]`, heal: () => context.partitioner.heal() };
}

/** Waits until `id` has applied what the leader has committed (it no longer holds the only copy of anything). */
async function waitCaughtUp(context: NemesisContext, id: NodeId, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const leader = await context.cluster.waitForAgreedLeader(5_000).catch(() => null);
    if (leader !== null) {
      const [leaderStatus, own] = await Promise.all([context.cluster.status(leader), context.cluster.status(id)]);
      if (leaderStatus !== null && own !== null && own.appliedIndex >= leaderStatus.commitIndex - 50) return;
    }
    await sleep(200);
  }
}

async function tornWal(context: NemesisContext): Promise<InjectedFault> {
  const target = await followerOf(context);
  await waitCaughtUp(context, target, 10_000);
  await context.cluster.kill(target);
  const walDir = path.join(context.cluster.slot(target).dataDir, 'wal');
  // The torn record is one the crash cut while it was being written, so never acknowledged;
  // tearing an acknowledged record instead is outside Raft's fault model (see appendTornRecord).
  const cut = await appendTornRecord(walDir, context.rng.next());
  const logBefore = context.cluster.logTail(target, 100_000).split('\n').length;
  context.cluster.start(target);
  const healthy = await waitServing(context, target, 15_000);
  const opened = await waitLogLine(context, target, logBefore, 'write-ahead log opened', 5_000);
  const tornTail = opened === undefined ? undefined : (JSON.parse(opened) as { report?: { tornTail?: unknown } }).report?.tornTail;
  if (!healthy) context.anomalies.push(`torn-wal: ${target} did not serve again after a torn final record at ${cut.file}:${cut.offset}`);
  else if (tornTail === null || tornTail === undefined) context.anomalies.push(`torn-wal: ${target} opened its log without reporting the torn record cut at ${cut.file}:${cut.offset}`);
  return { kind: 'torn-wal', detail: `${target}: torn final record (${cut.bytes} bytes of a record cut short) at ${path.basename(cut.file)}:${cut.offset}; restarted, torn tail ${tornTail == null ? 'NOT reported' : 'cut and reported'}`, heal: noHeal };
}

/**
 * The first line containing `text` logged after line `fromLine`, waiting up to `timeoutMs`: pino
 * writes asynchronously, so a node can answer /healthz before its earlier log lines reach the file
 * (seen under load: a torn tail reported by the node but not yet in its log when the harness looked).
 */
async function waitLogLine(context: NemesisContext, id: NodeId, fromLine: number, text: string, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = context.cluster.logTail(id, 100_000).split('\n').slice(fromLine - 1).find((candidate) => candidate.includes(text));
    if (line !== undefined || Date.now() > deadline) return line;
    await sleep(100);
  }
}

async function waitServing(context: NemesisContext, id: NodeId, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (context.cluster.slot(id).process === null) return false;
    const reply = await context.cluster.call(id, 'GET', '/healthz', undefined, 1_000);
    if (reply.kind === 'response' && reply.status === 200) return true;
    await sleep(150);
  }
  return false;
}

/**
 * Bit rot in a record: the node must refuse to start (exit 3) with a message naming the segment
 * file and the record's offset. Then the operator restores the file and the node rejoins.
 */
async function corruptWal(context: NemesisContext): Promise<InjectedFault> {
  const target = await followerOf(context);
  await waitCaughtUp(context, target, 10_000);
  await context.cluster.kill(target);
  const walDir = path.join(context.cluster.slot(target).dataDir, 'wal');
  const locations = await walRecordLocations(walDir);
  const fromEnd = context.rng.int(0, Math.min(40, locations.length - 1));
  const victim = locations[locations.length - 1 - fromEnd]!;
  const original = await readFile(victim.file);
  await flipBitInRecord(walDir, fromEnd, context.rng.int(0, 7));
  context.cluster.expectExitOf = target;
  context.cluster.start(target);
  const exit = await context.cluster.waitExit(target, 20_000);
  context.cluster.expectExitOf = null;
  const log = context.cluster.logTail(target, 40);
  const named = log.includes(path.basename(victim.file)) && log.includes(String(victim.start));
  let verdict: string;
  if (exit === null) {
    await context.cluster.kill(target);
    context.anomalies.push(`corrupt-wal: ${target} started on a log with a flipped bit in the record at ${victim.file}:${victim.start}`);
    verdict = 'STARTED ANYWAY';
  } else if (exit.code !== 3 || !log.includes('CORRUPT_RECORD') || !named) {
    context.anomalies.push(`corrupt-wal: ${target} exited ${exit.code}/${exit.signal} without a CORRUPT_RECORD message naming ${path.basename(victim.file)} and offset ${victim.start}: ${log.split('\n').slice(-3).join(' | ')}`);
    verdict = `exit ${exit.code}, message incomplete`;
  } else {
    verdict = 'refused to start (exit 3, CORRUPT_RECORD naming file and offset)';
  }
  await writeFile(victim.file, original);
  context.cluster.start(target);
  return { kind: 'corrupt-wal', detail: `${target}: flipped a bit in the record at ${path.basename(victim.file)}:${victim.start} (${fromEnd} from the end): ${verdict}; restored the file and restarted`, heal: noHeal };
}

async function admin(context: NemesisContext, method: string, adminPath: string, body: unknown, attempts = 6): Promise<unknown> {
  let last = '';
  for (let attempt = 0; attempt < attempts; attempt++) {
    const via = await leaderOrAny(context);
    const reply = await context.cluster.call(via, method, adminPath, body, 8_000);
    if (reply.kind === 'response' && reply.status === 200) return reply.body;
    last = reply.kind === 'response' ? `${reply.status} ${reply.text.slice(0, 200)}` : reply.kind;
    await sleep(300);
  }
  throw new Error(`${method} ${adminPath} failed: ${last}`);
}

/** Adds a fresh node as a learner, promotes it, then removes another member (kept at the same size). */
async function membership(context: NemesisContext): Promise<InjectedFault> {
  const cluster = context.cluster;
  const slot = await cluster.addSlot();
  cluster.start(slot.id, { join: true });
  const steps: string[] = [];
  try {
    await admin(context, 'POST', '/v1/cluster/members', { id: slot.id, address: slot.peerAddress, learner: true });
    steps.push(`added learner ${slot.id}`);
    cluster.markMember(slot.id);
    await waitCaughtUp(context, slot.id, 20_000);
    await admin(context, 'POST', '/v1/cluster/members', { id: slot.id, address: slot.peerAddress, learner: false });
    steps.push(`promoted ${slot.id}`);
  } catch (error) {
    cluster.unmarkMember(slot.id);
    await cluster.kill(slot.id);
    throw error;
  }
  const victim = context.rng.pick(cluster.members().filter((id) => id !== slot.id));
  await admin(context, 'DELETE', `/v1/cluster/members/${victim}`, undefined);
  steps.push(`removed ${victim}`);
  cluster.unmarkMember(victim);
  await sleep(500);
  await cluster.kill(victim);
  return { kind: 'membership', detail: steps.join(', '), heal: noHeal };
}

async function transfer(context: NemesisContext): Promise<InjectedFault> {
  const leader = await leaderOrAny(context);
  const to = context.rng.pick(context.cluster.members().filter((id) => id !== leader));
  const reply = await context.cluster.call(leader, 'POST', '/v1/cluster/transfer-leader', { to }, 8_000);
  const outcome = reply.kind === 'response' ? `${reply.status}${reply.status === 200 ? '' : ` ${reply.body?.error?.code ?? ''}`}` : reply.kind;
  return { kind: 'transfer-leader', detail: `${leader} → ${to}: ${outcome}`, heal: noHeal };
}

async function clockJump(context: NemesisContext, kind: NemesisKind): Promise<InjectedFault> {
  const target = context.rng.chance(0.5) ? await leaderOrAny(context) : context.rng.pick(context.cluster.running());
  const magnitude = context.rng.int(300, 4_000);
  const jumpMs = kind === 'clock-jump' ? magnitude : -magnitude;
  const reply = await context.cluster.call(target, 'POST', '/v1/debug/faults/clock', { offsetMs: jumpMs });
  const ok = reply.kind === 'response' && reply.status === 200;
  return { kind, detail: `${target}: clock ${jumpMs > 0 ? '+' : ''}${jumpMs} ms${ok ? '' : ' (not applied)'}`, heal: noHeal };
}

/**
 * The lease killer: the leader's clock jumps back (its ticks stall while the clock catches up)
 * and the leader is isolated at once. The majority elects a new leader and takes writes; if the
 * old leader still counted its lease as valid it would serve stale reads.
 */
async function clockBackPartition(context: NemesisContext): Promise<InjectedFault> {
  const leader = await leaderOrAny(context);
  const jumpMs = -context.rng.int(2_000, 4_000);
  await context.cluster.call(leader, 'POST', '/v1/debug/faults/clock', { offsetMs: jumpMs });
  const others = context.cluster.members().filter((id) => id !== leader);
  await context.partitioner.cut(crossPairs([leader], others));
  return { kind: 'clock-back-partition', detail: `${leader}: clock ${jumpMs} ms, then isolated from ${others.join(', ')} [${context.partitioner.mechanism}]`, heal: () => context.partitioner.heal() };
}

/**
 * Within the lease's drift bound (ρ = 0.1): the leader's clock runs up to 9 % slow and the leader is
 * isolated. Its lease must still end before the majority can elect a new leader.
 */
async function clockSlowPartition(context: NemesisContext): Promise<InjectedFault> {
  const leader = await leaderOrAny(context);
  const rate = 0.91 + context.rng.int(0, 8) / 100;
  await context.cluster.call(leader, 'POST', '/v1/debug/faults/clock', { rate });
  const others = context.cluster.members().filter((id) => id !== leader);
  await context.partitioner.cut(crossPairs([leader], others));
  return {
    kind: 'clock-slow-partition',
    detail: `${leader}: clock rate ${rate.toFixed(2)}, then isolated from ${others.join(', ')} [${context.partitioner.mechanism}]`,
    heal: async () => {
      await context.partitioner.heal();
      await context.cluster.call(leader, 'POST', '/v1/debug/faults/clock', { rate: 1 });
    },
  };
}

export async function injectFault(context: NemesisContext, kind: NemesisKind): Promise<InjectedFault> {
  const members = context.cluster.running();
  switch (kind) {
    case 'kill-leader':
      return killSome(context, kind, [await leaderOrAny(context)]);
    case 'kill-follower':
      return killSome(context, kind, [await followerOf(context)]);
    case 'kill-majority':
      return killSome(context, kind, context.rng.shuffle(members).slice(0, Math.floor(members.length / 2) + 1));
    case 'kill-all':
      return killSome(context, kind, members);
    case 'pause-leader':
      return pauseOne(context, kind, await leaderOrAny(context));
    case 'pause-follower':
      return pauseOne(context, kind, await followerOf(context));
    case 'partition-leader':
    case 'partition-halves':
    case 'partition-bridge':
      return partition(context, kind);
    case 'torn-wal':
      return tornWal(context);
    case 'corrupt-wal':
      return corruptWal(context);
    case 'membership':
      return membership(context);
    case 'transfer-leader':
      return transfer(context);
    case 'clock-jump':
    case 'clock-jump-back':
      return clockJump(context, kind);
    case 'clock-back-partition':
      return clockBackPartition(context);
    case 'clock-slow-partition':
      return clockSlowPartition(context);
  }
}
