import { performance } from 'node:perf_hooks';
import { randomInt } from 'node:crypto';
import type { DurableLog, Transport } from '../core/host.js';
import type { NodeId, RequestId } from '../core/ids.js';
import type { ClientReply, CoreFactory, Input, Output, ProtocolCore } from '../core/protocol.js';
import type { Envelope } from '../core/envelope.js';
import { ConcordError, ErrorCode, assert } from '../core/errors.js';
import { Rng } from '../core/rng.js';

/**
 * The real host: drives any `ProtocolCore` with a `Transport` and a `DurableLog`.
 *
 * Inputs (peer messages, client requests, ticks, timers, sync completions) are stepped through the
 * core one at a time, synchronously, as they arrive. Their outputs are carried out under the output
 * contract (src/core/protocol.ts) with **group commit**:
 *
 * - persist records are appended to the log at once (written, not durable);
 * - once per event-loop turn (`setImmediate`) one `sync()` covers everything appended so far; while
 *   a sync is in flight, new records wait for the next one — so N proposals arriving together cost
 *   one fsync, however many there are;
 * - messages and client replies of an output with `sync: true` are held until a sync covering that
 *   output's records completes; both leave in the order they were produced (a later message or
 *   reply never overtakes a held one, since it may depend on the same state). Records written with
 *   `sync: false` hold nothing back: the core learns of their durability through `persisted`
 *   (a Raft leader counts its own log toward the commit quorum only then);
 * - when a sync completes, the core gets `{ type: 'persisted', throughRecord }`;
 * - messages leave at the end of the turn, all together: the transport then writes each peer's
 *   frames of the turn with one syscall (per-message syscalls dominate on small machines).
 *
 * Time: ticks are counted from a monotonic clock, not from timer callbacks. After a pause (a blocked
 * event loop, SIGSTOP) the missed ticks are delivered before the next input, so tick-based leases
 * expire before any request is served (bounded by `maxCatchUpTicks`).
 */
export interface RuntimeOptions<M, P, Req, Rep> {
  readonly id: NodeId;
  /** Every member the core starts with, including `id`, in a stable order. */
  readonly peers: readonly NodeId[];
  readonly factory: CoreFactory<M, P, Req, Rep>;
  readonly transport: Transport<M>;
  readonly log: DurableLog<P>;
  /** Length of one core tick. */
  readonly tickIntervalMs: number;
  /** Default deadline of `request()`; past it the promise rejects with `TIMEOUT`. */
  readonly requestTimeoutMs: number;
  /** Bound on requests awaiting a reply; beyond it `request()` rejects with `OVERLOADED`. */
  readonly maxPendingRequests: number;
  /** Bound on ticks delivered at once after a pause; the surplus is dropped (default 10 000). */
  readonly maxCatchUpTicks?: number;
  /** Seed of the core's generator (default: a fresh random one per incarnation). */
  readonly seed?: number;
  /** Monotonic time source in ms (default `performance.now`); tests inject offsets and jumps. */
  readonly clock?: () => number;
  /** Called once when the runtime stops itself on a broken invariant or a storage failure. */
  readonly onFatal?: (error: unknown) => void;
  /**
   * Called after each batch of inputs has been stepped (the core is quiescent): observers such as
   * watch hubs read the core's state here. Must not call back into the runtime synchronously.
   */
  readonly afterInputs?: () => void;
  /**
   * Records the core waits for promptly even when written with `sync: false` (a Raft leader's own
   * entries). Others written with `sync: false` are *lazy*: they start no sync of their own and
   * ride along with the next one, or are synced after `lazySyncDelayMs`. Default: every record is
   * prompt. (Raft's commit-index-only hard states are lazy: losing one costs nothing, and syncing
   * each would put a second fsync in front of the next write.)
   */
  readonly isPromptRecord?: (record: P) => boolean;
  /** Bound on how long a lazy record may stay unsynced (default 10 ticks). */
  readonly lazySyncDelayMs?: number;
  /** Called after every completed sync (group-commit observability). */
  readonly onSync?: (info: { readonly records: number; readonly durationMs: number }) => void;
}

export interface RuntimeStats {
  inputs: number;
  syncs: number;
  recordsPersisted: number;
  messagesSent: number;
  repliesDelivered: number;
  requestTimeouts: number;
  requestsRejected: number;
}

interface PendingRequest<Rep> {
  resolve(reply: Rep): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout;
}

/** Output parts held until the log is durable through `needDurable` records. */
interface Held<T> {
  needDurable: number;
  items: T[];
}

const defaultMaxCatchUpTicks = 10_000;

function lastNeed<T>(queue: readonly Held<T>[]): number {
  return queue.length > 0 ? queue[queue.length - 1]!.needDurable : 0;
}

/** Appends to the last group when it waits for the same durability, else opens a new group. */
function enqueue<T>(queue: Held<T>[], needDurable: number, items: readonly T[]): void {
  const last = queue.length > 0 ? queue[queue.length - 1]! : undefined;
  if (last !== undefined && last.needDurable === needDurable) {
    for (const item of items) last.items.push(item);
  } else {
    queue.push({ needDurable, items: [...items] });
  }
}

export class Runtime<M, P, Req, Rep> {
  readonly id: NodeId;
  readonly stats: RuntimeStats = {
    inputs: 0, syncs: 0, recordsPersisted: 0, messagesSent: 0, repliesDelivered: 0, requestTimeouts: 0, requestsRejected: 0,
  };
  private readonly coreInstance: ProtocolCore<M, P, Req, Rep>;
  private readonly clock: () => number;
  private readonly pending = new Map<RequestId, PendingRequest<Rep>>();
  private readonly heldMessages: Held<Envelope<M>>[] = [];
  private readonly heldReplies: Held<ClientReply<Rep>>[] = [];
  private readonly inputQueue: Input<M, Req>[] = [];
  /** Named timers: due tick. */
  private readonly timers = new Map<string, number>();
  private nextRequestId: RequestId = 1;
  private appendedRecords = 0;
  private durableRecords = 0;
  private syncInFlight: Promise<void> | null = null;
  /** Highest record number that must be synced without waiting for the lazy delay. */
  private promptRecords = 0;
  private lazyTimer: NodeJS.Timeout | null = null;
  private flushScheduled = false;
  private stepping = false;
  private state: 'created' | 'running' | 'stopped' = 'created';
  private tickTimer: NodeJS.Timeout | null = null;
  private clockOriginMs = 0;
  /** Last reading of the clock, to notice a source that steps backwards. */
  private lastClockMs = 0;
  private ticksElapsed = 0;

  constructor(private readonly options: RuntimeOptions<M, P, Req, Rep>) {
    assert(options.tickIntervalMs > 0, 'tickIntervalMs must be positive');
    assert(options.requestTimeoutMs > 0, 'requestTimeoutMs must be positive');
    assert(options.maxPendingRequests > 0, 'maxPendingRequests must be positive');
    assert(options.peers.includes(options.id), `peers must include ${options.id}`);
    this.id = options.id;
    this.clock = options.clock ?? (() => performance.now());
    const seed = options.seed ?? randomInt(0, 2 ** 47);
    this.coreInstance = options.factory({
      id: options.id,
      peers: options.peers,
      rng: Rng.fromSeed(seed).split(`node:${options.id}`),
      recovered: options.log.recovered(),
    });
  }

  /** The hosted core, for read-only inspection (status) between inputs. */
  get core(): ProtocolCore<M, P, Req, Rep> {
    return this.coreInstance;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /** Number of requests awaiting a reply. */
  get pendingRequests(): number {
    return this.pending.size;
  }

  /** Starts the core, the tick clock and message delivery. */
  start(): void {
    assert(this.state === 'created', `cannot start a runtime that is ${this.state}`);
    this.state = 'running';
    this.clockOriginMs = this.clock();
    this.lastClockMs = this.clockOriginMs;
    this.options.transport.onMessage((from, message) => {
      this.deliver({ type: 'message', from, message });
    });
    this.guard(() => this.handleOutput(this.coreInstance.start()));
    this.tickTimer = setInterval(() => this.catchUpTicks(), this.options.tickIntervalMs);
  }

  /**
   * Submits a client request; resolves with the core's reply once it is safe to release (see class
   * doc). Rejects with `TIMEOUT` past the deadline, `OVERLOADED` when too many are pending,
   * `STOPPED` once the runtime stops. A timed-out request may still take effect.
   */
  request(request: Req, options?: { readonly timeoutMs?: number }): Promise<Rep> {
    if (this.state !== 'running') return Promise.reject(new ConcordError(ErrorCode.Stopped, 'node is not running'));
    if (this.pending.size >= this.options.maxPendingRequests) {
      this.stats.requestsRejected += 1;
      return Promise.reject(new ConcordError(ErrorCode.Overloaded, `more than ${this.options.maxPendingRequests} requests pending`));
    }
    const requestId = this.nextRequestId;
    this.nextRequestId += 1;
    const timeoutMs = options?.timeoutMs ?? this.options.requestTimeoutMs;
    const promise = new Promise<Rep>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(requestId)) {
          this.stats.requestTimeouts += 1;
          reject(new ConcordError(ErrorCode.Timeout, `no reply within ${timeoutMs} ms`));
        }
      }, timeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
    });
    this.catchUpTicks();
    this.deliver({ type: 'request', requestId, request });
    return promise;
  }

  /**
   * Stops: no more inputs, pending requests reject with `STOPPED`, held messages are dropped (as in
   * a crash). Waits for an in-flight sync. Does not close the transport or the log (their owner does).
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.halt(new ConcordError(ErrorCode.Stopped, 'node stopped'));
    if (this.syncInFlight !== null) await this.syncInFlight.catch(() => undefined);
  }

  // ---------------------------------------------------------------- inputs

  private deliver(input: Input<M, Req>): void {
    if (this.state !== 'running') return;
    if (this.stepping) {
      // Re-entrant delivery (a synchronous transport or callback): keep order, step after.
      this.inputQueue.push(input);
      return;
    }
    this.stepping = true;
    try {
      this.guard(() => this.step(input));
      while (this.inputQueue.length > 0 && this.state === 'running') {
        const next = this.inputQueue.shift()!;
        this.guard(() => this.step(next));
      }
    } finally {
      this.stepping = false;
    }
    if (this.state === 'running') {
      // A core that merges sends per turn (`endTurn`) needs the end of this turn even if it sent nothing yet.
      if (this.coreInstance.endTurn !== undefined) this.scheduleFlush();
      this.options.afterInputs?.();
    }
  }

  private step(input: Input<M, Req>): void {
    this.stats.inputs += 1;
    this.handleOutput(this.coreInstance.step(input));
  }

  /** Delivers every tick (and due timer) that the monotonic clock says has passed. */
  private catchUpTicks(): void {
    if (this.state !== 'running') return;
    const nowMs = this.clock();
    if (nowMs < this.lastClockMs) {
      // The source stepped backwards (it should be monotonic): count the step as no time at all.
      // Waiting for it to catch up would stall every tick, and with them a leader's lease and
      // check-quorum expiry — a deposed leader would keep serving lease reads (found by the
      // fault harness; regression test/net/runtime-clock.test.ts).
      this.clockOriginMs -= this.lastClockMs - nowMs;
    }
    this.lastClockMs = nowMs;
    const dueTicks = Math.floor((nowMs - this.clockOriginMs) / this.options.tickIntervalMs);
    let missed = dueTicks - this.ticksElapsed;
    if (missed <= 0) return;
    const maxCatchUp = this.options.maxCatchUpTicks ?? defaultMaxCatchUpTicks;
    if (missed > maxCatchUp) missed = maxCatchUp;
    this.ticksElapsed = dueTicks - missed;
    for (let tick = 0; tick < missed && this.state === 'running'; tick += 1) {
      this.ticksElapsed += 1;
      if (this.coreInstance.tickDriven) this.deliver({ type: 'tick' });
      this.fireDueTimers();
    }
  }

  private fireDueTimers(): void {
    if (this.timers.size === 0) return;
    for (const [timer, dueTick] of [...this.timers]) {
      if (dueTick > this.ticksElapsed || this.timers.get(timer) !== dueTick) continue;
      this.timers.delete(timer);
      this.deliver({ type: 'timer', timer });
    }
  }

  // ---------------------------------------------------------------- outputs

  private handleOutput(output: Output<M, P, Rep>): void {
    if (output.persist.length > 0) {
      this.options.log.append(output.persist);
      const isPrompt = this.options.isPromptRecord;
      for (const record of output.persist) {
        this.appendedRecords += 1;
        if (output.sync || isPrompt === undefined || isPrompt(record)) this.promptRecords = this.appendedRecords;
      }
      this.scheduleFlush();
    }
    const ownNeed = output.sync ? this.appendedRecords : 0;
    if (output.messages.length > 0) this.holdMessages(Math.max(lastNeed(this.heldMessages), ownNeed), output.messages);
    if (output.replies.length > 0) this.holdReplies(Math.max(lastNeed(this.heldReplies), ownNeed), output.replies);
    for (const request of output.timers) {
      if (request.afterTicks === null) this.timers.delete(request.timer);
      else this.timers.set(request.timer, this.ticksElapsed + Math.max(1, request.afterTicks));
    }
  }

  /**
   * Queues output parts behind everything held before them. Messages always leave at the end of
   * the turn (`flush`): every send of a turn then reaches the transport in one synchronous stretch,
   * which writes each peer's frames with one syscall. Replies leave as soon as they may.
   */
  private holdMessages(needDurable: number, messages: readonly Envelope<M>[]): void {
    enqueue(this.heldMessages, needDurable, messages);
    this.scheduleFlush();
  }

  private holdReplies(needDurable: number, replies: readonly ClientReply<Rep>[]): void {
    enqueue(this.heldReplies, needDurable, replies);
    if (needDurable <= this.durableRecords) this.releaseReplies();
    else this.scheduleFlush();
  }

  /** Sends every held message and reply whose records are durable, in order. */
  private release(): void {
    while (this.heldMessages.length > 0 && this.heldMessages[0]!.needDurable <= this.durableRecords) {
      for (const envelope of this.heldMessages.shift()!.items) this.send(envelope);
    }
    this.releaseReplies();
  }

  private releaseReplies(): void {
    while (this.heldReplies.length > 0 && this.heldReplies[0]!.needDurable <= this.durableRecords) {
      for (const reply of this.heldReplies.shift()!.items) this.reply(reply);
    }
  }

  private send(envelope: Envelope<M>): void {
    if (envelope.to === this.id) {
      // A core addressing itself: loop back as a later input, never synchronously.
      setImmediate(() => this.deliver({ type: 'message', from: this.id, message: envelope.message }));
      return;
    }
    this.stats.messagesSent += 1;
    try {
      this.options.transport.send(envelope.to, envelope.message);
    } catch (error) {
      // Unknown destination (e.g. a member removed meanwhile): delivery is best effort.
      if (!(error instanceof ConcordError)) throw error;
    }
  }

  private reply(reply: ClientReply<Rep>): void {
    const pending = this.pending.get(reply.requestId);
    if (pending === undefined) return; // timed out meanwhile: the caller saw TIMEOUT
    this.pending.delete(reply.requestId);
    clearTimeout(pending.timer);
    this.stats.repliesDelivered += 1;
    pending.resolve(reply.reply);
  }

  // ---------------------------------------------------------------- group commit

  private scheduleFlush(): void {
    if (this.flushScheduled || this.state !== 'running') return;
    this.flushScheduled = true;
    setImmediate(() => {
      // Still flagged: what the core sends at the end of its turn leaves with this flush.
      this.endTurn();
      this.flushScheduled = false;
      this.flush();
    });
  }

  private endTurn(): void {
    const core = this.coreInstance;
    if (this.state !== 'running' || core.endTurn === undefined) return;
    this.guard(() => this.handleOutput(core.endTurn!()));
  }

  /** End of an event-loop turn: one sync for everything appended, unless one is in flight. */
  private flush(): void {
    if (this.state !== 'running') return;
    this.fireDueTimers();
    this.release();
    if (this.syncInFlight !== null || this.appendedRecords === this.durableRecords) return;
    if (this.promptRecords > this.durableRecords) {
      this.startSync();
      return;
    }
    // Only lazy records wait: sync them later unless a prompt sync takes them along first.
    if (this.lazyTimer === null) {
      this.lazyTimer = setTimeout(() => {
        this.lazyTimer = null;
        if (this.state === 'running' && this.syncInFlight === null && this.appendedRecords > this.durableRecords) this.startSync();
      }, this.options.lazySyncDelayMs ?? this.options.tickIntervalMs * 10);
    }
  }

  private startSync(): void {
    if (this.lazyTimer !== null) clearTimeout(this.lazyTimer);
    this.lazyTimer = null;
    const throughRecord = this.appendedRecords;
    const startedMs = this.clock();
    this.syncInFlight = this.options.log.sync().then(
      () => this.onSynced(throughRecord, startedMs),
      (error: unknown) => this.fail(error),
    );
  }

  private onSynced(throughRecord: number, startedMs: number): void {
    this.syncInFlight = null;
    if (this.state !== 'running') return;
    const records = throughRecord - this.durableRecords;
    this.durableRecords = throughRecord;
    this.stats.syncs += 1;
    this.stats.recordsPersisted += records;
    this.options.onSync?.({ records, durationMs: this.clock() - startedMs });
    this.release();
    this.deliver({ type: 'persisted', throughRecord });
    if (this.appendedRecords > this.durableRecords || this.heldMessages.length > 0 || this.heldReplies.length > 0) {
      this.scheduleFlush();
    }
  }

  // ---------------------------------------------------------------- failure

  private guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.fail(error);
    }
  }

  /** Fail-stop: a broken invariant or a storage failure ends this incarnation. */
  private fail(error: unknown): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.halt(new ConcordError(ErrorCode.Internal, `node halted: ${error instanceof Error ? error.message : String(error)}`));
    this.options.onFatal?.(error);
  }

  private halt(reason: ConcordError): void {
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    this.tickTimer = null;
    if (this.lazyTimer !== null) clearTimeout(this.lazyTimer);
    this.lazyTimer = null;
    this.heldMessages.length = 0;
    this.heldReplies.length = 0;
    this.inputQueue.length = 0;
    this.timers.clear();
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(reason);
    }
    this.pending.clear();
  }
}
