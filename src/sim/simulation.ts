import type { Envelope } from '../core/envelope.js';
import { assert, ConcordError, ErrorCode, assertNever } from '../core/errors.js';
import type { NodeId, RequestId } from '../core/ids.js';
import type { CoreContext, Input, Output, ProtocolCore } from '../core/protocol.js';
import { Rng } from '../core/rng.js';
import { MemoryDurableLog, type DurableLogView } from '../core/storage.js';
import type { Adversary } from './adversary.js';
import { EventQueue } from './event-queue.js';
import { DropReason, Network } from './network.js';
import { newStats, type SimStats } from './stats.js';
import type { TimingModel } from './timing.js';
import { Topology } from './topology.js';
import { structuralHash, TraceHash } from './trace-hash.js';

/**
 * The deterministic simulation kernel: virtual time (integer microseconds), one event queue, one
 * root seed, and a set of nodes each hosting one protocol core. It delivers the core's inputs —
 * `start`, `message`, `tick`, `timer`, `request`, `persisted` — and carries out each `Output` in
 * contract order: persist (and, when `sync`, wait a simulated fsync before anything else), send,
 * reply, arm timers.
 *
 * Sub-seeds: `network`, `faults` (omission draws), `adversary`, `node:<id>` (each incarnation's core
 * gets `node:<id>` → `incarnation:<k>`); the scenario layer adds `workload` and `nemesis`.
 *
 * Faults are methods (`crash`, `restart`, `pause`, `resume`, omission, slowness, drift,
 * Byzantine) plus the `network`'s partitions and link faults; the nemesis calls them on schedule.
 * Checkers read node state through `core(id)`, `disk(id)`, `status(id)` after every event
 * (`afterEvent`).
 */

/** Event kinds in the queue. */
const enum Kind {
  Message = 0,
  Tick = 1,
  Timer = 2,
  Request = 3,
  Fsync = 4,
  SyncDone = 5,
  Callback = 6,
  Reply = 7,
  /** A message that already reached the node's host (re-queued while busy or paused). */
  BufferedMessage = 8,
}

export type NodeStatus = 'up' | 'down' | 'paused';

export interface SimulationOptions<C extends ProtocolCore<M, P, Req, Rep>, M, P, Req, Rep> {
  readonly seed: number;
  readonly nodes: readonly NodeId[];
  readonly factory: (context: CoreContext<P>) => C;
  readonly timing: TimingModel;
  /** Which links exist (default: full mesh). */
  readonly topology?: Topology;
  /** Real duration of one tick on a node without drift (default 10 ms). */
  readonly tickIntervalMs?: number;
  /** Simulated fsync latency for both sync outputs and lazy syncs (default 1000 µs; 0 = instant). */
  readonly fsyncLatencyUs?: number;
  /** On crash, keep a random prefix of unsynced records (a disk that flushed some on its own). */
  readonly crashKeepsUnsyncedPrefix?: boolean;
  /** Marks checkpoint records for log compaction (see `MemoryDurableLog`). */
  readonly isCheckpoint?: (record: P) => boolean;
  /** One-way latency between a client and a node, both directions (default 200 µs). */
  readonly clientLatencyUs?: number;
  /** Content hashes for the trace hash (default `structuralHash`). */
  readonly hashMessage?: (message: M) => number;
  readonly hashRequest?: (request: Req) => number;
  readonly hashReply?: (reply: Rep) => number;
  /** Bound of a paused node's inbox; beyond it new events are dropped (counted as `pausedOverflow`). */
  readonly pausedInboxMax?: number;
}

/** One processed event, as shown to a tracer (only built when a tracer is installed). */
export interface TraceRecord {
  readonly timeUs: number;
  readonly kind: 'message' | 'tick' | 'timer' | 'request' | 'persisted' | 'sync-done' | 'control' | 'reply' | 'drop' | 'send' | 'fault';
  readonly node: NodeId | null;
  readonly from?: NodeId;
  readonly sentUs?: number;
  readonly detail?: unknown;
}

interface Deferred {
  readonly kind: Kind;
  readonly aux: number;
  readonly aux2: number;
  readonly payload: unknown;
}

class SimNode<C, P> {
  core: C | null = null;
  status: NodeStatus = 'down';
  incarnation = 0;
  timerGeneration = 0;
  readonly timers = new Map<string, number>();
  busyUntilUs = 0;
  fsyncPending = false;
  recordsThisIncarnation = 0;
  inbox: Deferred[] = [];
  sendOmissionRatio = 0;
  receiveOmissionRatio = 0;
  slowUs = 0;
  clockDriftRatio = 0;
  tickPeriodUs: number;
  adversary: Adversary<unknown> | null = null;
  readonly hostRng: Rng;

  constructor(
    readonly id: NodeId,
    readonly index: number,
    readonly disk: MemoryDurableLog<P>,
    readonly rng: Rng,
    tickIntervalUs: number,
  ) {
    this.tickPeriodUs = tickIntervalUs;
    this.hostRng = rng.split('host');
  }
}

export class Simulation<C extends ProtocolCore<M, P, Req, Rep>, M, P, Req, Rep> {
  readonly seed: number;
  readonly rng: Rng;
  readonly network: Network;
  readonly nodeIds: readonly NodeId[];
  readonly stats: SimStats = newStats();
  readonly tickIntervalUs: number;
  readonly fsyncLatencyUs: number;
  readonly clientLatencyUs: number;

  /** Called after every processed event (checkers); set by the scenario runner. */
  afterEvent: (() => void) | null = null;
  /** Receives every client reply: node, request id, reply. */
  onReply: ((node: NodeId, requestId: RequestId, reply: Rep) => void) | null = null;
  /** Debug tracer; costs nothing when null. */
  tracer: ((record: TraceRecord) => void) | null = null;
  /**
   * Index of the node the last processed event was addressed to, or -1 for a control callback
   * (which may change any node: a crash, a restart). Lets checkers re-examine only that node.
   */
  lastEventNode = -1;

  private readonly queue = new EventQueue(4096);
  private readonly nodes: SimNode<C, P>[];
  private readonly indexOf = new Map<NodeId, number>();
  private readonly trace = new TraceHash();
  private readonly faultRng: Rng;
  private readonly adversaryRng: Rng;
  private readonly hashMessage: (message: M) => number;
  private readonly hashRequest: (request: Req) => number;
  private readonly hashReply: (reply: Rep) => number;
  private readonly factory: (context: CoreContext<P>) => C;
  private readonly keepUnsyncedPrefix: boolean;
  private readonly pausedInboxMax: number;
  private nowUs = 0;
  private nextRequestId = 1;
  private stopped = false;

  constructor(options: SimulationOptions<C, M, P, Req, Rep>) {
    const ids = options.nodes;
    if (ids.length < 1 || new Set(ids).size !== ids.length) {
      throw new ConcordError(ErrorCode.InvalidConfig, 'a simulation needs at least one node and unique node ids');
    }
    this.seed = options.seed;
    this.rng = Rng.fromSeed(options.seed);
    this.nodeIds = ids.slice();
    this.tickIntervalUs = Math.round((options.tickIntervalMs ?? 10) * 1000);
    this.fsyncLatencyUs = options.fsyncLatencyUs ?? 1000;
    this.clientLatencyUs = options.clientLatencyUs ?? 200;
    assert(this.tickIntervalUs >= 1 && this.fsyncLatencyUs >= 0 && this.clientLatencyUs >= 0, 'simulation latencies out of range');
    const topology = options.topology ?? Topology.build('full', ids);
    assert(topology.size === ids.length, 'topology size does not match the node count');
    this.network = new Network(topology, options.timing, this.rng.split('network'));
    this.faultRng = this.rng.split('faults');
    this.adversaryRng = this.rng.split('adversary');
    this.hashMessage = options.hashMessage ?? structuralHash;
    this.hashRequest = options.hashRequest ?? structuralHash;
    this.hashReply = options.hashReply ?? structuralHash;
    this.factory = options.factory;
    this.keepUnsyncedPrefix = options.crashKeepsUnsyncedPrefix ?? false;
    this.pausedInboxMax = options.pausedInboxMax ?? 100_000;
    this.nodes = ids.map((id, index) => {
      this.indexOf.set(id, index);
      return new SimNode<C, P>(id, index, new MemoryDurableLog<P>(options.isCheckpoint), this.rng.split(`node:${id}`), this.tickIntervalUs);
    });
  }

  // ── time and control ──────────────────────────────────────────────────────────────────────

  /** Current virtual time in microseconds. */
  get now(): number {
    return this.nowUs;
  }

  /** The running trace hash (16 hex digits). */
  traceHash(): string {
    return this.trace.hex();
  }

  /** Starts every node (time 0 unless called later). */
  startAll(): void {
    for (const node of this.nodes) this.startNode(node);
  }

  /** Runs `action` at virtual time `timeUs` (≥ now), ordered with every other event. */
  at(timeUs: number, action: () => void): void {
    assert(timeUs >= this.nowUs, () => `cannot schedule in the past (${timeUs} < ${this.nowUs})`);
    this.queue.push(timeUs, Kind.Callback, -1, 0, 0, action);
  }

  after(delayUs: number, action: () => void): void {
    this.at(this.nowUs + delayUs, action);
  }

  /** Stops `run` after the current event (e.g. at the first safety violation). */
  stop(): void {
    this.stopped = true;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Processes events up to and including `untilUs`, then sets the clock to `untilUs`. */
  run(untilUs: number): void {
    const queue = this.queue;
    while (!this.stopped && queue.size > 0 && queue.peekTime() <= untilUs) this.step();
    if (!this.stopped && untilUs > this.nowUs) this.nowUs = untilUs;
  }

  /** Runs until `condition()` holds (checked after each event) or `untilUs`; true if it held. */
  runUntil(condition: () => boolean, untilUs: number): boolean {
    if (condition()) return true;
    const queue = this.queue;
    while (!this.stopped && queue.size > 0 && queue.peekTime() <= untilUs) {
      this.step();
      if (condition()) return true;
    }
    if (!this.stopped && untilUs > this.nowUs) this.nowUs = untilUs;
    return false;
  }

  /** Pending events. */
  get pendingEvents(): number {
    return this.queue.size;
  }

  // ── node state for checkers ───────────────────────────────────────────────────────────────

  /** The node's current core, or null while it is down. */
  core(id: NodeId): C | null {
    return this.node(id).core;
  }

  /** The node's disk (records written and synced; survives crashes). */
  disk(id: NodeId): DurableLogView<P> {
    return this.node(id).disk;
  }

  status(id: NodeId): NodeStatus {
    return this.node(id).status;
  }

  /** Incarnation counter: 1 after the first start, +1 per restart. */
  incarnation(id: NodeId): number {
    return this.node(id).incarnation;
  }

  isByzantine(id: NodeId): boolean {
    return this.node(id).adversary !== null;
  }

  /** The node's tick period after clock drift (µs). */
  tickPeriodUs(id: NodeId): number {
    return this.node(id).tickPeriodUs;
  }

  nodeIndex(id: NodeId): number {
    const index = this.indexOf.get(id);
    if (index === undefined) throw new ConcordError(ErrorCode.UnknownNode, `unknown node ${id}`);
    return index;
  }

  private node(id: NodeId): SimNode<C, P> {
    return this.nodes[this.nodeIndex(id)]!;
  }

  // ── clients ───────────────────────────────────────────────────────────────────────────────

  /**
   * A client sends `request` to node `id`; it arrives after the client latency. Returns the
   * request id its reply will carry (to `onReply`). A request to a down node is lost.
   */
  request(id: NodeId, request: Req): RequestId {
    const requestId = this.nextRequestId++;
    this.queue.push(this.nowUs + this.clientLatencyUs, Kind.Request, this.nodeIndex(id), 0, requestId, request);
    return requestId;
  }

  // ── faults ────────────────────────────────────────────────────────────────────────────────

  /** Crash: the core and its timers vanish, unsynced records are lost (or a prefix kept). */
  crash(id: NodeId): void {
    const node = this.node(id);
    if (node.status === 'down') return;
    const unsynced = node.disk.writtenCount - node.disk.syncedRecordCount;
    const keep = this.keepUnsyncedPrefix && unsynced > 0 ? node.hostRng.int(0, unsynced) : 0;
    node.disk.crash(keep);
    node.core = null;
    node.status = 'down';
    node.timers.clear();
    node.inbox = [];
    node.busyUntilUs = 0;
    node.fsyncPending = false;
    this.stats.crashes += 1;
    this.traceEvent(8, node.index, keep, 0);
  }

  /** Restart a crashed node from its durable records (`CoreContext.recovered`). */
  restart(id: NodeId): void {
    const node = this.node(id);
    if (node.status !== 'down') return;
    this.stats.restarts += 1;
    this.startNode(node);
  }

  /** Pause (like SIGSTOP): the node processes nothing; its inputs wait (bounded) until `resume`. */
  pause(id: NodeId): void {
    const node = this.node(id);
    if (node.status !== 'up') return;
    node.status = 'paused';
    this.stats.pauses += 1;
    this.traceEvent(9, node.index, 0, 0);
  }

  resume(id: NodeId): void {
    const node = this.node(id);
    if (node.status !== 'paused') return;
    node.status = 'up';
    const inbox = node.inbox;
    node.inbox = [];
    for (const event of inbox) this.queue.push(this.nowUs, event.kind, node.index, event.aux, event.aux2, event.payload);
    this.traceEvent(10, node.index, inbox.length, 0);
  }

  /** Send omission: each message the node sends is lost with this probability. */
  setSendOmission(id: NodeId, ratio: number): void {
    assert(ratio >= 0 && ratio <= 1, 'omission ratio outside [0, 1]');
    this.node(id).sendOmissionRatio = ratio;
  }

  /** Receive omission: each message delivered to the node is lost with this probability. */
  setReceiveOmission(id: NodeId, ratio: number): void {
    assert(ratio >= 0 && ratio <= 1, 'omission ratio outside [0, 1]');
    this.node(id).receiveOmissionRatio = ratio;
  }

  /** Timing fault: every input costs the node `extraUs` of processing (outputs leave that late). */
  setSlow(id: NodeId, extraUs: number): void {
    assert(Number.isInteger(extraUs) && extraUs >= 0, 'slowness must be a non-negative integer of µs');
    this.node(id).slowUs = extraUs;
  }

  /** Clock drift: the node's ticks last `tickInterval × (1 + ratio)` (ratio > -1). */
  setClockDrift(id: NodeId, ratio: number): void {
    assert(ratio > -1 && ratio < 10, 'clock drift ratio out of range');
    const node = this.node(id);
    node.clockDriftRatio = ratio;
    node.tickPeriodUs = Math.max(1, Math.round(this.tickIntervalUs * (1 + ratio)));
  }

  /** The node's current slowness (µs of processing added to every input; 0 = timely). */
  slowness(id: NodeId): number {
    return this.node(id).slowUs;
  }

  clockDrift(id: NodeId): number {
    return this.node(id).clockDriftRatio;
  }

  /** Makes the node Byzantine (its outputs pass through `adversary`), or honest again with null. */
  setByzantine(id: NodeId, adversary: Adversary<M> | null): void {
    this.node(id).adversary = adversary as Adversary<unknown> | null;
  }

  // ── the event loop ────────────────────────────────────────────────────────────────────────

  /** Processes the earliest event. Returns false when the queue is empty. */
  step(): boolean {
    const queue = this.queue;
    const slot = queue.pop();
    if (slot < 0) return false;
    const time = queue.time[slot]!;
    const kind = queue.kind[slot]! as Kind;
    const nodeIndex = queue.node[slot]!;
    const aux = queue.aux[slot]!;
    const aux2 = queue.aux2[slot]!;
    const payload = queue.payload[slot];
    queue.release(slot);
    this.nowUs = time;
    this.stats.events += 1;
    this.lastEventNode = kind === Kind.Callback ? -1 : nodeIndex;
    if (kind === Kind.Callback) {
      this.trace.add(time);
      this.trace.add(Kind.Callback);
      if (this.tracer !== null) this.tracer({ timeUs: time, kind: 'control', node: null });
      (payload as () => void)();
    } else if (kind === Kind.Reply) {
      this.deliverReply(nodeIndex, aux2, payload as Rep);
    } else {
      this.dispatch(kind, this.nodes[nodeIndex]!, aux, aux2, payload);
    }
    if (this.afterEvent !== null) this.afterEvent();
    return true;
  }

  private dispatch(eventKind: Kind, node: SimNode<C, P>, aux: number, aux2: number, payload: unknown): void {
    let kind = eventKind;
    if (kind === Kind.Message) {
      // A link cut while the message was in flight loses it.
      if (!this.network.isOpen(aux, node.index)) {
        this.stats.drops.partition += 1;
        this.traceEvent(13, node.index, aux, 0);
        return;
      }
      kind = Kind.BufferedMessage;
    } else if (kind !== Kind.Request && kind !== Kind.BufferedMessage && aux2 !== node.incarnation) {
      return; // a stale tick, timer or sync of an earlier incarnation
    }
    if (node.status !== 'up') {
      this.blockedEvent(kind, node, aux, aux2, payload);
      return;
    }
    if (node.busyUntilUs > this.nowUs && kind !== Kind.SyncDone) {
      this.queue.push(node.busyUntilUs, kind, node.index, aux, aux2, payload);
      return;
    }
    switch (kind) {
      case Kind.BufferedMessage:
        this.deliverMessage(node, aux, aux2, payload as M);
        return;
      case Kind.Tick:
        this.deliverTick(node);
        return;
      case Kind.Timer:
        this.deliverTimer(node, aux, payload as string);
        return;
      case Kind.Request:
        this.deliverRequest(node, aux2, payload as Req);
        return;
      case Kind.Fsync:
        this.deliverFsync(node);
        return;
      case Kind.SyncDone:
        this.finishSync(node, payload as Output<M, P, Rep>);
        return;
      case Kind.Callback:
      case Kind.Reply:
        return;
      default:
        assertNever(kind, 'event kind');
    }
  }

  /** An event for a node that is down or paused. */
  private blockedEvent(kind: Kind, node: SimNode<C, P>, aux: number, aux2: number, payload: unknown): void {
    if (node.status === 'down') {
      if (kind === Kind.BufferedMessage) {
        this.stats.drops.nodeDown += 1;
        this.traceEvent(11, node.index, aux, 0);
      } else if (kind === Kind.Request) {
        this.stats.requestsLost += 1;
      }
      return;
    }
    if (kind === Kind.Tick) {
      // A stopped process misses its ticks; keep the tick chain alive.
      this.queue.push(this.nowUs + node.tickPeriodUs, Kind.Tick, node.index, 0, node.incarnation, null);
      return;
    }
    if (node.inbox.length >= this.pausedInboxMax) {
      this.stats.drops.pausedOverflow += 1;
      return;
    }
    node.inbox.push({ kind, aux, aux2, payload });
  }

  private deliverMessage(node: SimNode<C, P>, from: number, sentUs: number, message: M): void {
    if (node.receiveOmissionRatio > 0 && this.faultRng.next() < node.receiveOmissionRatio) {
      this.stats.drops.receiveOmission += 1;
      this.traceEvent(12, node.index, from, 0);
      return;
    }
    this.stats.deliveries += 1;
    const trace = this.trace;
    trace.add(this.nowUs);
    trace.add((node.index << 16) | from);
    trace.add(this.hashMessage(message));
    if (this.tracer !== null) {
      this.tracer({ timeUs: this.nowUs, kind: 'message', node: node.id, from: this.nodeIds[from]!, sentUs, detail: message });
    }
    const output = node.core!.step({ type: 'message', from: this.nodeIds[from]!, message });
    this.handleOutput(node, output);
  }

  private deliverTick(node: SimNode<C, P>): void {
    this.queue.push(this.nowUs + node.tickPeriodUs, Kind.Tick, node.index, 0, node.incarnation, null);
    this.stats.ticks += 1;
    this.trace.add(this.nowUs);
    this.trace.add((1 << 24) | node.index);
    if (this.tracer !== null) this.tracer({ timeUs: this.nowUs, kind: 'tick', node: node.id });
    this.handleOutput(node, node.core!.step(tickInput));
  }

  private deliverTimer(node: SimNode<C, P>, generation: number, timer: string): void {
    if (node.timers.get(timer) !== generation) return;
    node.timers.delete(timer);
    this.stats.timers += 1;
    this.trace.add(this.nowUs);
    this.trace.add((2 << 24) | node.index);
    this.trace.add(generation);
    if (this.tracer !== null) this.tracer({ timeUs: this.nowUs, kind: 'timer', node: node.id, detail: timer });
    this.handleOutput(node, node.core!.step({ type: 'timer', timer }));
  }

  private deliverRequest(node: SimNode<C, P>, requestId: number, request: Req): void {
    this.stats.requests += 1;
    this.trace.add(this.nowUs);
    this.trace.add((3 << 24) | node.index);
    this.trace.add(requestId);
    this.trace.add(this.hashRequest(request));
    if (this.tracer !== null) this.tracer({ timeUs: this.nowUs, kind: 'request', node: node.id, detail: request });
    this.handleOutput(node, node.core!.step({ type: 'request', requestId, request }));
  }

  private deliverFsync(node: SimNode<C, P>): void {
    node.fsyncPending = false;
    node.disk.sync();
    this.stats.syncs += 1;
    const throughRecord = node.recordsThisIncarnation;
    this.trace.add(this.nowUs);
    this.trace.add((4 << 24) | node.index);
    this.trace.add(throughRecord);
    if (this.tracer !== null) this.tracer({ timeUs: this.nowUs, kind: 'persisted', node: node.id, detail: throughRecord });
    const input: Input<M, Req> = { type: 'persisted', throughRecord };
    this.handleOutput(node, node.core!.step(input));
  }

  private deliverReply(nodeIndex: number, requestId: number, reply: Rep): void {
    this.stats.replies += 1;
    this.trace.add(this.nowUs);
    this.trace.add((7 << 24) | nodeIndex);
    this.trace.add(requestId);
    this.trace.add(this.hashReply(reply));
    if (this.tracer !== null) this.tracer({ timeUs: this.nowUs, kind: 'reply', node: this.nodeIds[nodeIndex]!, detail: { requestId, reply } });
    if (this.onReply !== null) this.onReply(this.nodeIds[nodeIndex]!, requestId, reply);
  }

  // ── carrying out outputs ──────────────────────────────────────────────────────────────────

  private startNode(node: SimNode<C, P>): void {
    assert(node.status === 'down', () => `node ${node.id} is already running`);
    node.incarnation += 1;
    node.status = 'up';
    node.recordsThisIncarnation = 0;
    node.busyUntilUs = 0;
    node.timers.clear();
    const context: CoreContext<P> = {
      id: node.id,
      peers: this.nodeIds,
      rng: node.rng.split(`incarnation:${node.incarnation}`),
      recovered: node.disk.synced(),
    };
    const core = this.factory(context);
    assert(core.id === node.id, () => `factory built a core with id ${core.id} for node ${node.id}`);
    node.core = core;
    this.trace.add(this.nowUs);
    this.trace.add((5 << 24) | node.index);
    this.trace.add(node.incarnation);
    if (this.tracer !== null) this.tracer({ timeUs: this.nowUs, kind: 'fault', node: node.id, detail: { event: 'start', incarnation: node.incarnation } });
    if (core.tickDriven) {
      // A random phase so that nodes' ticks do not fall in lockstep.
      const phase = 1 + node.hostRng.int(0, node.tickPeriodUs - 1);
      this.queue.push(this.nowUs + phase, Kind.Tick, node.index, 0, node.incarnation, null);
    }
    this.handleOutput(node, core.start());
  }

  private handleOutput(node: SimNode<C, P>, output: Output<M, P, Rep>): void {
    const persist = output.persist;
    if (persist.length > 0) {
      const disk = node.disk;
      for (let index = 0; index < persist.length; index += 1) disk.append(persist[index]!);
      node.recordsThisIncarnation += persist.length;
      this.stats.recordsPersisted += persist.length;
      if (output.sync) {
        if (this.fsyncLatencyUs > 0) {
          // Nothing of this output leaves before the fsync completes; the node is busy meanwhile.
          node.busyUntilUs = this.nowUs + this.fsyncLatencyUs;
          this.queue.push(node.busyUntilUs, Kind.SyncDone, node.index, 0, node.incarnation, output);
          return;
        }
        disk.sync();
        this.stats.syncs += 1;
      } else if (!node.fsyncPending) {
        node.fsyncPending = true;
        this.queue.push(this.nowUs + this.fsyncLatencyUs, Kind.Fsync, node.index, 0, node.incarnation, null);
      }
    }
    this.emitEffects(node, output);
  }

  private finishSync(node: SimNode<C, P>, output: Output<M, P, Rep>): void {
    node.disk.sync();
    this.stats.syncs += 1;
    this.trace.add(this.nowUs);
    this.trace.add((6 << 24) | node.index);
    if (this.tracer !== null) this.tracer({ timeUs: this.nowUs, kind: 'sync-done', node: node.id });
    this.emitEffects(node, output);
  }

  /** Send, reply, arm timers — after persistence is done. Slow nodes emit `slowUs` late. */
  private emitEffects(node: SimNode<C, P>, output: Output<M, P, Rep>): void {
    const departUs = this.nowUs + node.slowUs;
    if (node.slowUs > 0) node.busyUntilUs = Math.max(node.busyUntilUs, departUs);
    const messages = output.messages;
    for (let index = 0; index < messages.length; index += 1) {
      const envelope = messages[index]!;
      if (node.adversary === null) this.send(node, envelope.to, envelope.message, departUs);
      else this.sendByzantine(node, envelope, departUs);
    }
    const replies = output.replies;
    for (let index = 0; index < replies.length; index += 1) {
      const reply = replies[index]!;
      this.queue.push(departUs + this.clientLatencyUs, Kind.Reply, node.index, 0, reply.requestId, reply.reply);
    }
    const timers = output.timers;
    for (let index = 0; index < timers.length; index += 1) {
      const timer = timers[index]!;
      if (timer.afterTicks === null) {
        node.timers.delete(timer.timer);
        continue;
      }
      assert(Number.isInteger(timer.afterTicks) && timer.afterTicks >= 0, () => `timer ${timer.timer}: bad afterTicks ${timer.afterTicks}`);
      const generation = ++node.timerGeneration;
      node.timers.set(timer.timer, generation);
      const fireUs = this.nowUs + Math.max(1, timer.afterTicks * node.tickPeriodUs);
      this.queue.push(fireUs, Kind.Timer, node.index, generation, node.incarnation, timer.timer);
    }
  }

  private send(node: SimNode<C, P>, to: NodeId, message: M, departUs: number): void {
    const toIndex = this.indexOf.get(to);
    if (toIndex === undefined) throw new ConcordError(ErrorCode.UnknownNode, `node ${node.id} sent to unknown node ${to}`);
    const stats = this.stats;
    stats.sent += 1;
    if (node.sendOmissionRatio > 0 && this.faultRng.next() < node.sendOmissionRatio) {
      stats.drops.sendOmission += 1;
      if (this.tracer !== null) this.traceSend(node, to, message, departUs, 'send-omission');
      return;
    }
    const network = this.network;
    const deliveryUs = network.route(node.index, toIndex, departUs);
    if (deliveryUs < 0) {
      if (deliveryUs === -DropReason.Loss) stats.drops.loss += 1;
      else if (deliveryUs === -DropReason.Partition) stats.drops.partition += 1;
      else stats.drops.noLink += 1;
      if (this.tracer !== null) this.traceSend(node, to, message, departUs, dropReasonNames[-deliveryUs]!);
      return;
    }
    this.queue.push(deliveryUs, Kind.Message, toIndex, node.index, departUs, message);
    const duplicateUs = network.routeDuplicate(node.index, toIndex, departUs);
    if (duplicateUs >= 0) {
      stats.duplicates += 1;
      this.queue.push(duplicateUs, Kind.Message, toIndex, node.index, departUs, message);
    }
    if (this.tracer !== null) this.traceSend(node, to, message, departUs, { deliveryUs, duplicateUs: duplicateUs >= 0 ? duplicateUs : null });
  }

  private traceSend(node: SimNode<C, P>, to: NodeId, message: M, departUs: number, outcome: unknown): void {
    this.tracer!({ timeUs: this.nowUs, kind: 'send', node: to, from: node.id, sentUs: departUs, detail: { message, outcome } });
  }

  private sendByzantine(node: SimNode<C, P>, envelope: Envelope<M>, departUs: number): void {
    const context = { rng: this.adversaryRng, nowUs: this.nowUs, nodes: this.nodeIds };
    const result = node.adversary!.intercept(envelope, context) as Envelope<M> | readonly Envelope<M>[] | null;
    if (result === null) {
      this.stats.drops.byzantine += 1;
      return;
    }
    const list = Array.isArray(result) ? (result as readonly Envelope<M>[]) : [result as Envelope<M>];
    for (const altered of list) {
      if (altered !== envelope) this.stats.byzantineAltered += 1;
      this.send(node, altered.to, altered.message, departUs);
    }
  }

  /** Mixes a fault or drop event into the trace (codes ≥ 8 are host events). */
  private traceEvent(code: number, nodeIndex: number, a: number, b: number): void {
    this.trace.add(this.nowUs);
    this.trace.add((code << 24) | nodeIndex);
    this.trace.add(a);
    this.trace.add(b);
    if (this.tracer === null) return;
    const node = this.nodeIds[nodeIndex]!;
    if (code >= 11) this.tracer({ timeUs: this.nowUs, kind: 'drop', node, from: this.nodeIds[a]!, detail: hostEventNames[code] });
    else this.tracer({ timeUs: this.nowUs, kind: 'fault', node, detail: { event: hostEventNames[code], count: a } });
  }
}

const dropReasonNames: Record<number, string> = { [DropReason.NoLink]: 'no-link', [DropReason.Partition]: 'partition', [DropReason.Loss]: 'loss' };
const tickInput: Input<never, never> = Object.freeze({ type: 'tick' });
const hostEventNames: Record<number, string> = {
  8: 'crash',
  9: 'pause',
  10: 'resume',
  11: 'node-down',
  12: 'receive-omission',
  13: 'partition',
};
