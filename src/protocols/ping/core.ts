import type { Envelope } from '../../core/envelope.js';
import { assert, assertNever } from '../../core/errors.js';
import type { NodeId, RequestId } from '../../core/ids.js';
import type { ClientReply, CoreContext, Input, Output, ProtocolCore, TimerRequest } from '../../core/protocol.js';
import { noOutput } from '../../core/protocol.js';

/**
 * Ping/echo: every `pingIntervalTicks` a node pings its peers; a peer answers each ping with an
 * echo. A client may ask a node to ping one peer and is answered when the echo returns.
 *
 * The one durable fact is the node's **epoch**: on every (re)start the node persists
 * `previous epoch + 1` with `sync: true` before its first ping, and pings/echoes carry the epoch.
 * An echo of a ping sent by an earlier incarnation therefore never matches a new ping with the
 * same sequence number — a small but real use of crash-recovery semantics.
 *
 * The core is deliberately lean (hand-built outputs, no per-message closures): it is the
 * workload of the simulator benchmark.
 */
export type PingMessage =
  | { readonly type: 'ping'; readonly epoch: number; readonly seq: number }
  | { readonly type: 'echo'; readonly epoch: number; readonly seq: number };

/** The durable record: the epoch of an incarnation. */
export interface PingRecord {
  readonly type: 'epoch';
  readonly epoch: number;
}

export type PingRequest = { readonly type: 'ping'; readonly to: NodeId };

export type PingReply =
  | { readonly type: 'pong'; readonly from: NodeId; readonly seq: number }
  | { readonly type: 'rejected'; readonly reason: 'unknown-peer' };

export interface PingConfig {
  /** Ticks between two ping rounds. */
  readonly pingIntervalTicks: number;
  /** Peers pinged per round: every peer (`null`) or this many, chosen round-robin. */
  readonly fanout: number | null;
  /** Bound of unanswered pings remembered; when full the oldest is forgotten. */
  readonly outstandingMax: number;
}

export const defaultPingConfig: PingConfig = { pingIntervalTicks: 10, fanout: null, outstandingMax: 4096 };

const pingTimer = 'ping';
const none: readonly never[] = Object.freeze([]) as readonly never[];

export class PingCore implements ProtocolCore<PingMessage, PingRecord, PingRequest, PingReply> {
  readonly id: NodeId;
  readonly tickDriven = false;
  readonly epoch: number;
  /** Rounds started by this incarnation. */
  round = 0;
  pingsSent = 0;
  echoesSent = 0;
  /** Echoes that matched an outstanding ping of this epoch. */
  echoesAccepted = 0;
  /** Echoes that matched nothing: duplicates, stale epochs, forgotten or altered pings. */
  echoesUnexpected = 0;
  private readonly peers: readonly NodeId[];
  /**
   * Unanswered pings in a ring indexed by `seq % outstandingMax` (sequence numbers only grow, so
   * a new ping overwrites — forgets — the oldest one in its slot): the seq (0 = empty) and the
   * pinged peer's index. No map on the hot path.
   */
  private readonly outstandingSeq: Float64Array;
  private readonly outstandingPeer: Int32Array;
  private outstandingSize = 0;
  private readonly clientPings = new Map<number, RequestId>();
  private readonly acceptedFrom: Int32Array;
  private readonly peerIndex = new Map<NodeId, number>();
  private nextSeq = 1;
  private nextPeer = 0;

  constructor(
    context: CoreContext<PingRecord>,
    readonly config: PingConfig = defaultPingConfig,
  ) {
    assert(config.pingIntervalTicks >= 1 && config.outstandingMax >= 1, 'ping config out of range');
    this.id = context.id;
    this.peers = context.peers.filter((peer) => peer !== context.id);
    let previous = 0;
    for (const record of context.recovered) previous = Math.max(previous, record.epoch);
    this.epoch = previous + 1;
    this.peers.forEach((peer, index) => this.peerIndex.set(peer, index));
    this.acceptedFrom = new Int32Array(this.peers.length);
    this.outstandingSeq = new Float64Array(config.outstandingMax);
    this.outstandingPeer = new Int32Array(config.outstandingMax);
  }

  /** Unanswered pings currently remembered. */
  get outstandingCount(): number {
    return this.outstandingSize;
  }

  /** Echoes accepted from `peer` by this incarnation. */
  echoesFrom(peer: NodeId): number {
    const index = this.peerIndex.get(peer);
    return index === undefined ? 0 : this.acceptedFrom[index]!;
  }

  start(): Output<PingMessage, PingRecord, PingReply> {
    // Persist the new epoch durably first; the first ping round is armed by the same output and
    // so (contract order) only runs after the sync.
    return {
      persist: [{ type: 'epoch', epoch: this.epoch }],
      sync: true,
      messages: none,
      replies: none,
      timers: [{ timer: pingTimer, afterTicks: this.config.pingIntervalTicks }],
    };
  }

  step(input: Input<PingMessage, PingRequest>): Output<PingMessage, PingRecord, PingReply> {
    switch (input.type) {
      case 'message':
        return input.message.type === 'ping' ? this.onPing(input.from, input.message) : this.onEcho(input.from, input.message);
      case 'timer':
        return input.timer === pingTimer ? this.onRound() : noOutput();
      case 'request':
        return this.onRequest(input.requestId, input.request);
      case 'tick':
      case 'persisted':
        return noOutput();
      default:
        return assertNever(input, 'ping input');
    }
  }

  private onPing(from: NodeId, message: PingMessage): Output<PingMessage, PingRecord, PingReply> {
    this.echoesSent += 1;
    const echo: Envelope<PingMessage> = { from: this.id, to: from, message: { type: 'echo', epoch: message.epoch, seq: message.seq } };
    return { persist: none, sync: false, messages: [echo], replies: none, timers: none };
  }

  private onEcho(from: NodeId, message: PingMessage): Output<PingMessage, PingRecord, PingReply> {
    const slot = message.seq % this.config.outstandingMax;
    const peer = this.outstandingPeer[slot]!;
    if (message.epoch !== this.epoch || this.outstandingSeq[slot] !== message.seq || this.peers[peer] !== from) {
      this.echoesUnexpected += 1;
      return noOutput();
    }
    this.outstandingSeq[slot] = 0;
    this.outstandingSize -= 1;
    this.echoesAccepted += 1;
    this.acceptedFrom[peer] += 1;
    const requestId = this.clientPings.get(message.seq);
    if (requestId === undefined) return noOutput();
    this.clientPings.delete(message.seq);
    const reply: ClientReply<PingReply> = { requestId, reply: { type: 'pong', from, seq: message.seq } };
    return { persist: none, sync: false, messages: none, replies: [reply], timers: none };
  }

  private onRound(): Output<PingMessage, PingRecord, PingReply> {
    this.round += 1;
    const count = this.config.fanout === null ? this.peers.length : Math.min(this.config.fanout, this.peers.length);
    const messages: Envelope<PingMessage>[] = new Array(count);
    for (let index = 0; index < count; index += 1) {
      const peer = this.nextPeer;
      this.nextPeer = peer + 1 === this.peers.length ? 0 : peer + 1;
      messages[index] = { from: this.id, to: this.peers[peer]!, message: this.newPing(peer) };
    }
    const timers: TimerRequest[] = [{ timer: pingTimer, afterTicks: this.config.pingIntervalTicks }];
    return { persist: none, sync: false, messages, replies: none, timers };
  }

  private onRequest(requestId: RequestId, request: PingRequest): Output<PingMessage, PingRecord, PingReply> {
    const peer = this.peerIndex.get(request.to);
    if (peer === undefined) {
      return { persist: none, sync: false, messages: none, replies: [{ requestId, reply: { type: 'rejected', reason: 'unknown-peer' } }], timers: none };
    }
    const message = this.newPing(peer);
    this.clientPings.set(message.seq, requestId);
    if (this.clientPings.size > this.config.outstandingMax) this.clientPings.delete(this.clientPings.keys().next().value!);
    return { persist: none, sync: false, messages: [{ from: this.id, to: request.to, message }], replies: none, timers: none };
  }

  private newPing(peer: number): PingMessage {
    const seq = this.nextSeq++;
    const slot = seq % this.config.outstandingMax;
    // Bounded: a ping still unanswered in this slot is forgotten (its echo will count as unexpected).
    if (this.outstandingSeq[slot] === 0) this.outstandingSize += 1;
    this.outstandingSeq[slot] = seq;
    this.outstandingPeer[slot] = peer;
    assert(this.outstandingSize <= this.config.outstandingMax, 'outstanding pings exceed their bound');
    this.pingsSent += 1;
    return { type: 'ping', epoch: this.epoch, seq };
  }
}

export function pingFactory(config: PingConfig = defaultPingConfig): (context: CoreContext<PingRecord>) => PingCore {
  return (context) => new PingCore(context, config);
}

/** A cheap content hash for the simulator's trace (type, epoch, seq). */
export function hashPingMessage(message: PingMessage): number {
  return (message.type === 'ping' ? 0x1f3d5b79 : 0x2e4c6a88) ^ Math.imul(message.seq, 0x9e3779b1) ^ Math.imul(message.epoch, 0x85ebca6b);
}
