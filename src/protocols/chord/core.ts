import { assert, assertNever, ErrorCode } from '../../core/errors.js';
import type { NodeId, RequestId } from '../../core/ids.js';
import { type CoreContext, type Input, type InputHandlers, type Output, OutputBuilder, type ProtocolCore, stepWith } from '../../core/protocol.js';
import type { Rng } from '../../core/rng.js';
import { type ChordConfig, successorListLength } from './config.js';
import { ChordStore } from './data.js';
import { chordId, type ChordId, fingerStart, idBits, inHalfOpenInterval, inOpenInterval, ringSize } from './ids.js';
import { findStep, normalizeSuccessors } from './routing.js';
import { type FindAnswer, type LookupResult, LookupTable } from './lookups.js';
import { ChordErrorCode, type ChordMessage, type ChordRecord, type ChordReply, type ChordRequest, type Item } from './types.js';
import { validateChordMessage, validateChordRequest } from './validate.js';

/** Per-node start-up choices of the host (the scenario, or a deployment's configuration). */
export interface ChordNodeOptions {
  /** This node creates the ring when it first starts (exactly one node should). */
  readonly creates: boolean;
  /** Ticks after its first start before a node that has not joined asks a member to let it in. */
  readonly joinAfterTicks: number;
}

const timers = { join: 'join', stabilize: 'stabilize', fixFingers: 'fix-fingers', checkPredecessor: 'check-predecessor', replicate: 'replicate', merge: 'merge' } as const;
type ChordOutput = Output<ChordMessage, ChordRecord, ChordReply>;
/** Client lookup hop counts kept per node (newest win). */
const hopSamplesMax = 1024;

/**
 * One Chord node (Stoica et al. 2001): join through any member (§4.5), stabilize / notify /
 * fixFingers / checkPredecessor on timers (§4.6), a successor list of r entries to survive
 * failures (§4.7), iterative lookups with a hop limit and a timeout per hop, and a periodic lookup
 * of its own successor through a random configured member so that rings split by a partition
 * merge again after it heals. Keys live in `store` (see `ChordStore`).
 */
export class ChordCore implements ProtocolCore<ChordMessage, ChordRecord, ChordRequest, ChordReply> {
  readonly id: NodeId;
  readonly tickDriven = false;
  readonly selfId: ChordId;
  readonly store: ChordStore;
  /** Hops of the client lookups this node answered (the scenario reports them). */
  readonly clientHops: number[] = [];
  /** Peer messages dropped as malformed. */
  malformed = 0;
  private readonly out: OutputBuilder<ChordMessage, ChordRecord, ChordReply>;
  private readonly members: readonly NodeId[];
  private readonly rng: Rng;
  private readonly lookups: LookupTable;
  private member = false;
  /** Invariant: strictly clockwise from this node, no duplicates, never itself, at most r entries. Empty: alone. */
  private successorList: NodeId[] = [];
  private predecessorNode: NodeId | null = null;
  private readonly fingers: (NodeId | null)[] = new Array<NodeId | null>(idBits).fill(null);
  private nextFinger = 0;
  private nonce = 0;
  /** Nonce of the oldest unanswered stabilize request to the first successor: any answer from then on counts (a slow answer is still an answer). */
  private neighboursSince: number | null = null;
  private successorMisses = 0;
  private pingSince: number | null = null;
  private predecessorMisses = 0;
  /** Messages to this node itself, handled after the current input (no re-entrant handlers). */
  private readonly local: ChordMessage[] = [];

  constructor(context: CoreContext<ChordRecord>, private readonly config: ChordConfig, private readonly options: ChordNodeOptions) {
    this.id = context.id;
    this.selfId = chordId(context.id);
    this.members = [...context.peers].filter((peer) => peer !== context.id).sort();
    this.rng = context.rng;
    this.out = new OutputBuilder(context.id);
    this.store = new ChordStore(this.ringAccess(), config);
    this.lookups = new LookupTable(this.lookupHost(), config);
    for (const record of context.recovered) this.replay(record);
  }

  start(): ChordOutput {
    if (this.member) this.startMaintenance();
    else if (this.options.creates) this.becomeMember(null);
    else this.out.setTimer(timers.join, this.options.joinAfterTicks);
    return this.out.take();
  }

  private readonly handlers: InputHandlers<ChordMessage, ChordRequest> = {
    message: (from, message) => this.afterLocal(() => this.onMessage(from, message)),
    request: (requestId, request) => this.afterLocal(() => this.onRequest(requestId, request)),
    timer: (timer) => this.afterLocal(() => this.onTimer(timer)),
  };

  step(input: Input<ChordMessage, ChordRequest>): ChordOutput {
    return stepWith(this.out, input, this.handlers);
  }

  // ----- inspection -----

  get joined(): boolean {
    return this.member;
  }

  get successors(): readonly NodeId[] {
    return this.successorList;
  }

  get predecessor(): NodeId | null {
    return this.predecessorNode;
  }

  /** True while a stabilize or ping round went unanswered (the failure detector may be about to drop a neighbour). */
  get suspecting(): boolean {
    return this.successorMisses > 0 || this.predecessorMisses > 0;
  }

  get fingerTable(): readonly (NodeId | null)[] {
    return this.fingers;
  }

  item(key: string): Item | undefined {
    return this.store.item(key);
  }

  // ----- wiring -----

  private ringAccess(): ConstructorParameters<typeof ChordStore>[0] {
    const predecessor = (): NodeId | null => this.predecessorNode;
    return {
      id: this.id,
      out: this.out,
      send: (to, message) => this.send(to, message),
      owns: (key) => this.owns(key),
      replicas: () => this.successorList.slice(0, this.config.successorsMax - 1),
      get predecessor() {
        return predecessor();
      },
      startLookup: (key, purpose, detail) => this.lookups.start({ key, purpose, detail }, null),
    };
  }

  private lookupHost(): ConstructorParameters<typeof LookupTable>[0] {
    return {
      id: this.id,
      send: (to, message) => this.send(to, message),
      setTimer: (timer, afterTicks) => this.out.setTimer(timer, afterTicks),
      answer: (key, avoid) => this.answer(key, avoid),
      found: (result, owner, hops) => this.lookupFound(result, owner, hops),
      failed: (result, code) => this.lookupFailed(result, code),
    };
  }

  private send(to: NodeId, message: ChordMessage): void {
    if (to === this.id) this.local.push(message);
    else this.out.send(to, message);
  }

  private afterLocal(handle: () => void): void {
    handle();
    for (let handled = 0; this.local.length > 0; handled += 1) {
      assert(handled <= 1000, 'chord: messages to itself keep causing more');
      this.onMessage(this.id, this.local.shift()!);
    }
  }

  private replay(record: ChordRecord): void {
    if (record.type === 'joined') this.member = true;
    else if (record.type === 'successors') this.successorList = normalizeSuccessors(this.id, record.successors, successorListLength(this.config));
    else this.store.recover(record);
  }

  // ----- membership -----

  private becomeMember(successor: NodeId | null): void {
    this.member = true;
    this.out.persist({ type: 'joined' }, { sync: true });
    this.out.setTimer(timers.join, null);
    if (successor !== null) {
      this.setSuccessors([successor]);
      this.send(successor, { type: 'transfer-request' });
    }
    this.startMaintenance();
  }

  private startMaintenance(): void {
    // Random first delays so that nodes started together do not stabilize in lock step.
    this.out.setTimer(timers.stabilize, this.rng.int(1, this.config.stabilizeTicks));
    this.out.setTimer(timers.fixFingers, this.rng.int(1, this.config.fixFingersTicks));
    this.out.setTimer(timers.checkPredecessor, this.rng.int(1, this.config.checkPredecessorTicks));
    this.out.setTimer(timers.replicate, this.rng.int(1, this.config.replicateTicks));
    this.out.setTimer(timers.merge, this.rng.int(1, this.config.mergeTicks));
  }

  private owns(key: string): boolean {
    return this.member && this.predecessorNode !== null && inHalfOpenInterval(chordId(key), chordId(this.predecessorNode), this.selfId);
  }

  private setSuccessors(candidates: readonly NodeId[]): void {
    const list = normalizeSuccessors(this.id, candidates, successorListLength(this.config));
    if (list.length === this.successorList.length && list.every((node, index) => node === this.successorList[index])) return;
    if (list[0] !== this.successorList[0]) {
      this.neighboursSince = null;
      this.successorMisses = 0;
    }
    this.successorList = list;
    this.out.persist({ type: 'successors', successors: list }, { sync: false });
  }

  // ----- lookups -----

  /** find_successor's step at this node (§4.4), skipping `avoid`. */
  private answer(key: ChordId, avoid: readonly NodeId[]): FindAnswer {
    return findStep({ self: this.id, successors: this.successorList, fingers: this.fingers }, key, avoid);
  }

  private lookupFound(result: LookupResult, owner: NodeId, hops: number): void {
    switch (result.purpose) {
      case 'client':
        if (this.clientHops.length >= hopSamplesMax) this.clientHops.shift();
        this.clientHops.push(hops);
        this.out.reply(result.detail, { type: 'owner', owner, hops });
        break;
      case 'put':
      case 'get':
        this.store.ownerFound(result.detail, owner, hops);
        break;
      case 'finger':
        this.setFinger(result.detail, owner);
        break;
      case 'join':
        // An answer naming this node comes from a stale pointer to an earlier incarnation: ask again later.
        if (!this.member && owner !== this.id) this.becomeMember(owner);
        break;
      case 'merge':
        this.maybeAdoptSuccessor(owner);
        break;
      default:
        assertNever(result.purpose, 'lookup purpose');
    }
  }

  private lookupFailed(result: LookupResult, code: string): void {
    if (result.purpose === 'client') this.out.reply(result.detail, { type: 'error', code, message: 'the lookup did not reach the owner' });
    else if (result.purpose === 'put' || result.purpose === 'get') this.store.lookupFailed(result.detail, code);
  }

  // ----- messages -----

  private onMessage(from: NodeId, message: ChordMessage): void {
    const problem = validateChordMessage(message, this.config);
    if (problem !== null || (from !== this.id && !this.members.includes(from))) {
      this.malformed += 1;
      return;
    }
    if (this.lookups.onMessage(from, message) || this.store.onMessage(from, message)) return;
    this.onRingMessage(from, message);
  }

  private onRingMessage(from: NodeId, message: ChordMessage): void {
    // A node outside a ring answers nothing but lookups (with a refusal): it must not look alive as a successor.
    if (!this.member) {
      if (message.type === 'find') this.send(from, { type: 'refuse', lookup: message.lookup });
      return;
    }
    switch (message.type) {
      case 'find': {
        const answer = this.answer(message.key, message.avoid);
        this.send(from, answer.type === 'found' ? { type: 'found', lookup: message.lookup, owner: answer.owner } : { type: 'next', lookup: message.lookup, next: answer.next });
        break;
      }
      case 'get-neighbours':
        this.send(from, { type: 'neighbours', nonce: message.nonce, predecessor: this.predecessorNode, successors: this.successorList });
        break;
      case 'neighbours':
        this.onNeighbours(from, message.nonce, message.predecessor, message.successors);
        break;
      case 'notify':
        this.onNotify(from);
        break;
      case 'ping':
        this.send(from, { type: 'pong', nonce: message.nonce });
        break;
      case 'pong':
        if (from === this.predecessorNode && this.pingSince !== null && message.nonce >= this.pingSince) {
          this.pingSince = null;
          this.predecessorMisses = 0;
        }
        break;
      default:
        break; // lookup and data messages were handled above
    }
  }

  /** Stabilize's answer (§4.6): adopt the successor's predecessor if it lies between us, then notify. */
  private onNeighbours(from: NodeId, nonce: number, predecessor: NodeId | null, theirs: readonly NodeId[]): void {
    if (from !== this.successorList[0] || this.neighboursSince === null || nonce < this.neighboursSince) return;
    this.neighboursSince = null;
    this.successorMisses = 0;
    const between = predecessor !== null && predecessor !== this.id && inOpenInterval(chordId(predecessor), this.selfId, chordId(from));
    this.setSuccessors(between ? [predecessor, from, ...theirs] : [from, ...theirs]);
    this.send(this.successorList[0]!, { type: 'notify' });
  }

  private onNotify(from: NodeId): void {
    if (from === this.id) return;
    if (from === this.predecessorNode) {
      this.predecessorMisses = 0;
      return;
    }
    const old = this.predecessorNode;
    if (old !== null && !inOpenInterval(chordId(from), chordId(old), this.selfId)) return;
    this.predecessorNode = from;
    this.predecessorMisses = 0;
    this.pingSince = null;
    // The new predecessor now owns (old, from] and replicates what precedes it: hand it over.
    this.store.handOver(from);
  }

  private maybeAdoptSuccessor(candidate: NodeId): void {
    const successor = this.successorList[0];
    if (candidate === this.id) return;
    if (successor === undefined || inOpenInterval(chordId(candidate), this.selfId, chordId(successor))) this.setSuccessors([candidate, ...this.successorList]);
  }

  // ----- client requests -----

  private onRequest(requestId: RequestId, request: ChordRequest): void {
    const problem = validateChordRequest(request, this.config);
    if (problem !== null) {
      this.out.reply(requestId, { type: 'error', code: ErrorCode.InvalidArgument, message: problem });
      return;
    }
    if (!this.member) {
      this.out.reply(requestId, { type: 'error', code: ChordErrorCode.NotMember, message: `${this.id} has not joined the ring yet` });
      return;
    }
    if (request.type === 'put') this.store.begin(requestId, 'put', request.key, { key: request.key, value: request.value, version: request.version });
    else if (request.type === 'get') this.store.begin(requestId, 'get', request.key, null);
    else if (!this.lookups.start({ key: chordId(request.key), purpose: 'client', detail: requestId }, null)) {
      this.out.reply(requestId, { type: 'error', code: ErrorCode.Overloaded, message: 'too many lookups in progress' });
    }
  }

  // ----- timers -----

  private onTimer(timer: string): void {
    if (this.lookups.onTimer(timer) || this.store.onTimer(timer)) return;
    switch (timer) {
      case timers.join:
        this.tryJoin();
        break;
      case timers.stabilize:
        this.out.setTimer(timers.stabilize, this.config.stabilizeTicks);
        this.stabilize();
        break;
      case timers.fixFingers:
        this.out.setTimer(timers.fixFingers, this.config.fixFingersTicks);
        this.fixFinger();
        break;
      case timers.checkPredecessor:
        this.out.setTimer(timers.checkPredecessor, this.config.checkPredecessorTicks);
        this.checkPredecessor();
        break;
      case timers.replicate:
        this.out.setTimer(timers.replicate, this.config.replicateTicks);
        this.store.replicate();
        // Pull what lies behind the successor (a lost handover is not retried otherwise).
        if (this.successorList[0] !== undefined) this.send(this.successorList[0], { type: 'transfer-request' });
        break;
      case timers.merge:
        this.out.setTimer(timers.merge, this.config.mergeTicks);
        this.lookupOwnSuccessor('merge');
        break;
    }
  }

  private tryJoin(): void {
    if (this.member) return;
    this.out.setTimer(timers.join, this.config.joinRetryTicks);
    this.lookupOwnSuccessor('join');
  }

  /** Asks a random configured member for the successor of this node's id (join, and ring merging). */
  private lookupOwnSuccessor(purpose: 'join' | 'merge'): void {
    if (this.members.length === 0 || this.lookups.size >= this.config.lookupsMax / 2) return;
    this.lookups.start({ key: (this.selfId + 1) % ringSize, purpose, detail: 0 }, this.rng.pick(this.members));
  }

  private stabilize(): void {
    if (this.successorList.length === 0) {
      // Alone (§4.6: successor = self): a node that notified us is the way back into the ring.
      if (this.predecessorNode !== null) this.setSuccessors([this.predecessorNode]);
      return;
    }
    if (this.neighboursSince !== null) {
      this.successorMisses += 1;
      if (this.successorMisses >= this.config.missesMax) this.dropSuccessor();
    }
    const successor = this.successorList[0];
    if (successor === undefined) return;
    this.nonce += 1;
    this.neighboursSince ??= this.nonce;
    this.send(successor, { type: 'get-neighbours', nonce: this.nonce });
  }

  /** §4.7: the first successor failed; the next live entry of the list takes its place. */
  private dropSuccessor(): void {
    const failed = this.successorList[0]!;
    this.setSuccessors(this.successorList.slice(1));
    for (let index = 0; index < idBits; index += 1) if (this.fingers[index] === failed) this.fingers[index] = null;
    this.neighboursSince = null;
    this.successorMisses = 0;
  }

  private checkPredecessor(): void {
    if (this.predecessorNode === null) return;
    if (this.pingSince !== null) {
      this.predecessorMisses += 1;
      if (this.predecessorMisses >= this.config.missesMax) {
        this.predecessorNode = null;
        this.pingSince = null;
        this.predecessorMisses = 0;
        return;
      }
    }
    this.nonce += 1;
    this.pingSince ??= this.nonce;
    this.send(this.predecessorNode, { type: 'ping', nonce: this.nonce });
  }

  private fixFinger(): void {
    if (!this.member || this.lookups.size >= this.config.lookupsMax / 2) return;
    const index = this.nextFinger;
    this.lookups.start({ key: fingerStart(this.selfId, index), purpose: 'finger', detail: index }, null);
  }

  /** Finger `index` is `owner`; so is every next finger whose start lies in (self, owner]. */
  private setFinger(index: number, owner: NodeId): void {
    const value = owner === this.id ? null : owner;
    this.fingers[index] = value;
    let next = index + 1;
    for (; value !== null && next < idBits && inHalfOpenInterval(fingerStart(this.selfId, next), this.selfId, chordId(owner)); next += 1) this.fingers[next] = value;
    this.nextFinger = next % idBits;
  }
}
