import type { Envelope } from '../../../../src/core/envelope.js';
import type { NodeId, RequestId } from '../../../../src/core/ids.js';
import type { Input, Output } from '../../../../src/core/protocol.js';
import { Rng } from '../../../../src/core/rng.js';
import { MemoryDurableLog } from '../../../../src/core/storage.js';
import { resolveRaftConfig, type RaftConfig } from '../../../../src/protocols/raft/config.js';
import { describeMessage, describeRecord, describeReply } from '../../../../src/protocols/raft/describe.js';
import { KvStateMachine, type KvCommand, type KvQuery, type KvTypes } from '../../../../src/protocols/raft/kv.js';
import { RaftCore } from '../../../../src/protocols/raft/raft.js';
import {
  isRaftCheckpoint,
  type ClientSession,
  type LogEntry,
  type MembershipChange,
  type RaftMessage,
  type RaftRecord,
  type RaftReply,
  type RaftRequest,
} from '../../../../src/protocols/raft/types.js';
import { SafetyMonitor } from './monitor.js';

type Message = RaftMessage<KvCommand>;
type Record = RaftRecord<KvCommand>;
type KvOutput = Output<Message, Record, RaftReply<KvTypes>>;

export type KvRaftConfig = RaftConfig<KvTypes>;
export type KvRaftOptions = Partial<KvRaftConfig>;

interface Node {
  readonly id: NodeId;
  core: RaftCore<KvTypes> | null;
  disk: MemoryDurableLog<Record>;
  incarnation: number;
  /** Records emitted by this incarnation, and how many of them are synced / announced as persisted. */
  recordsEmitted: number;
  recordsSynced: number;
  recordsAnnounced: number;
  /** When true, lazily written records stay unsynced (and unannounced) until `sync`. */
  holdSync: boolean;
  readonly joinExisting: boolean;
}

/**
 * A deterministic in-test network of Raft cores: no timers, no randomness beyond the seeded
 * per-node Rng. Messages wait in one FIFO queue until a test delivers, drops or reorders them;
 * durable records go to a `MemoryDurableLog` per node with crash semantics from `storage.ts`.
 * Output of every step is appended to `trace` in canonical text (for scripted tests).
 */
export class RaftNetwork {
  readonly nodes = new Map<NodeId, Node>();
  queue: Envelope<Message>[] = [];
  /** Directed links that drop messages ("a->b"). */
  readonly cuts = new Set<string>();
  readonly trace: string[] = [];
  readonly replies = new Map<RequestId, RaftReply<KvTypes>>();
  readonly monitor = new SafetyMonitor();
  traceRecords = false;
  private nextRequestId = 1;
  private readonly config: KvRaftConfig;

  constructor(
    readonly founders: readonly NodeId[],
    options: KvRaftOptions = {},
    private readonly seed = 1,
  ) {
    this.config = resolveRaftConfig<KvTypes>({ stateMachine: () => new KvStateMachine(), ...options });
    for (const id of founders) this.addNode(id, false);
  }

  /** Adds a node; `joinExisting` nodes start empty and wait to be added by a membership change. */
  addNode(id: NodeId, joinExisting: boolean): void {
    const node: Node = {
      id,
      core: null,
      disk: new MemoryDurableLog<Record>(isRaftCheckpoint),
      incarnation: 0,
      recordsEmitted: 0,
      recordsSynced: 0,
      recordsAnnounced: 0,
      holdSync: false,
      joinExisting,
    };
    this.nodes.set(id, node);
    this.boot(node, []);
  }

  core(id: NodeId): RaftCore<KvTypes> {
    const core = this.node(id).core;
    if (core === null) throw new Error(`${id} is down`);
    return core;
  }

  isUp(id: NodeId): boolean {
    return this.node(id).core !== null;
  }

  /** Ids of the nodes that are up, in a stable order. */
  upIds(): NodeId[] {
    return [...this.nodes.values()].filter((node) => node.core !== null).map((node) => node.id);
  }

  // ------------------------------------------------------------------ inputs

  step(id: NodeId, input: Input<Message, RaftRequest<KvTypes>>): void {
    const node = this.node(id);
    if (node.core === null) return;
    this.absorb(node, node.core.step(input));
  }

  /** The end of a host turn (`RaftCore.endTurn`, present with `forwardPerTurn`): sends what the core merges per turn. */
  endTurn(id: NodeId): void {
    const node = this.node(id);
    if (node.core?.endTurn === undefined) return;
    this.absorb(node, node.core.endTurn());
  }

  tick(id: NodeId, count = 1): void {
    for (let tick = 0; tick < count; tick += 1) this.step(id, { type: 'tick' });
  }

  request(id: NodeId, request: RaftRequest<KvTypes>): RequestId {
    const requestId = this.nextRequestId;
    this.nextRequestId += 1;
    this.step(id, { type: 'request', requestId, request });
    return requestId;
  }

  propose(id: NodeId, command: KvCommand, session?: ClientSession): RequestId {
    return this.request(id, session === undefined ? { type: 'propose', command } : { type: 'propose', command, session });
  }

  read(id: NodeId, query: KvQuery, consistency: 'linearizable' | 'serializable' = 'linearizable'): RequestId {
    return this.request(id, { type: 'read', query, consistency });
  }

  changeMembership(id: NodeId, change: MembershipChange): RequestId {
    return this.request(id, { type: 'changeMembership', change });
  }

  // ------------------------------------------------------------------ the network

  /** Delivers the messages queued now that match the filter (new messages wait for the next call). Returns how many. */
  deliver(filter: { from?: NodeId; to?: NodeId; limit?: number } = {}): number {
    const batch: Envelope<Message>[] = [];
    const rest: Envelope<Message>[] = [];
    for (const envelope of this.queue) {
      const matches = (filter.from === undefined || envelope.from === filter.from) && (filter.to === undefined || envelope.to === filter.to);
      if (matches && (filter.limit === undefined || batch.length < filter.limit)) batch.push(envelope);
      else rest.push(envelope);
    }
    this.queue = rest;
    for (const envelope of batch) this.deliverOne(envelope);
    return batch.length;
  }

  /** Delivers the queued message at `position` (reordering). */
  deliverAt(position: number): void {
    const [envelope] = this.queue.splice(position, 1);
    if (envelope !== undefined) this.deliverOne(envelope);
  }

  /** Delivers a copy of the queued message at `position`, leaving it queued (duplication). */
  duplicateAt(position: number): void {
    const envelope = this.queue[position];
    if (envelope !== undefined) this.deliverOne(envelope);
  }

  /** Drops the queued message at `position` (loss). */
  dropAt(position: number): void {
    this.queue.splice(position, 1);
  }

  /** Drops queued messages that match (all when no filter). Returns how many. */
  drop(filter: { from?: NodeId; to?: NodeId; type?: string } = {}): number {
    const before = this.queue.length;
    this.queue = this.queue.filter(
      (envelope) =>
        !(
          (filter.from === undefined || envelope.from === filter.from) &&
          (filter.to === undefined || envelope.to === filter.to) &&
          (filter.type === undefined || envelope.message.type === filter.type)
        ),
    );
    const dropped = before - this.queue.length;
    if (dropped > 0) this.trace.push(`dropped ${dropped} message(s)`);
    return dropped;
  }

  /** Cuts every link between the groups (both directions). */
  partition(...groups: NodeId[][]): void {
    for (const group of groups) {
      for (const other of groups) {
        if (group === other) continue;
        for (const from of group) for (const to of other) this.cuts.add(`${from}->${to}`);
      }
    }
  }

  isolate(id: NodeId): void {
    const others = [...this.nodes.keys()].filter((other) => other !== id);
    this.partition([id], others);
  }

  heal(): void {
    this.cuts.clear();
  }

  /** Syncs lazily written records on every node that is not holding them, and announces them. */
  syncAll(): boolean {
    let progressed = false;
    for (const node of this.nodes.values()) {
      if (node.core === null) continue;
      if (!node.holdSync && node.recordsSynced < node.recordsEmitted) {
        node.disk.sync();
        node.recordsSynced = node.recordsEmitted;
      }
      if (node.recordsAnnounced < node.recordsSynced) {
        node.recordsAnnounced = node.recordsSynced;
        this.step(node.id, { type: 'persisted', throughRecord: node.recordsSynced });
        progressed = true;
      }
    }
    return progressed;
  }

  /** Forces a sync of one node (even while holding), until announcing it writes nothing more. */
  sync(id: NodeId): void {
    const node = this.node(id);
    for (let round = 0; round < 100; round += 1) {
      node.disk.sync();
      node.recordsSynced = node.recordsEmitted;
      if (node.core === null || node.recordsAnnounced === node.recordsSynced) return;
      node.recordsAnnounced = node.recordsSynced;
      this.step(id, { type: 'persisted', throughRecord: node.recordsSynced });
    }
  }

  /**
   * Like `stabilize`, delivering one message at a time and dropping (silently, but traced) the
   * messages `shouldDrop` picks — to hold a scenario at a precise state.
   */
  stabilizeDropping(shouldDrop: (envelope: Envelope<Message>) => boolean, maxSteps = 100_000): void {
    for (let step = 0; step < maxSteps; step += 1) {
      this.syncAll();
      const envelope = this.queue.shift();
      if (envelope === undefined) return;
      if (shouldDrop(envelope)) this.trace.push(`${envelope.from}->${envelope.to} ${describeMessage(envelope.message)} [dropped]`);
      else this.deliverOne(envelope);
    }
    throw new Error(`network did not stabilize within ${maxSteps} steps`);
  }

  /** Syncs and delivers until nothing is left in flight (bounded). */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round += 1) {
      const synced = this.syncAll();
      const delivered = this.deliver();
      if (!synced && delivered === 0) return;
    }
    throw new Error(`network did not stabilize within ${maxRounds} rounds`);
  }

  // ------------------------------------------------------------------ node faults

  /** Crashes a node: volatile state and unsynced records are lost (except `keepUnsynced` of them); its queued messages vanish. */
  crash(id: NodeId, keepUnsynced = 0): void {
    const node = this.node(id);
    node.core = null;
    node.disk.crash(keepUnsynced);
    this.queue = this.queue.filter((envelope) => envelope.to !== id);
    this.monitor.forget(id);
  }

  restart(id: NodeId): void {
    const node = this.node(id);
    if (node.core !== null) throw new Error(`${id} is up`);
    this.boot(node, node.disk.written().slice());
  }

  /**
   * Replaces a node's durable state by a crafted one and restarts it from those records: entry 1
   * is the founders' bootstrap entry (term 1), then one entry per element of `terms` (a put of
   * `k<index>` = `t<term>`), with the given hard state. Used to set up the paper's figures.
   */
  craft(id: NodeId, state: { term: number; vote?: NodeId | null; commit?: number; terms: readonly number[] }): void {
    const node = this.node(id);
    if (node.core !== null) this.crash(id);
    const entries: LogEntry<KvCommand>[] = [
      { index: 1, term: 1, sizeBytes: 0, payload: { type: 'bootstrap', voters: [...this.founders].sort() } },
      ...state.terms.map((term, offset) => craftedEntry(offset + 2, term)),
    ];
    node.disk = new MemoryDurableLog<Record>(isRaftCheckpoint);
    node.disk.append({ type: 'hardState', hardState: { term: state.term, vote: state.vote ?? null, commit: state.commit ?? 1 } });
    node.disk.append({ type: 'entries', entries });
    node.disk.sync();
    this.restart(id);
  }

  setHoldSync(id: NodeId, hold: boolean): void {
    this.node(id).holdSync = hold;
  }

  syncedCount(id: NodeId): number {
    return this.node(id).disk.syncedRecordCount;
  }

  records(id: NodeId): readonly Record[] {
    return this.node(id).disk.written();
  }

  // ------------------------------------------------------------------ internals

  private node(id: NodeId): Node {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`unknown node ${id}`);
    return node;
  }

  private boot(node: Node, recovered: readonly Record[]): void {
    node.incarnation += 1;
    node.recordsEmitted = 0;
    node.recordsSynced = 0;
    node.recordsAnnounced = 0;
    const rng = Rng.fromSeed(this.seed).split(`node:${node.id}:${node.incarnation}`);
    const config = node.joinExisting ? { ...this.config, joinExisting: true } : this.config;
    const core = new RaftCore<KvTypes>({ id: node.id, peers: this.founders, rng, recovered }, config);
    node.core = core;
    this.absorb(node, core.start());
  }

  private deliverOne(envelope: Envelope<Message>): void {
    const text = `${envelope.from}->${envelope.to} ${describeMessage(envelope.message)}`;
    if (this.cuts.has(`${envelope.from}->${envelope.to}`)) {
      this.trace.push(`${text} [dropped: partitioned]`);
      return;
    }
    if (!this.isUp(envelope.to)) {
      this.trace.push(`${text} [dropped: ${envelope.to} down]`);
      return;
    }
    this.trace.push(text);
    this.step(envelope.to, { type: 'message', from: envelope.from, message: envelope.message });
  }

  /** Carries out one output in the contract's order: persist (+ sync), send, reply. */
  private absorb(node: Node, output: KvOutput): void {
    for (const record of output.persist) {
      node.disk.append(record);
      node.recordsEmitted += 1;
      if (this.traceRecords) this.trace.push(`${node.id} persist${output.sync ? '+sync' : ''} ${describeRecord(record)}`);
    }
    if (output.sync) {
      node.disk.sync();
      node.recordsSynced = node.recordsEmitted;
    }
    for (const envelope of output.messages) this.queue.push(envelope);
    for (const { requestId, reply } of output.replies) {
      this.replies.set(requestId, reply);
      this.trace.push(`${node.id} reply #${requestId} ${describeReply(reply)}`);
    }
    if (node.core !== null) this.monitor.observe(node.core);
  }

  /** Takes and clears the trace. */
  takeTrace(): string[] {
    const lines = this.trace.splice(0, this.trace.length);
    return lines;
  }
}

/** The entry `craft` puts at `index`: a put of `k<index>` = `t<term>`. */
export function craftedEntry(index: number, term: number): LogEntry<KvCommand> {
  const command: KvCommand = { op: 'put', key: `k${index}`, value: `t${term}` };
  return { index, term, sizeBytes: 24 + 8, payload: { type: 'command', command, session: null } };
}

/** The terms of a core's log from index 1 (compacted entries as 0). */
export function logTerms(core: RaftCore<KvTypes>): number[] {
  const terms: number[] = [];
  for (let index = 1; index <= core.log.lastIndex(); index += 1) terms.push(core.log.term(index) ?? 0);
  return terms;
}
