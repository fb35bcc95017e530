import type { Envelope } from '../../../src/core/envelope.js';
import type { NodeId, RequestId } from '../../../src/core/ids.js';
import type { Output } from '../../../src/core/protocol.js';
import { Rng } from '../../../src/core/rng.js';
import { MemoryDurableLog } from '../../../src/core/storage.js';
import {
  countAppliedEffects,
  type DeliveryConfig,
  type DeliveryMessage,
  type DeliveryRecord,
  type DeliveryReply,
  ReliableDeliveryCore,
  deliveryConfig,
} from '../../../src/protocols/reliable-delivery/index.js';

type DeliveryOutput = Output<DeliveryMessage, DeliveryRecord, DeliveryReply>;

interface DriverNode {
  core: ReliableDeliveryCore | null;
  readonly log: MemoryDurableLog<DeliveryRecord>;
  /** Armed timers: name → due tick. */
  readonly timers: Map<string, number>;
  incarnation: number;
}

export interface RecordedReply {
  readonly node: NodeId;
  readonly requestId: RequestId;
  readonly reply: DeliveryReply;
}

/**
 * A tiny hand-driven host for scripted tests: the test decides which message is delivered,
 * dropped, duplicated or reordered, when time passes and when a node crashes. Follows the output
 * contract (persist + sync, then send, then reply, then timers). Every output is also rendered as
 * text lines (`transcript`) for the data-driven tests.
 */
export class DeliveryDriver {
  readonly config: DeliveryConfig;
  readonly nodes = new Map<NodeId, DriverNode>();
  /** Messages in flight, in the order they will be delivered. */
  network: Envelope<DeliveryMessage>[] = [];
  readonly replies: RecordedReply[] = [];
  now = 0;
  private nextRequestId = 1;
  private readonly rng: Rng;
  transcript: string[] = [];

  constructor(options: { nodes?: number; seed?: number; config?: Partial<DeliveryConfig> } = {}) {
    this.config = deliveryConfig(options.config);
    this.rng = Rng.fromSeed(options.seed ?? 1);
    const ids = Array.from({ length: options.nodes ?? 3 }, (_, index) => `n${index + 1}`);
    for (const id of ids) this.nodes.set(id, { core: null, log: new MemoryDurableLog(), timers: new Map(), incarnation: 0 });
    for (const id of ids) this.boot(id, []);
  }

  core(id: NodeId): ReliableDeliveryCore {
    const core = this.node(id).core;
    if (core === null) throw new Error(`${id} is down`);
    return core;
  }

  isUp(id: NodeId): boolean {
    return this.node(id).core !== null;
  }

  send(from: NodeId, to: NodeId, appId: string, payload = appId): RequestId {
    const requestId = this.nextRequestId++;
    this.apply(from, this.core(from).step({ type: 'request', requestId, request: { type: 'send', to, appId, payload } }));
    return requestId;
  }

  /**
   * Delivers the first `limit` in-flight messages matching `filter` that were in flight at the
   * call (what they produce queues behind).
   */
  deliver(filter: (envelope: Envelope<DeliveryMessage>) => boolean = () => true, limit = Infinity): number {
    let taken = 0;
    const [chosen, rest] = partition(this.network, (envelope) => taken < limit && filter(envelope) && ++taken > 0);
    this.network = rest;
    for (const envelope of chosen) this.deliverOne(envelope);
    return chosen.length;
  }

  /** Delivers everything, including what deliveries produce, until the network is empty (bounded). */
  settle(maxRounds = 100): void {
    for (let round = 0; round < maxRounds && this.network.length > 0; round += 1) this.deliver();
    if (this.network.length > 0) throw new Error('network did not settle');
  }

  drop(filter: (envelope: Envelope<DeliveryMessage>) => boolean = () => true, limit = Infinity): number {
    let taken = 0;
    const [chosen, rest] = partition(this.network, (envelope) => taken < limit && filter(envelope) && ++taken > 0);
    this.network = rest;
    return chosen.length;
  }

  duplicate(filter: (envelope: Envelope<DeliveryMessage>) => boolean = () => true): number {
    const chosen = this.network.filter(filter);
    this.network.push(...chosen.map((envelope) => ({ ...envelope })));
    return chosen.length;
  }

  reverse(): void {
    this.network.reverse();
  }

  /** Advances time tick by tick, firing due timers in (due tick, name) order. */
  tick(ticks: number): void {
    for (let step = 0; step < ticks; step += 1) {
      this.now += 1;
      for (const [id, node] of this.nodes) {
        const due = [...node.timers].filter(([, at]) => at <= this.now).map(([name]) => name).sort();
        for (const name of due) {
          if (node.core === null || node.timers.get(name) === undefined) continue;
          node.timers.delete(name);
          this.apply(id, node.core.step({ type: 'timer', timer: name }));
        }
      }
    }
  }

  /** Crash: volatile state, timers and unsynced writes are lost (`keepUnsynced` of them survive). */
  crash(id: NodeId, keepUnsynced = 0): void {
    const node = this.node(id);
    node.core = null;
    node.timers.clear();
    node.log.crash(keepUnsynced);
    this.transcript.push(`${id} crashed (durable records: ${node.log.writtenCount})`);
  }

  restart(id: NodeId): void {
    const node = this.node(id);
    if (node.core !== null) throw new Error(`${id} is up`);
    this.boot(id, node.log.written().slice());
  }

  /** Applied effects per appId over every node's durable log. */
  effects(): Map<string, number> {
    return countAppliedEffects([...this.nodes.values()].map((node) => node.log.synced()));
  }

  repliesFor(requestId: RequestId): DeliveryReply[] {
    return this.replies.filter((entry) => entry.requestId === requestId).map((entry) => entry.reply);
  }

  private boot(id: NodeId, recovered: readonly DeliveryRecord[]): void {
    const node = this.node(id);
    node.incarnation += 1;
    const context = { id, peers: [...this.nodes.keys()], rng: this.rng.split(`${id}#${node.incarnation}`), recovered };
    node.core = new ReliableDeliveryCore(context, this.config);
    if (node.incarnation > 1) this.transcript.push(`${id} restarted (recovered ${recovered.length} records)`);
    this.apply(id, node.core.start());
  }

  private deliverOne(envelope: Envelope<DeliveryMessage>): void {
    const core = this.node(envelope.to).core;
    if (core === null) {
      this.transcript.push(`${envelope.from}→${envelope.to} lost (receiver down): ${renderMessage(envelope.message)}`);
      return;
    }
    this.apply(envelope.to, core.step({ type: 'message', from: envelope.from, message: envelope.message }));
  }

  private apply(id: NodeId, output: DeliveryOutput): void {
    const node = this.node(id);
    for (const record of output.persist) node.log.append(record);
    if (output.sync) node.log.sync();
    if (output.persist.length > 0) {
      this.transcript.push(`${id} persist${output.sync ? '+sync' : ''}: ${output.persist.map(renderRecord).join('; ')}`);
    }
    for (const envelope of output.messages) {
      this.network.push(envelope);
      this.transcript.push(`${id}→${envelope.to} ${renderMessage(envelope.message)}`);
    }
    for (const { requestId, reply } of output.replies) {
      this.replies.push({ node: id, requestId, reply });
      this.transcript.push(`${id} reply r${requestId}: ${renderReply(reply)}`);
    }
    for (const { timer, afterTicks } of output.timers) {
      if (afterTicks === null) node.timers.delete(timer);
      else node.timers.set(timer, this.now + afterTicks);
      this.transcript.push(`${id} timer ${timer} ${afterTicks === null ? 'cancel' : `+${afterTicks}`}`);
    }
  }

  private node(id: NodeId): DriverNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`unknown node ${id}`);
    return node;
  }
}

function partition<T>(items: readonly T[], filter: (item: T) => boolean): [T[], T[]] {
  const chosen: T[] = [];
  const rest: T[] = [];
  for (const item of items) (filter(item) ? chosen : rest).push(item);
  return [chosen, rest];
}

export function renderMessage(message: DeliveryMessage): string {
  switch (message.type) {
    case 'data':
      return `data #${message.seq} floor=${message.floorSeq} ${message.appId}`;
    case 'ack':
      return `ack #${message.seq}`;
  }
}

export function renderRecord(record: DeliveryRecord): string {
  switch (record.type) {
    case 'reserve':
      return `reserve ${record.to} ≤${record.throughSeq}`;
    case 'sent':
      return `sent ${record.to}#${record.seq} ${record.appId}`;
    case 'resolved':
      return `${record.outcome} ${record.to}#${record.seq}`;
    case 'applied':
      return `APPLIED ${record.from}#${record.seq} ${record.appId} floor=${record.floorSeq}`;
  }
}

export function renderReply(reply: DeliveryReply): string {
  switch (reply.type) {
    case 'ok':
      return `ok ${reply.appId} #${reply.seq} attempts=${reply.attempts}`;
    case 'fail':
      return `fail ${reply.appId} ${reply.code}`;
    case 'info':
      return `info ${reply.appId} ${reply.code} attempts=${reply.attempts}`;
  }
}

/** `n1->n2` → a filter on that link; `undefined` → every message. */
export function linkFilter(spec: string | undefined): (envelope: Envelope<DeliveryMessage>) => boolean {
  if (spec === undefined || spec === '*') return () => true;
  const [from, to] = spec.split('->');
  if (from === undefined || to === undefined) throw new Error(`bad link ${spec}; expected from->to`);
  return (envelope) => (from === '*' || envelope.from === from) && (to === '*' || envelope.to === to);
}
