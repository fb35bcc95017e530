import http from 'node:http';
import type { HistoryEvent } from '../../../src/core/history.js';
import type { Rng } from '../../../src/core/rng.js';
import type { FaultCluster } from './cluster.js';
import { callJson, type JsonReply } from './http.js';

/**
 * Concurrent clients doing read / write / cas on a few registers plus inserts of unique keys,
 * recording a Jepsen history (invoke / ok / fail / info; time in ns since the run started).
 *
 * Classification (the part that must be exactly right, or the checker judges the wrong history):
 * - a reply means the operation ran: 200 → ok; a read's 404 → ok with nil; a cas's 409 → `fail`
 *   (Jepsen: the cas ran and found another value);
 * - 503 whose error says `effect: "none"` (refused before reaching Raft), or a refused connection
 *   (nothing was sent) → `fail` with that code: it certainly did not happen;
 * - anything else — a timeout, a reset, a 504, a 503 without `effect: "none"` — is `info` (it
 *   may or may not have happened and stays concurrent with everything after it), except that a
 *   read with no answer is a `fail`: a read changes nothing. After an `info` the client continues
 *   as a new process, as in Jepsen.
 *
 * Registers rotate: every `epochMs` the clients move to fresh keys, so each key's history stays
 * small enough to check quickly however long the run is (Jepsen's "independent" keys).
 */
export interface WorkloadOptions {
  readonly cluster: FaultCluster;
  readonly rng: Rng;
  readonly clients: number;
  readonly keysPerEpoch: number;
  readonly epochMs: number;
  /** Client-side deadline; the node's own request timeout should be shorter. */
  readonly opTimeoutMs: number;
  /** Relative weights of the operations. */
  readonly mix?: { readonly read: number; readonly write: number; readonly cas: number; readonly insert: number };
}

export interface InsertRecord {
  readonly key: string;
  readonly outcome: 'ok' | 'fail' | 'info';
}

export interface WorkloadCounts {
  invoked: number;
  ok: number;
  fail: number;
  info: number;
  /** Acknowledged writes: ok writes, ok cas and ok inserts. */
  acknowledgedWrites: number;
  /** Replies no correct node should give (4xx other than 404/409, 5xx other than 503/504). */
  unexpected: number;
  unexpectedSamples: string[];
}

type Op = 'read' | 'write' | 'cas' | 'insert';

interface Completion {
  readonly type: 'ok' | 'fail' | 'info';
  readonly value: unknown;
  readonly error?: string;
}

/** Where a client's next request goes when its node is unavailable. */
export function registerKey(epoch: number, index: number): string {
  return `r${epoch}-${index}`;
}

export function insertPrefix(epoch: number): string {
  return `set/${epoch}/`;
}

export class Workload {
  readonly events: HistoryEvent[] = [];
  readonly inserts: InsertRecord[] = [];
  readonly counts: WorkloadCounts = { invoked: 0, ok: 0, fail: 0, info: 0, acknowledgedWrites: 0, unexpected: 0, unexpectedSamples: [] };
  /** Every register key and insert epoch used. */
  readonly registerKeys = new Set<string>();
  readonly insertEpochs = new Set<number>();
  private readonly startedNs = process.hrtime.bigint();
  private readonly lastSeen = new Map<string, string | null>();
  private readonly agents: http.Agent[] = [];
  private loops: Promise<void>[] = [];
  private stopping = false;
  private nextProcess: number;
  private sequence = 0;
  /** ok completions after `markPhase('recovery')`: the liveness signal. */
  okSinceMark = 0;
  /** Date.now() of the last acknowledged write (0 before the first). */
  lastAcknowledgedWriteAt = 0;

  constructor(private readonly options: WorkloadOptions) {
    this.nextProcess = options.clients;
  }

  /** Nanoseconds since the workload was created (the history's clock). */
  now(): number {
    return Number(process.hrtime.bigint() - this.startedNs);
  }

  epoch(): number {
    return Math.floor(this.now() / 1e6 / this.options.epochMs);
  }

  start(): void {
    for (let client = 0; client < this.options.clients; client++) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      this.agents.push(agent);
      this.loops.push(this.loop(client, agent));
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
    this.loops = [];
    for (const agent of this.agents) agent.destroy();
  }

  markRecovery(): void {
    this.okSinceMark = 0;
  }

  private async loop(client: number, agent: http.Agent): Promise<void> {
    let process = client;
    const rng = this.options.rng.split(`client:${client}`);
    while (!this.stopping) {
      const members = this.options.cluster.members();
      const target = members[client % members.length]!;
      const reply = await this.operate(process, rng, target, agent);
      if (reply === 'info') process = this.nextProcess++;
      if (reply === 'refused') await sleep(50); // its node is down: do not spin
    }
  }

  private chooseOp(rng: Rng): Op {
    const mix = this.options.mix ?? { read: 40, write: 30, cas: 20, insert: 10 };
    let roll = rng.next() * (mix.read + mix.write + mix.cas + mix.insert);
    for (const op of ['read', 'write', 'cas', 'insert'] as const) {
      if (roll < mix[op]) return op;
      roll -= mix[op];
    }
    return 'read';
  }

  /** One operation, invoked and completed in the history. */
  private async operate(process: number, rng: Rng, target: string, agent: http.Agent): Promise<'ok' | 'fail' | 'info' | 'refused'> {
    const op = this.chooseOp(rng);
    const epoch = this.epoch();
    const base = this.options.cluster.slot(target).httpUrl;
    const token = this.options.cluster.options.token;
    const call = (method: string, path: string, body?: unknown): Promise<JsonReply> => callJson({ base, method, path, body, token, timeoutMs: this.options.opTimeoutMs, agent });
    this.sequence += 1;
    if (op === 'insert') {
      this.insertEpochs.add(epoch);
      const key = `${insertPrefix(epoch)}${process}.${this.sequence}`;
      const reply = await call('PUT', `/v1/kv/${encodeURIComponent(key)}`, { value: '1' });
      const completion = classify('write', reply);
      this.count(completion, true);
      this.inserts.push({ key, outcome: completion.type });
      return reply.kind === 'refused' ? 'refused' : completion.type;
    }
    const key = registerKey(epoch, rng.int(0, this.options.keysPerEpoch - 1));
    this.registerKeys.add(key);
    const path = `/v1/kv/${encodeURIComponent(key)}`;
    let value: unknown = null;
    let request: () => Promise<JsonReply>;
    if (op === 'read') {
      request = () => call('GET', path);
    } else if (op === 'write') {
      value = `w${process}.${this.sequence}`;
      request = () => call('PUT', path, { value });
    } else {
      const expected = this.lastSeen.has(key) && rng.chance(0.8) ? this.lastSeen.get(key)! : null;
      value = [expected, `c${process}.${this.sequence}`];
      request = () => call('POST', `${path}/cas`, { expected, value: `c${process}.${this.sequence}` });
    }
    this.events.push({ process, type: 'invoke', f: op, key, value, time: this.now() });
    this.counts.invoked += 1;
    const reply = await request();
    const completion = classify(op, reply);
    const time = this.now();
    this.events.push({ process, type: completion.type, f: op, key, value: completion.value, time, ...(completion.error === undefined ? {} : { error: completion.error }) });
    this.count(completion, op !== 'read');
    this.learn(op, key, value, completion);
    if (reply.kind === 'response' && isUnexpected(reply.status)) this.noteUnexpected(`${op} ${key} → ${reply.status} ${reply.text.slice(0, 200)}`);
    return reply.kind === 'refused' ? 'refused' : completion.type;
  }

  private learn(op: Op, key: string, value: unknown, completion: Completion): void {
    if (completion.type !== 'ok') return;
    if (op === 'read') this.lastSeen.set(key, completion.value as string | null);
    else if (op === 'write') this.lastSeen.set(key, value as string);
    else if (op === 'cas') this.lastSeen.set(key, (value as [unknown, string])[1]);
  }

  private count(completion: Completion, isWrite: boolean): void {
    this.counts[completion.type] += 1;
    if (completion.type === 'ok') {
      this.okSinceMark += 1;
      if (isWrite) {
        this.counts.acknowledgedWrites += 1;
        this.lastAcknowledgedWriteAt = Date.now();
      }
    }
  }

  private noteUnexpected(sample: string): void {
    this.counts.unexpected += 1;
    if (this.counts.unexpectedSamples.length < 10) this.counts.unexpectedSamples.push(sample);
  }
}

function isUnexpected(status: number): boolean {
  return ![200, 404, 409, 503, 504].includes(status);
}

/** Maps a reply to a history completion for operation `f` (see the class comment). */
export function classify(f: Op | 'read' | 'write', reply: JsonReply): Completion {
  const isRead = f === 'read';
  if (reply.kind === 'refused') return { type: 'fail', value: null, error: 'CONNECTION_REFUSED' };
  if (reply.kind === 'timeout') return { type: isRead ? 'fail' : 'info', value: null, error: 'CLIENT_TIMEOUT' };
  if (reply.kind === 'network') return { type: isRead ? 'fail' : 'info', value: null, error: 'NETWORK' };
  const error = reply.body?.error as { code?: string; effect?: string } | undefined;
  const code = error?.code ?? `HTTP_${reply.status}`;
  if (reply.status === 200) return { type: 'ok', value: isRead ? (reply.body?.value ?? null) : null };
  if (isRead && reply.status === 404 && code === 'NOT_FOUND') return { type: 'ok', value: null };
  if (f === 'cas' && reply.status === 409 && code === 'CONFLICT') return { type: 'fail', value: null, error: 'CONFLICT' };
  if (isRead) return { type: 'fail', value: null, error: code };
  if (reply.status === 503 && error?.effect === 'none') return { type: 'fail', value: null, error: `${code}:none` };
  return { type: 'info', value: null, error: code };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
