import { HistoryRecorder, type HistoryEvent } from '../core/history.js';
import type { NodeId, RequestId } from '../core/ids.js';
import type { Rng } from '../core/rng.js';

/**
 * Simulated clients: `clients` concurrent client slots, each running one operation at a time
 * through a node's `request` input and recording a Jepsen-style history (invoke, then ok / fail /
 * info) with virtual times in nanoseconds. An operation without a reply within `timeoutMs` ends
 * as `info` (it may or may not have happened) and its process id is retired — the slot continues
 * under a fresh process id, as Jepsen requires.
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
  /** Interprets a reply. */
  complete(reply: Rep, operation: ClientOperation<Req>): Completion;
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
  readonly operation: ClientOperation<Req>;
}

export class ClientDriver<Req, Rep> {
  readonly recorder = new HistoryRecorder();
  private readonly pending = new Map<RequestId, Pending<Req>>();
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

  /** No new operations from now on; operations in flight still complete or time out. */
  stop(): void {
    this.stopped = true;
  }

  /** Operations in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  history(): readonly HistoryEvent[] {
    return this.recorder.history();
  }

  /** Routes a reply from the simulation; unknown ids (late replies after a timeout) are ignored. */
  onReply(requestId: RequestId, reply: Rep): void {
    const pending = this.pending.get(requestId);
    if (pending === undefined) return;
    this.pending.delete(requestId);
    const completion = this.spec.complete(reply, pending.operation);
    this.finish(pending, completion);
  }

  private scheduleNext(client: number): void {
    if (this.stopped) return;
    const thinkUs = Math.floor(this.rng.next() * this.spec.thinkMsMax * 1000);
    this.host.after(Math.max(1, thinkUs), () => this.invokeNext(client));
  }

  private invokeNext(client: number): void {
    if (this.stopped) return;
    const process = this.processOf[client]!;
    const operation = this.spec.next({ rng: this.rng, nowUs: this.host.now, client, process, nodes: this.host.nodeIds });
    if (operation === null) {
      this.scheduleNext(client);
      return;
    }
    this.counts.invoked += 1;
    this.recorder.invoke({ process, f: operation.f, ...(operation.key !== undefined ? { key: operation.key } : {}), value: operation.value, time: this.host.now * 1000 });
    const requestId = this.host.request(operation.node, operation.request);
    const pending: Pending<Req> = { client, process, operation };
    this.pending.set(requestId, pending);
    this.host.after(this.spec.timeoutMs * 1000, () => {
      if (this.pending.get(requestId) !== pending) return;
      this.pending.delete(requestId);
      this.finish(pending, { type: 'info', value: null, error: 'TIMEOUT' });
    });
  }

  private finish(pending: Pending<Req>, completion: Completion): void {
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
