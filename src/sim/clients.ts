import { HistoryRecorder, type HistoryEvent } from '../core/history.js';
import type { NodeId, RequestId } from '../core/ids.js';
import type { Rng } from '../core/rng.js';

/**
 * Simulated clients: `clients` concurrent client slots, each running one operation at a time
 * through a node's `request` input and recording a Jepsen-style history (invoke, then ok / fail /
 * info) with virtual times in nanoseconds. An operation without a reply within `timeoutMs` ends
 * as `info` (it may or may not have happened) and its process id is retired — the slot continues
 * under a fresh process id, as Jepsen requires.
 *
 * Retries (optional): like a real client library, a workload may answer a reply with `retry` (a
 * new attempt of the same history operation, e.g. at another node with the same session and
 * sequence number), and with `attemptTimeoutMs` / `retryAfterSilence` try again when an attempt
 * gets no reply. All attempts are one operation in the history: one invocation, one completion,
 * from whichever attempt answers definitively first (a late reply to an earlier attempt counts).
 */
export interface ClientOperation<Req> {
  /** The node the client sends the request to. */
  readonly node: NodeId;
  /** Operation name for the history (read, write, cas, send, …). */
  readonly f: string;
  readonly key?: string;
  /** The history's invoke value (the argument). */
  readonly value: unknown;
  /** What the node's core receives. */
  readonly request: Req;
}

export interface Completion {
  readonly type: 'ok' | 'fail' | 'info';
  /** Result for ok (a read's value); the argument or null otherwise. */
  readonly value: unknown;
  readonly error?: string;
}

/** What a workload may look at when choosing its next operation. */
/** A workload's answer to a reply that is not final: try the operation again. */
export interface Retry<Req> {
  readonly type: 'retry';
  /** The next attempt (its `f`, `key` and `value` are ignored: the history keeps the first attempt's). */
  readonly operation: ClientOperation<Req>;
  /** Back-off before the next attempt (virtual ms, ≥ 0). */
  readonly delayMs: number;
}

export interface WorkloadContext {
  readonly rng: Rng;
  readonly nowUs: number;
  /** Index of the client slot choosing (0 … clients-1) and its current process id. */
  readonly client: number;
  readonly process: number;
  /** Nodes currently up (a real client might still pick a dead one; the workload decides). */
  readonly nodes: readonly NodeId[];
}

export interface WorkloadSpec<Req, Rep> {
  /** Concurrent client slots. */
  readonly clients: number;
  /** Longest think time between two operations of one client (uniform in [0, thinkMsMax]). */
  readonly thinkMsMax: number;
  /** Time after which an unanswered operation ends as `info`. */
  readonly timeoutMs: number;
  /** Next operation for a free client, or null to idle for one think time. */
  next(context: WorkloadContext): ClientOperation<Req> | null;
  /** Interprets a reply to `operation` (the attempt it answers): a completion, or a retry. */
  complete(reply: Rep, operation: ClientOperation<Req>, context: WorkloadContext): Completion | Retry<Req>;
  /** Per-attempt timeout (virtual ms): an attempt without a reply this long asks `retryAfterSilence`. Default: none. */
  readonly attemptTimeoutMs?: number;
  /** The next attempt after a silent one (null: keep waiting for the operation's own timeout). */
  retryAfterSilence?(operation: ClientOperation<Req>, context: WorkloadContext): ClientOperation<Req> | null;
  /**
   * When healing begins, operations still pending get at least this long (virtual ms) before
   * they time out, so the heal phase can require them to complete (default: their own timeout).
   */
  readonly healTimeoutMs?: number;
}

/** What the client driver needs from its host. */
export interface ClientHost<Req> {
  readonly now: number;
  request(node: NodeId, request: Req): RequestId;
  after(delayUs: number, action: () => void): void;
  /** Nodes a client considers (all nodes). */
  readonly nodeIds: readonly NodeId[];
}

interface Pending<Req> {
  readonly client: number;
  readonly process: number;
  /** The latest attempt. */
  operation: ClientOperation<Req>;
  /** Request ids of every attempt (a late reply to any of them may complete the operation). */
  readonly requestIds: RequestId[];
  /** The latest attempt's request id (retries are only taken from its replies). */
  latestRequestId: RequestId;
  /** When the operation times out as `info` (virtual µs). */
  deadlineUs: number;
  done: boolean;
}

/** Bound on the attempts of one operation; beyond it the operation waits for its timeout. */
const attemptsMax = 1000;

export class ClientDriver<Req, Rep> {
  readonly recorder = new HistoryRecorder();
  /** Attempts awaiting a reply, by request id. */
  private readonly pending = new Map<RequestId, Pending<Req>>();
  /** Operations invoked and not yet completed (insertion order: deterministic). */
  private readonly open = new Set<Pending<Req>>();
  private readonly processOf: number[];
  private nextProcess: number;
  private stopped = false;
  /** Operations invoked / completed per outcome. */
  readonly counts = { invoked: 0, ok: 0, fail: 0, info: 0 };

  constructor(
    private readonly spec: WorkloadSpec<Req, Rep>,
    private readonly host: ClientHost<Req>,
    private readonly rng: Rng,
  ) {
    this.processOf = Array.from({ length: spec.clients }, (_, index) => index);
    this.nextProcess = spec.clients;
  }

  /** Starts every client slot (each after its own think time). */
  start(): void {
    for (let client = 0; client < this.spec.clients; client += 1) this.scheduleNext(client);
  }

  /**
   * No new operations from now on; operations in flight still complete or time out — not before
   * `healTimeoutMs` from now when the workload sets it.
   */
  stop(): void {
    this.stopped = true;
    const healTimeoutMs = this.spec.healTimeoutMs;
    if (healTimeoutMs === undefined) return;
    const deadlineUs = this.host.now + healTimeoutMs * 1000;
    for (const pending of this.open) pending.deadlineUs = Math.max(pending.deadlineUs, deadlineUs);
  }

  /** Operations in flight. */
  get inFlight(): number {
    return this.open.size;
  }

  history(): readonly HistoryEvent[] {
    return this.recorder.history();
  }

  /** Routes a reply from the simulation; unknown ids (late replies after completion) are ignored. */
  onReply(requestId: RequestId, reply: Rep): void {
    const pending = this.pending.get(requestId);
    if (pending === undefined) return;
    const answer = this.spec.complete(reply, pending.operation, this.context(pending.client, pending.process));
    if (answer.type !== 'retry') {
      this.finish(pending, answer);
      return;
    }
    // A retry is taken only from the latest attempt: an earlier attempt's non-final reply is stale.
    this.pending.delete(requestId);
    if (requestId !== pending.latestRequestId) return;
    this.host.after(Math.max(1, Math.floor(answer.delayMs * 1000)), () => this.attempt(pending, answer.operation));
  }

  private context(client: number, process: number): WorkloadContext {
    return { rng: this.rng, nowUs: this.host.now, client, process, nodes: this.host.nodeIds };
  }

  private scheduleNext(client: number): void {
    if (this.stopped) return;
    const thinkUs = Math.floor(this.rng.next() * this.spec.thinkMsMax * 1000);
    this.host.after(Math.max(1, thinkUs), () => this.invokeNext(client));
  }

  private invokeNext(client: number): void {
    if (this.stopped) return;
    const process = this.processOf[client]!;
    const operation = this.spec.next(this.context(client, process));
    if (operation === null) {
      this.scheduleNext(client);
      return;
    }
    this.counts.invoked += 1;
    this.recorder.invoke({ process, f: operation.f, ...(operation.key !== undefined ? { key: operation.key } : {}), value: operation.value, time: this.host.now * 1000 });
    const pending: Pending<Req> = { client, process, operation, requestIds: [], latestRequestId: -1, deadlineUs: this.host.now + this.spec.timeoutMs * 1000, done: false };
    this.open.add(pending);
    this.attempt(pending, operation);
    this.armTimeout(pending);
  }

  /** Sends one attempt of an open operation (and arms its attempt timeout). */
  private attempt(pending: Pending<Req>, operation: ClientOperation<Req>): void {
    if (pending.done || pending.requestIds.length >= attemptsMax) return;
    pending.operation = operation;
    const requestId = this.host.request(operation.node, operation.request);
    pending.requestIds.push(requestId);
    pending.latestRequestId = requestId;
    this.pending.set(requestId, pending);
    const attemptTimeoutMs = this.spec.attemptTimeoutMs;
    if (attemptTimeoutMs === undefined || this.spec.retryAfterSilence === undefined) return;
    this.host.after(attemptTimeoutMs * 1000, () => {
      if (pending.done || pending.latestRequestId !== requestId) return;
      const next = this.spec.retryAfterSilence!(operation, this.context(pending.client, pending.process));
      if (next !== null) this.attempt(pending, next);
    });
  }

  private armTimeout(pending: Pending<Req>): void {
    this.host.after(Math.max(1, pending.deadlineUs - this.host.now), () => {
      if (pending.done) return;
      // The deadline may have been extended when healing began.
      if (pending.deadlineUs > this.host.now) {
        this.armTimeout(pending);
        return;
      }
      this.finish(pending, { type: 'info', value: null, error: 'TIMEOUT' });
    });
  }

  private finish(pending: Pending<Req>, completion: Completion): void {
    pending.done = true;
    this.open.delete(pending);
    for (const requestId of pending.requestIds) this.pending.delete(requestId);
    this.counts[completion.type] += 1;
    this.recorder.complete({
      process: pending.process,
      type: completion.type,
      value: completion.value,
      time: this.host.now * 1000,
      ...(completion.error !== undefined ? { error: completion.error } : {}),
    });
    // After `info` the process may still be running the operation: retire its id.
    if (completion.type === 'info') this.processOf[pending.client] = this.nextProcess++;
    this.scheduleNext(pending.client);
  }
}
