import { assert, assertNever, ErrorCode } from '../../core/errors.js';
import type { NodeId, RequestId } from '../../core/ids.js';
import { type CoreContext, type CoreFactory, type Input, type Output, OutputBuilder, type ProtocolCore } from '../../core/protocol.js';
import type { Rng } from '../../core/rng.js';
import { backoffTicks, type DeliveryConfig, deliveryConfig } from './config.js';
import { DedupWindow } from './dedup.js';
import { validateDeliveryMessage } from './validate.js';
import type { DeliveryMessage, DeliveryRecord, DeliveryReply, DeliveryRequest } from './types.js';

type DataMessage = Extract<DeliveryMessage, { type: 'data' }>;
type DeliveryOutput = Output<DeliveryMessage, DeliveryRecord, DeliveryReply>;

/** One unresolved outgoing message. */
interface Pending {
  readonly seq: number;
  readonly appId: string;
  readonly payload: string;
  /** The client waiting for it; null after a restart (that client was answered by the host). */
  readonly requestId: RequestId | null;
  /** Sends so far in this incarnation (bounded by `maxAttempts`). */
  attempts: number;
  /** Position on the backoff curve; reset to the start when the peer proves reachable again. */
  backoffLevel: number;
}

/** Sender state for one destination. */
interface SendLink {
  /** Highest seq reserved by a durable `reserve` record; seqs are never reused across restarts. */
  reservedThroughSeq: number;
  /** Highest seq with a `sent` record (durable modes), 0 if none. */
  highestSentSeq: number;
  nextSeq: number;
  /** Unresolved messages by seq. Invariant: every key is in [floorSeq, nextSeq) and nextSeq − floorSeq ≤ maxInflightPerPeer. */
  readonly pending: Map<number, Pending>;
}

/** Counters for tests, the scenario summary and the dashboard. */
export interface DeliveryStats {
  requests: number;
  rejected: number;
  transmissions: number;
  retransmissions: number;
  acked: number;
  abandoned: number;
  staleAcks: number;
  /** Effects this incarnation applied (records emitted), not counting recovered ones. */
  applied: number;
  duplicatesDropped: number;
  beyondWindowDropped: number;
  malformedDropped: number;
}

const timerPrefix = 'retx/';

/**
 * The reliable-delivery core (see `types.ts` for the three modes). Sender: reserve seqs durably,
 * (durable modes) persist the message with sync, send it, retransmit on a timer with capped
 * exponential backoff and jitter until acked or `maxAttempts`, then answer the client. Receiver:
 * (dedup modes) drop what the per-sender `DedupWindow` has seen; otherwise persist the `applied`
 * record with sync — the effect — and only then acknowledge.
 */
export class ReliableDeliveryCore implements ProtocolCore<DeliveryMessage, DeliveryRecord, DeliveryRequest, DeliveryReply> {
  readonly id: NodeId;
  readonly tickDriven = false;
  private readonly out: OutputBuilder<DeliveryMessage, DeliveryRecord, DeliveryReply>;
  private readonly peers: ReadonlySet<NodeId>;
  private readonly rng: Rng;
  private readonly links = new Map<NodeId, SendLink>();
  /** Receiver dedup state per sender (unused in at-least-once). */
  private readonly inbound = new Map<NodeId, DedupWindow>();
  private readonly counters: DeliveryStats = {
    requests: 0,
    rejected: 0,
    transmissions: 0,
    retransmissions: 0,
    acked: 0,
    abandoned: 0,
    staleAcks: 0,
    applied: 0,
    duplicatesDropped: 0,
    beyondWindowDropped: 0,
    malformedDropped: 0,
  };

  constructor(
    context: CoreContext<DeliveryRecord>,
    private readonly config: DeliveryConfig,
  ) {
    this.id = context.id;
    this.peers = new Set(context.peers.filter((peer) => peer !== context.id));
    this.rng = context.rng;
    this.out = new OutputBuilder(context.id);
    for (const record of context.recovered) this.recover(record);
    for (const link of this.links.values()) {
      // Durable modes record every seq before it leaves, so they resume right after the last one
      // (a jump to the end of the reserved block would open a hole that blocks the seq window
      // until older messages resolve); at-most-once records none, so it skips the whole block.
      link.nextSeq = this.config.mode === 'at-most-once' ? link.reservedThroughSeq + 1 : link.highestSentSeq + 1;
      assert(link.highestSentSeq <= link.reservedThroughSeq, 'a recovered seq was never reserved');
    }
  }

  get mode(): DeliveryConfig['mode'] {
    return this.config.mode;
  }

  stats(): Readonly<DeliveryStats> {
    return { ...this.counters };
  }

  /** Unresolved outgoing messages over every link. */
  unresolvedCount(): number {
    let count = 0;
    for (const link of this.links.values()) count += link.pending.size;
    return count;
  }

  /** Unresolved outgoing messages to `to`. */
  inflight(to: NodeId): number {
    return this.links.get(to)?.pending.size ?? 0;
  }

  /** The receiver's dedup watermark and set size for `from` (null when none or at-least-once). */
  dedupState(from: NodeId): { contiguousThrough: number; aboveCount: number } | null {
    const window = this.inbound.get(from);
    return window === undefined ? null : { contiguousThrough: window.contiguousThrough, aboveCount: window.aboveCount };
  }

  /** Restart: re-send every recovered unresolved message (durable modes) and arm its timer. */
  start(): DeliveryOutput {
    for (const [to, link] of this.links) {
      const seqs = [...link.pending.keys()].sort((a, b) => a - b);
      for (const seq of seqs) this.transmit(to, link, link.pending.get(seq)!);
    }
    return this.out.take();
  }

  step(input: Input<DeliveryMessage, DeliveryRequest>): DeliveryOutput {
    switch (input.type) {
      case 'message':
        this.onMessage(input.from, input.message);
        break;
      case 'timer':
        this.onTimer(input.timer);
        break;
      case 'request':
        this.onRequest(input.requestId, input.request);
        break;
      case 'tick':
      case 'persisted':
        // Not tick-driven; every record that matters is synced before anything depends on it.
        break;
      default:
        assertNever(input, 'input');
    }
    return this.out.take();
  }

  // ---- sender -------------------------------------------------------------------------------

  private onRequest(requestId: RequestId, request: DeliveryRequest): void {
    this.counters.requests += 1;
    const problem = this.requestProblem(request);
    if (problem !== null) {
      this.reject(requestId, request, problem);
      return;
    }
    const link = this.linkTo(request.to);
    // Why a seq-space window (not a count): the receiver's dedup set covers seqs within
    // dedupWindowMax of its watermark, so no sent seq may run further than that ahead of the floor.
    if (link.nextSeq - floorOf(link) >= this.config.maxInflightPerPeer) {
      this.reject(requestId, request, ErrorCode.Overloaded);
      return;
    }
    const seq = this.allocateSeq(request.to, link);
    if (this.config.mode !== 'at-most-once') {
      this.out.persist({ type: 'sent', to: request.to, seq, appId: request.appId, payload: request.payload }, { sync: true });
    }
    const pending: Pending = { seq, appId: request.appId, payload: request.payload, requestId, attempts: 0, backoffLevel: 0 };
    link.pending.set(seq, pending);
    this.transmit(request.to, link, pending);
  }

  private requestProblem(request: DeliveryRequest): ErrorCode | null {
    if (request === null || typeof request !== 'object' || request.type !== 'send') return ErrorCode.InvalidArgument;
    if (typeof request.appId !== 'string' || request.appId.length === 0 || typeof request.payload !== 'string') {
      return ErrorCode.InvalidArgument;
    }
    if (!this.peers.has(request.to)) return ErrorCode.UnknownNode;
    return null;
  }

  private reject(requestId: RequestId, request: DeliveryRequest, code: ErrorCode): void {
    this.counters.rejected += 1;
    const appId = typeof request?.appId === 'string' ? request.appId : '';
    this.out.reply(requestId, { type: 'fail', appId, code });
  }

  private allocateSeq(to: NodeId, link: SendLink): number {
    if (link.nextSeq > link.reservedThroughSeq) {
      link.reservedThroughSeq += this.config.seqBlockSize;
      this.out.persist({ type: 'reserve', to, throughSeq: link.reservedThroughSeq }, { sync: true });
    }
    const seq = link.nextSeq;
    link.nextSeq += 1;
    assert(seq <= link.reservedThroughSeq, 'allocated an unreserved seq');
    return seq;
  }

  private transmit(to: NodeId, link: SendLink, pending: Pending): void {
    pending.attempts += 1;
    pending.backoffLevel += 1;
    this.counters.transmissions += 1;
    if (pending.attempts > 1) this.counters.retransmissions += 1;
    const message: DataMessage = { type: 'data', seq: pending.seq, floorSeq: floorOf(link), appId: pending.appId, payload: pending.payload };
    assert(message.floorSeq <= message.seq, 'a pending seq lies below the floor');
    this.out.send(to, message);
    this.out.setTimer(timerName(to, pending.seq), this.timeoutTicks(pending.backoffLevel));
  }

  private timeoutTicks(backoffLevel: number): number {
    if (this.config.mode === 'at-most-once') return this.config.ackTimeoutTicks;
    return backoffTicks(this.config, backoffLevel) + this.rng.int(0, this.config.retransmitJitterTicks);
  }

  /**
   * An ack from `to` proves the link works again (e.g. a partition healed): messages to it that
   * backed off far are retried after the base timeout instead of up to `retransmitMaxTicks`.
   * Cost: one timer per such message, at most `maxInflightPerPeer`.
   */
  private resetBackoff(to: NodeId, link: SendLink): void {
    if (this.config.mode === 'at-most-once') return;
    for (const pending of link.pending.values()) {
      if (pending.backoffLevel <= 1) continue;
      pending.backoffLevel = 1;
      this.out.setTimer(timerName(to, pending.seq), this.timeoutTicks(1));
    }
  }

  private onTimer(timer: string): void {
    const parsed = parseTimerName(timer);
    if (parsed === null) return;
    const link = this.links.get(parsed.to);
    const pending = link?.pending.get(parsed.seq);
    // A timer for a resolved message: it was cancelled when resolved, so this is harmless noise.
    if (link === undefined || pending === undefined) return;
    if (this.config.mode === 'at-most-once' || pending.attempts >= this.config.maxAttempts) {
      this.abandon(parsed.to, link, pending);
      return;
    }
    this.transmit(parsed.to, link, pending);
  }

  /** Gives up: the message may or may not have been applied, so the client gets `info`. */
  private abandon(to: NodeId, link: SendLink, pending: Pending): void {
    link.pending.delete(pending.seq);
    this.counters.abandoned += 1;
    if (this.config.mode !== 'at-most-once') {
      // Synced: once the floor has moved past it, a restart must not resurrect and resend it.
      this.out.persist({ type: 'resolved', to, seq: pending.seq, outcome: 'abandoned' }, { sync: true });
    }
    if (pending.requestId !== null) {
      this.out.reply(pending.requestId, { type: 'info', appId: pending.appId, code: ErrorCode.Timeout, attempts: pending.attempts });
    }
  }

  private onAck(from: NodeId, seq: number): void {
    const link = this.links.get(from);
    const pending = link?.pending.get(seq);
    if (link === undefined || pending === undefined) {
      this.counters.staleAcks += 1;
      return;
    }
    link.pending.delete(seq);
    this.counters.acked += 1;
    this.out.setTimer(timerName(from, seq), null);
    if (this.config.mode !== 'at-most-once') {
      // Not synced: if lost in a crash the message is resent and the receiver answers again.
      this.out.persist({ type: 'resolved', to: from, seq, outcome: 'acked' }, { sync: false });
    }
    if (pending.requestId !== null) {
      this.out.reply(pending.requestId, { type: 'ok', appId: pending.appId, seq, attempts: pending.attempts });
    }
    this.resetBackoff(from, link);
  }

  private linkTo(to: NodeId): SendLink {
    let link = this.links.get(to);
    if (link === undefined) {
      link = { reservedThroughSeq: 0, highestSentSeq: 0, nextSeq: 1, pending: new Map() };
      this.links.set(to, link);
    }
    return link;
  }

  // ---- receiver -----------------------------------------------------------------------------

  private onMessage(from: NodeId, message: DeliveryMessage): void {
    if (!this.peers.has(from) || validateDeliveryMessage(message) !== null) {
      this.counters.malformedDropped += 1;
      return;
    }
    switch (message.type) {
      case 'data':
        this.onData(from, message);
        break;
      case 'ack':
        this.onAck(from, message.seq);
        break;
      default:
        assertNever(message, 'message');
    }
  }

  private onData(from: NodeId, message: DataMessage): void {
    if (this.config.mode === 'at-least-once') {
      this.apply(from, message, message.floorSeq);
      return;
    }
    const window = this.windowFor(from);
    window.raiseFloor(message.floorSeq);
    if (window.has(message.seq)) {
      // A network duplicate or a retransmission whose ack was lost: ack again, never re-apply.
      this.counters.duplicatesDropped += 1;
      this.out.send(from, { type: 'ack', seq: message.seq });
      return;
    }
    if (window.isBeyondWindow(message.seq)) {
      // Only after a sender restart that lost ack records; the sender retries once the gap fills.
      this.counters.beyondWindowDropped += 1;
      return;
    }
    this.apply(from, message, window.contiguousThrough + 1);
    window.add(message.seq);
  }

  /** The effect: a synced `applied` record (also the dedup state), then the ack. */
  private apply(from: NodeId, message: DataMessage, floorSeq: number): void {
    this.counters.applied += 1;
    this.out.persist(
      { type: 'applied', from, seq: message.seq, floorSeq, appId: message.appId, payload: message.payload },
      { sync: true },
    );
    this.out.send(from, { type: 'ack', seq: message.seq });
  }

  private windowFor(from: NodeId): DedupWindow {
    let window = this.inbound.get(from);
    if (window === undefined) {
      window = new DedupWindow(this.config.dedupWindowMax);
      this.inbound.set(from, window);
    }
    return window;
  }

  // ---- recovery -----------------------------------------------------------------------------

  private recover(record: DeliveryRecord): void {
    switch (record.type) {
      case 'reserve': {
        const link = this.linkTo(record.to);
        link.reservedThroughSeq = Math.max(link.reservedThroughSeq, record.throughSeq);
        break;
      }
      case 'sent': {
        const link = this.linkTo(record.to);
        link.highestSentSeq = Math.max(link.highestSentSeq, record.seq);
        link.pending.set(record.seq, { seq: record.seq, appId: record.appId, payload: record.payload, requestId: null, attempts: 0, backoffLevel: 0 });
        break;
      }
      case 'resolved':
        this.linkTo(record.to).pending.delete(record.seq);
        break;
      case 'applied':
        if (this.config.mode !== 'at-least-once') {
          const window = this.windowFor(record.from);
          window.raiseFloor(record.floorSeq);
          window.add(record.seq);
        }
        break;
      default:
        assertNever(record, 'record');
    }
  }
}

/** Lowest unresolved seq on the link, or the next seq when none is unresolved. */
function floorOf(link: SendLink): number {
  let floor = link.nextSeq;
  for (const seq of link.pending.keys()) if (seq < floor) floor = seq;
  return floor;
}

function timerName(to: NodeId, seq: number): string {
  return `${timerPrefix}${to}/${seq}`;
}

function parseTimerName(timer: string): { to: NodeId; seq: number } | null {
  if (!timer.startsWith(timerPrefix)) return null;
  const rest = timer.slice(timerPrefix.length);
  const slash = rest.lastIndexOf('/');
  const seq = Number(rest.slice(slash + 1));
  if (slash <= 0 || !Number.isSafeInteger(seq)) return null;
  return { to: rest.slice(0, slash), seq };
}

/** A `CoreFactory` for hosts: every node runs the same config. */
export function reliableDeliveryFactory(
  options: Partial<DeliveryConfig> = {},
): CoreFactory<DeliveryMessage, DeliveryRecord, DeliveryRequest, DeliveryReply> & ((context: CoreContext<DeliveryRecord>) => ReliableDeliveryCore) {
  const config = deliveryConfig(options);
  return (context) => new ReliableDeliveryCore(context, config);
}
