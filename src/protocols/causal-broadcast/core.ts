import { requirePositiveIntegers, withOverrides } from '../../core/config-check.js';
import { type VectorClock, vectorGet } from '../../core/clocks.js';
import { ErrorCode } from '../../core/errors.js';
import type { NodeId } from '../../core/ids.js';
import { type CoreContext, type Input, type InputHandlers, type Output, OutputBuilder, type ProtocolCore, stepWith } from '../../core/protocol.js';
import type { Rng } from '../../core/rng.js';

/**
 * Reliable causal broadcast with vector clocks. A node broadcasts a message stamped with the
 * vector of what it has delivered so far (its causal past); every node delivers a message only
 * after everything in that past — so if m1 happened before m2, nobody delivers m2 before m1 —
 * and exactly once. Delivery is durable (synced before anything that depends on it leaves), so
 * a restarted node resumes from its log. Loss, partitions and crashes are repaired by
 * anti-entropy: every `gossipTicks` a node tells a random peer what it has delivered, and the
 * peer sends what is missing (at most `maxResendPerDigest` messages per digest).
 */
export interface CbData {
  readonly type: 'data';
  readonly origin: NodeId;
  /** 1, 2, 3 … per origin. */
  readonly seq: number;
  /** What the origin had delivered when it broadcast this (its own earlier messages included). */
  readonly deps: VectorClock;
  readonly payload: string;
}

export type CbMessage = CbData | { readonly type: 'digest'; readonly delivered: VectorClock };

/** One record per delivered message, in delivery order (a node's own broadcasts included). */
export type CbRecord = { readonly type: 'delivered'; readonly message: CbData };

export type CbRequest = { readonly type: 'broadcast'; readonly payload: string };
export type CbReply = { readonly type: 'broadcast'; readonly origin: NodeId; readonly seq: number } | { readonly type: 'error'; readonly code: string; readonly message: string };

export interface CbConfig {
  readonly gossipTicks: number;
  readonly maxResendPerDigest: number;
  /** Received messages waiting for their causal past; beyond it new arrivals are dropped (anti-entropy brings them back). */
  readonly maxBuffered: number;
  readonly maxPayloadBytes: number;
  /**
   * TEST-ONLY bug switches: `ignoreDependencies` — deliver in per-origin order only (FIFO, not
   * causal); `deliverOnArrival` — deliver whatever arrives first, once.
   */
  readonly testingBugs: { readonly ignoreDependencies: boolean; readonly deliverOnArrival: boolean };
}

export const defaultCbConfig: CbConfig = {
  gossipTicks: 10, maxResendPerDigest: 64, maxBuffered: 10_000, maxPayloadBytes: 4096, testingBugs: { ignoreDependencies: false, deliverOnArrival: false },
};

export function cbConfig(overrides: Partial<CbConfig> = {}): CbConfig {
  const config = withOverrides(defaultCbConfig, overrides);
  requirePositiveIntegers('causal broadcast', config, ['gossipTicks', 'maxResendPerDigest', 'maxBuffered', 'maxPayloadBytes']);
  return config;
}

const gossipTimer = 'gossip';
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

function isVector(value: unknown): value is VectorClock {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every(isCount);
}

export function cbMessageProblem(value: unknown, config: CbConfig): string | null {
  if (typeof value !== 'object' || value === null) return 'not an object';
  const message = value as Record<string, unknown>;
  if (message.type === 'digest') return isVector(message.delivered) ? null : 'digest: delivered must map nodes to counts';
  if (message.type !== 'data') return `unknown message type ${JSON.stringify(message.type)}`;
  if (typeof message.origin !== 'string' || !isCount(message.seq) || message.seq < 1) return 'data: origin and a positive seq required';
  if (!isVector(message.deps)) return 'data: deps must map nodes to counts';
  if (typeof message.payload !== 'string' || message.payload.length > config.maxPayloadBytes) return 'data: payload too large or not a string';
  return null;
}

export interface CbStats {
  broadcasts: number;
  delivered: number;
  duplicatesDropped: number;
  bufferedDropped: number;
  resent: number;
  malformedDropped: number;
}

type CbOutput = Output<CbMessage, CbRecord, CbReply>;

export class CausalBroadcastCore implements ProtocolCore<CbMessage, CbRecord, CbRequest, CbReply> {
  readonly id: NodeId;
  readonly tickDriven = false;
  readonly stats: CbStats = { broadcasts: 0, delivered: 0, duplicatesDropped: 0, bufferedDropped: 0, resent: 0, malformedDropped: 0 };
  private readonly out: OutputBuilder<CbMessage, CbRecord, CbReply>;
  private readonly peers: readonly NodeId[];
  private readonly rng: Rng;
  /** Messages delivered per origin; entry i holds seq i + 1. */
  private readonly log = new Map<NodeId, CbData[]>();
  /** Received, not yet deliverable, by `origin/seq`. */
  private readonly buffer = new Map<string, CbData>();

  constructor(context: CoreContext<CbRecord>, private readonly config: CbConfig) {
    this.id = context.id;
    this.peers = context.peers.filter((peer) => peer !== context.id);
    this.rng = context.rng;
    this.out = new OutputBuilder(context.id);
    for (const record of context.recovered) this.remember(record.message);
  }

  start(): CbOutput {
    this.out.setTimer(gossipTimer, this.config.gossipTicks);
    return this.out.take();
  }

  private readonly handlers: InputHandlers<CbMessage, CbRequest> = {
    request: (requestId, request) => this.broadcast(requestId, request),
    message: (from, message) => this.onMessage(from, message),
    timer: (timer) => {
      if (timer === gossipTimer) this.gossip();
    },
  };

  step(input: Input<CbMessage, CbRequest>): CbOutput {
    return stepWith(this.out, input, this.handlers);
  }

  /** What this node has delivered: origin → count. */
  deliveredVector(): VectorClock {
    return Object.fromEntries([...this.log].map(([origin, messages]) => [origin, messages.length]));
  }

  bufferedCount(): number {
    return this.buffer.size;
  }

  /** For diagnostics: per origin, the next message expected and what it still waits for. */
  waitingFor(): string[] {
    const lines: string[] = [];
    for (const origin of new Set([...this.buffer.values()].map((message) => message.origin))) {
      const next = this.buffer.get(`${origin}/${this.delivered(origin) + 1}`);
      if (next === undefined) lines.push(`${origin}/${this.delivered(origin) + 1} missing`);
      else lines.push(`${origin}/${next.seq} needs ${Object.entries(next.deps).filter(([node, count]) => node !== origin && count > this.delivered(node)).map(([node, count]) => `${node}:${count}`).join(',')}`);
    }
    return lines;
  }

  private delivered(origin: NodeId): number {
    return this.log.get(origin)?.length ?? 0;
  }

  private broadcast(requestId: number, request: CbRequest): void {
    if (typeof request.payload !== 'string' || request.payload.length > this.config.maxPayloadBytes) {
      this.out.reply(requestId, { type: 'error', code: ErrorCode.InvalidArgument, message: `payload must be a string of at most ${this.config.maxPayloadBytes} characters` });
      return;
    }
    const message: CbData = { type: 'data', origin: this.id, seq: this.delivered(this.id) + 1, deps: this.deliveredVector(), payload: request.payload };
    this.stats.broadcasts += 1;
    this.deliver(message);
    for (const peer of this.peers) this.out.send(peer, message);
    this.out.reply(requestId, { type: 'broadcast', origin: this.id, seq: message.seq });
  }

  private onMessage(from: NodeId, message: CbMessage): void {
    if (!this.peers.includes(from) || cbMessageProblem(message, this.config) !== null) {
      this.stats.malformedDropped += 1;
      return;
    }
    if (message.type === 'digest') this.answerDigest(from, message.delivered);
    else this.receive(message);
  }

  private receive(message: CbData): void {
    const key = `${message.origin}/${message.seq}`;
    if (message.seq <= this.delivered(message.origin) || this.buffer.has(key)) {
      this.stats.duplicatesDropped += 1;
      return;
    }
    if (this.config.testingBugs.deliverOnArrival) {
      this.deliver(message);
      return;
    }
    if (this.buffer.size >= this.config.maxBuffered) {
      this.stats.bufferedDropped += 1;
      return;
    }
    this.buffer.set(key, message);
    this.drain();
  }

  /** Delivers every buffered message whose causal past is delivered, until none is left. */
  private drain(): void {
    for (let progress = true; progress;) {
      progress = false;
      for (const [key, message] of this.buffer) {
        if (!this.ready(message)) continue;
        this.buffer.delete(key);
        this.deliver(message);
        progress = true;
      }
    }
  }

  private ready(message: CbData): boolean {
    if (message.seq !== this.delivered(message.origin) + 1) return false;
    if (this.config.testingBugs.ignoreDependencies) return true;
    return Object.entries(message.deps).every(([node, count]) => node === message.origin || count <= this.delivered(node));
  }

  private deliver(message: CbData): void {
    // Durable before anything that follows it leaves (a broadcast's sends, an acknowledgement).
    this.out.persist({ type: 'delivered', message }, { sync: true });
    this.remember(message);
    this.stats.delivered += 1;
  }

  private remember(message: CbData): void {
    const messages = this.log.get(message.origin);
    if (messages === undefined) this.log.set(message.origin, [message]);
    else messages.push(message);
  }

  private gossip(): void {
    if (this.peers.length > 0) this.out.send(this.rng.pick(this.peers), { type: 'digest', delivered: this.deliveredVector() });
    this.out.setTimer(gossipTimer, this.config.gossipTicks);
  }

  /**
   * A peer said what it has: send it what it lacks — round-robin over origins, oldest first, so
   * that the budget never starves one origin (the peer may be waiting on that one to deliver the
   * rest) — and ask back if it has more than we do.
   */
  private answerDigest(from: NodeId, theirs: VectorClock): void {
    let budget = this.config.maxResendPerDigest;
    const origins = [...this.log.keys()].sort();
    for (let offset = 1; budget > 0; offset += 1) {
      let sentAny = false;
      for (const origin of origins) {
        const seq = vectorGet(theirs, origin) + offset;
        const messages = this.log.get(origin)!;
        if (seq > messages.length || budget === 0) continue;
        this.out.send(from, messages[seq - 1]!);
        this.stats.resent += 1;
        budget -= 1;
        sentAny = true;
      }
      if (!sentAny) break;
    }
    const behind = Object.entries(theirs).some(([origin, count]) => count > this.delivered(origin));
    if (behind) this.out.send(from, { type: 'digest', delivered: this.deliveredVector() });
  }
}

export function causalBroadcastFactory(overrides: Partial<CbConfig> = {}): (context: CoreContext<CbRecord>) => CausalBroadcastCore {
  const config = cbConfig(overrides);
  return (context) => new CausalBroadcastCore(context, config);
}
