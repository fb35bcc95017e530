import { requirePositiveIntegers, withOverrides } from '../../core/config-check.js';
import { assertNever, ConcordError, ErrorCode } from '../../core/errors.js';
import type { NodeId, RequestId } from '../../core/ids.js';
import { type CoreContext, type Input, type InputHandlers, type Output, OutputBuilder, type ProtocolCore, stepWith } from '../../core/protocol.js';
import type { Rng } from '../../core/rng.js';
import { type AcceptedEntry, type Ballot, ballotStride, type PaxosMessage, type PaxosRecord, type PaxosReply, type PaxosRequest, type PaxosValue } from './types.js';

export interface PaxosConfig {
  /** A follower that hears no leader for [electionTicks, 2 × electionTicks) starts phase 1. */
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** Unanswered prepares and accepts are resent this often. */
  readonly resendTicks: number;
  /** Chosen entries sent per catch-up answer. */
  readonly catchupBatch: number;
  /**
   * TEST-ONLY bug switch: `ignorePromisedValues` — a new leader proposes its own values in every
   * open slot instead of the highest-ballot value the promises reported (the step that makes
   * Paxos safe).
   */
  readonly testingBugs: { readonly ignorePromisedValues: boolean };
}

export const defaultPaxosConfig: PaxosConfig = { electionTicks: 20, heartbeatTicks: 5, resendTicks: 5, catchupBatch: 64, testingBugs: { ignorePromisedValues: false } };

export function paxosConfig(overrides: Partial<PaxosConfig> = {}): PaxosConfig {
  const config = withOverrides(defaultPaxosConfig, overrides);
  requirePositiveIntegers('multi-paxos', config, ['electionTicks', 'heartbeatTicks', 'resendTicks', 'catchupBatch']);
  if (config.heartbeatTicks >= config.electionTicks) throw new ConcordError(ErrorCode.InvalidConfig, 'multi-paxos: heartbeatTicks must be below electionTicks');
  return config;
}

type Role = 'follower' | 'candidate' | 'leader';

interface Pending {
  readonly value: PaxosValue;
  readonly acks: Set<NodeId>;
  requestId: RequestId | null;
}

const timers = { election: 'election', heartbeat: 'heartbeat', resend: 'resend' } as const;
type PaxosOutput = Output<PaxosMessage, PaxosRecord, PaxosReply>;

export class MultiPaxosCore implements ProtocolCore<PaxosMessage, PaxosRecord, PaxosRequest, PaxosReply> {
  readonly id: NodeId;
  readonly tickDriven = false;
  private readonly out: OutputBuilder<PaxosMessage, PaxosRecord, PaxosReply>;
  private readonly members: readonly NodeId[];
  private readonly peers: readonly NodeId[];
  private readonly majority: number;
  private readonly rng: Rng;
  // Acceptor (durable).
  private promised: Ballot = -1;
  private readonly accepted = new Map<number, AcceptedEntry>();
  // Learner.
  private readonly chosen = new Map<number, PaxosValue>();
  /** Chosen slots in the order this incarnation learned them (checkers read it incrementally). */
  readonly learned: { readonly slot: number; readonly value: PaxosValue }[] = [];
  private chosenThroughSlot = 0;
  private highestChosen = 0;
  // Proposer.
  private role: Role = 'follower';
  private ballot: Ballot = -1;
  private leaderHint: NodeId | null = null;
  private readonly promises = new Map<NodeId, readonly AcceptedEntry[]>();
  private readonly pending = new Map<number, Pending>();
  private nextSlot = 1;

  constructor(context: CoreContext<PaxosRecord>, private readonly config: PaxosConfig) {
    this.id = context.id;
    this.members = [...context.peers].sort();
    this.peers = this.members.filter((member) => member !== context.id);
    this.majority = Math.floor(this.members.length / 2) + 1;
    this.rng = context.rng;
    this.out = new OutputBuilder(context.id);
    for (const record of context.recovered) this.replay(record);
  }

  start(): PaxosOutput {
    this.armElection();
    return this.out.take();
  }

  private readonly handlers: InputHandlers<PaxosMessage, PaxosRequest> = {
    message: (from, message) => this.onMessage(from, message),
    request: (requestId, request) => this.onPropose(requestId, request),
    timer: (timer) => this.onTimer(timer),
  };

  step(input: Input<PaxosMessage, PaxosRequest>): PaxosOutput {
    return stepWith(this.out, input, this.handlers);
  }

  // ----- inspection -----

  get isLeader(): boolean {
    return this.role === 'leader';
  }

  get currentBallot(): Ballot {
    return this.ballot;
  }

  /** Highest slot s such that every slot ≤ s is chosen here. */
  get chosenThrough(): number {
    return this.chosenThroughSlot;
  }

  chosenValue(slot: number): PaxosValue | undefined {
    return this.chosen.get(slot);
  }

  get highestChosenSlot(): number {
    return this.highestChosen;
  }

  // ----- recovery -----

  private replay(record: PaxosRecord): void {
    if (record.type === 'promised') this.promised = Math.max(this.promised, record.ballot);
    else if (record.type === 'accepted') {
      this.accepted.set(record.entry.slot, record.entry);
      this.promised = Math.max(this.promised, record.entry.ballot);
    } else this.learn(record.slot, record.value, false);
  }

  // ----- messages -----

  private onMessage(from: NodeId, message: PaxosMessage): void {
    if (!this.peers.includes(from)) return;
    switch (message.type) {
      case 'prepare':
        this.onPrepare(from, message.ballot, message.fromSlot);
        break;
      case 'promise':
        this.onPromise(from, message.ballot, message.accepted);
        break;
      case 'accept':
        this.onAccept(from, message.ballot, message.slot, message.value);
        break;
      case 'accepted':
        this.onAccepted(from, message.ballot, message.slot);
        break;
      case 'nack':
        this.onNack(message.promised);
        break;
      case 'chosen':
        this.learn(message.slot, message.value, true);
        break;
      case 'heartbeat':
        this.onHeartbeat(from, message.ballot, message.chosenThrough);
        break;
      case 'catchup':
        this.onCatchup(from, message.fromSlot);
        break;
      case 'entries':
        for (const entry of message.entries) this.learn(entry.slot, entry.value, true);
        break;
      default:
        assertNever(message);
    }
  }

  private onPrepare(from: NodeId, ballot: Ballot, fromSlot: number): void {
    if (ballot < this.promised) {
      this.out.send(from, { type: 'nack', promised: this.promised });
      return;
    }
    if (ballot > this.promised) {
      this.promised = ballot;
      this.out.persist({ type: 'promised', ballot }, { sync: true });
    }
    this.followLeader(ballot);
    const accepted = [...this.accepted.values()].filter((entry) => entry.slot >= fromSlot);
    this.out.send(from, { type: 'promise', ballot, accepted });
  }

  private onAccept(from: NodeId, ballot: Ballot, slot: number, value: PaxosValue): void {
    if (ballot < this.promised) {
      this.out.send(from, { type: 'nack', promised: this.promised });
      return;
    }
    this.promised = ballot;
    this.followLeader(ballot);
    const previous = this.accepted.get(slot);
    if (previous === undefined || previous.ballot !== ballot) {
      const entry = { slot, ballot, value };
      this.accepted.set(slot, entry);
      this.out.persist({ type: 'accepted', entry }, { sync: true });
    }
    this.out.send(from, { type: 'accepted', ballot, slot });
  }

  private onHeartbeat(from: NodeId, ballot: Ballot, leaderChosenThrough: number): void {
    if (ballot < this.promised) {
      this.out.send(from, { type: 'nack', promised: this.promised });
      return;
    }
    this.followLeader(ballot);
    if (leaderChosenThrough > this.chosenThroughSlot) this.out.send(from, { type: 'catchup', fromSlot: this.chosenThroughSlot + 1 });
  }

  private onCatchup(from: NodeId, fromSlot: number): void {
    const entries: { slot: number; value: PaxosValue }[] = [];
    for (let slot = fromSlot; slot <= this.chosenThroughSlot && entries.length < this.config.catchupBatch; slot += 1) entries.push({ slot, value: this.chosen.get(slot)! });
    if (entries.length > 0) this.out.send(from, { type: 'entries', entries });
  }

  /** A ballot at least our promise is in charge: follow it (unless it is our own). */
  private followLeader(ballot: Ballot): void {
    const owner = this.members[ballot % ballotStride] ?? null;
    if (owner === this.id && ballot === this.ballot) return;
    if (this.role !== 'follower' && ballot > this.ballot) this.stepDown();
    this.leaderHint = owner;
    this.armElection();
  }

  // ----- proposer -----

  private onTimer(timer: string): void {
    if (timer === timers.election) this.campaign();
    else if (timer === timers.heartbeat) this.sendHeartbeats();
    else if (timer === timers.resend) this.resend();
  }

  private campaign(): void {
    if (this.role === 'leader') return;
    const round = Math.floor(Math.max(this.promised, this.ballot, 0) / ballotStride) + 1;
    this.ballot = round * ballotStride + this.members.indexOf(this.id);
    this.role = 'candidate';
    this.leaderHint = null;
    this.promises.clear();
    this.promised = this.ballot;
    this.out.persist({ type: 'promised', ballot: this.ballot }, { sync: true });
    this.promises.set(this.id, [...this.accepted.values()].filter((entry) => entry.slot > this.chosenThroughSlot));
    for (const peer of this.peers) this.out.send(peer, { type: 'prepare', ballot: this.ballot, fromSlot: this.chosenThroughSlot + 1 });
    this.out.setTimer(timers.resend, this.config.resendTicks);
    this.armElection();
    this.maybeLead();
  }

  private onPromise(from: NodeId, ballot: Ballot, accepted: readonly AcceptedEntry[]): void {
    if (this.role !== 'candidate' || ballot !== this.ballot) return;
    this.promises.set(from, accepted);
    this.maybeLead();
  }

  /** A majority promised: re-propose, per open slot, the value with the highest ballot reported. */
  private maybeLead(): void {
    if (this.role !== 'candidate' || this.promises.size < this.majority) return;
    this.role = 'leader';
    this.leaderHint = this.id;
    const highest = new Map<number, AcceptedEntry>();
    for (const entries of this.promises.values()) {
      for (const entry of entries) {
        const known = highest.get(entry.slot);
        if (known === undefined || entry.ballot > known.ballot) highest.set(entry.slot, entry);
      }
    }
    const top = Math.max(this.highestChosenSlot, ...highest.keys(), 0);
    for (let slot = this.chosenThroughSlot + 1; slot <= top; slot += 1) {
      if (this.chosen.has(slot)) continue;
      const reported = this.config.testingBugs.ignorePromisedValues ? undefined : highest.get(slot)?.value;
      this.propose(slot, reported ?? { type: 'noop' }, null);
    }
    this.nextSlot = top + 1;
    this.out.setTimer(timers.election, null);
    this.sendHeartbeats();
  }

  private onPropose(requestId: RequestId, request: PaxosRequest): void {
    if (typeof request.id !== 'string' || request.id.length === 0 || typeof request.command !== 'string') {
      this.out.reply(requestId, { type: 'error', code: ErrorCode.InvalidArgument, message: 'a proposal needs a string id and command' });
      return;
    }
    if (this.role !== 'leader') {
      this.out.reply(requestId, { type: 'not-leader', leader: this.leaderHint });
      return;
    }
    this.propose(this.nextSlot, { type: 'command', id: request.id, command: request.command }, requestId);
    this.nextSlot += 1;
  }

  private propose(slot: number, value: PaxosValue, requestId: RequestId | null): void {
    const pending: Pending = { value, acks: new Set(), requestId };
    this.pending.set(slot, pending);
    // Our own acceptor first (the ballot is our promise, so it accepts).
    const entry = { slot, ballot: this.ballot, value };
    this.accepted.set(slot, entry);
    this.out.persist({ type: 'accepted', entry }, { sync: true });
    pending.acks.add(this.id);
    for (const peer of this.peers) this.out.send(peer, { type: 'accept', ballot: this.ballot, slot, value });
    this.out.setTimer(timers.resend, this.config.resendTicks);
    this.maybeChoose(slot, pending);
  }

  private onAccepted(from: NodeId, ballot: Ballot, slot: number): void {
    if (this.role !== 'leader' || ballot !== this.ballot) return;
    const pending = this.pending.get(slot);
    if (pending === undefined) return;
    pending.acks.add(from);
    this.maybeChoose(slot, pending);
  }

  private maybeChoose(slot: number, pending: Pending): void {
    if (pending.acks.size < this.majority) return;
    this.pending.delete(slot);
    this.learn(slot, pending.value, true);
    for (const peer of this.peers) this.out.send(peer, { type: 'chosen', slot, value: pending.value });
    if (pending.requestId !== null) this.out.reply(pending.requestId, { type: 'chosen', slot });
  }

  private onNack(promised: Ballot): void {
    if (promised > this.ballot && this.role !== 'follower') this.stepDown();
  }

  private stepDown(): void {
    this.role = 'follower';
    this.promises.clear();
    for (const pending of this.pending.values()) if (pending.requestId !== null) this.out.reply(pending.requestId, { type: 'unknown' });
    this.pending.clear();
    this.out.setTimer(timers.heartbeat, null);
    this.out.setTimer(timers.resend, null);
    this.armElection();
  }

  private sendHeartbeats(): void {
    if (this.role !== 'leader') return;
    for (const peer of this.peers) this.out.send(peer, { type: 'heartbeat', ballot: this.ballot, chosenThrough: this.chosenThroughSlot });
    this.out.setTimer(timers.heartbeat, this.config.heartbeatTicks);
  }

  private resend(): void {
    if (this.role === 'candidate') {
      for (const peer of this.peers) if (!this.promises.has(peer)) this.out.send(peer, { type: 'prepare', ballot: this.ballot, fromSlot: this.chosenThroughSlot + 1 });
    } else if (this.role === 'leader') {
      for (const [slot, pending] of this.pending) {
        for (const peer of this.peers) if (!pending.acks.has(peer)) this.out.send(peer, { type: 'accept', ballot: this.ballot, slot, value: pending.value });
      }
    } else {
      return;
    }
    this.out.setTimer(timers.resend, this.config.resendTicks);
  }

  private armElection(): void {
    if (this.role === 'leader') return;
    this.out.setTimer(timers.election, this.config.electionTicks + this.rng.int(0, this.config.electionTicks - 1));
  }

  // ----- learner -----

  private learn(slot: number, value: PaxosValue, persist: boolean): void {
    if (this.chosen.has(slot)) return;
    this.chosen.set(slot, value);
    this.learned.push({ slot, value });
    this.highestChosen = Math.max(this.highestChosen, slot);
    if (persist) this.out.persist({ type: 'chosen', slot, value }, { sync: false });
    while (this.chosen.has(this.chosenThroughSlot + 1)) this.chosenThroughSlot += 1;
  }
}

export function multiPaxosFactory(overrides: Partial<PaxosConfig> = {}): (context: CoreContext<PaxosRecord>) => MultiPaxosCore {
  const config = paxosConfig(overrides);
  return (context) => new MultiPaxosCore(context, config);
}
