import { assert, assertNever, ErrorCode } from '../../core/errors.js';
import type { NodeId, RequestId } from '../../core/ids.js';
import { type CoreContext, type Input, type InputHandlers, type Output, OutputBuilder, type ProtocolCore, stepWith } from '../../core/protocol.js';
import { genesisDigest, primaryOf, type Quorums, verifyCheckpoint, verifyCertificate, verifyPrepare, verifyPrePrepare, verifyProof, verifyRequest } from './certificates.js';
import { type PbftConfig, pbftTimers } from './config.js';
import { checkpointPayload, prePreparePayload, preparePayload, requestDigest, signPayload } from './crypto.js';
import { ReplicaLog } from './log.js';
import { CounterMachine, snapshotDigest } from './state-machine.js';
import {
  type Checkpoint, type CheckpointProof, type ClientRequest, type ExecutedEntry, nullDigest, type PbftMessage, type PbftRecord, type PbftReply, type PbftRequest, type Prepare,
  type PrePrepare, type StateSnapshot,
} from './types.js';
import { parseClientRequest, parseMessage, type ShapeLimits, shapeLimits } from './validate.js';
import { ViewChanger } from './view-change.js';

export type PbftOutput = Output<PbftMessage, PbftRecord, PbftReply>;

/** Why messages were dropped (a Byzantine peer's lies end up here). */
export interface DropCounts {
  shape: number;
  signature: number;
  certificate: number;
  stale: number;
}

const requestKey = (request: { readonly client: string; readonly timestamp: number }): string => `${request.client}@${request.timestamp}`;

/**
 * A PBFT replica (§4). Honest code: a Byzantine node runs this too, with the simulator's
 * adversary rewriting what it sends. The view-change protocol lives in `ViewChanger`.
 */
export class PbftReplica implements ProtocolCore<PbftMessage, PbftRecord, PbftRequest, PbftReply> {
  readonly id: NodeId;
  readonly tickDriven = false;
  readonly out: OutputBuilder<PbftMessage, PbftRecord, PbftReply>;
  readonly quorums: Quorums;
  readonly peers: readonly NodeId[];
  readonly log = new ReplicaLog();
  readonly limits: ShapeLimits;
  readonly dropped: DropCounts = { shape: 0, signature: 0, certificate: 0, stale: 0 };
  /** What this incarnation executed, in order (checkers read it incrementally). */
  readonly executed: ExecutedEntry[] = [];
  readonly viewChanger: ViewChanger;
  view = 0;
  /** True between sending a view-change for `view` and accepting its new-view. */
  changing = false;
  /** Primary: the last sequence number assigned; never at or below `floorSeq` of the view. */
  lastAssigned = 0;
  lastExecuted = 0;
  stable: { proof: CheckpointProof; snapshot: StateSnapshot };
  private machine = new CounterMachine();
  /** Own checkpoints not yet stable: the signed vote and the state it names. */
  private readonly ownCheckpoints = new Map<number, { readonly vote: Checkpoint; readonly snapshot: StateSnapshot }>();
  /** Requests known and not executed (they run the view-change timer), by client@timestamp. */
  readonly waiting = new Map<string, ClientRequest>();
  /** Primary: requests assigned in this view (no second sequence number for one request). */
  readonly assigned = new Set<string>();
  /** Primary: requests waiting for the window to open. */
  private readonly queue = new Map<string, ClientRequest>();
  /** Client request ids to answer when their request executes. */
  private readonly held = new Map<string, RequestId[]>();
  private heldCount = 0;
  viewTimerRunning = false;

  constructor(context: CoreContext<PbftRecord>, readonly config: PbftConfig) {
    this.id = context.id;
    const members = [...context.peers].sort();
    const f = Math.floor((members.length - 1) / 3);
    assert(members.includes(context.id), 'pbft: a replica is one of its members');
    this.peers = members.filter((member) => member !== context.id);
    this.quorums = {
      keySeed: config.keySeed,
      members,
      f,
      windowSeqs: config.windowSeqs,
      prepareQuorum: config.testingBugs.prepareWithFPrepares ? f : 2 * f,
      ignorePreparedCertificates: config.testingBugs.ignorePreparedCertificates,
    };
    this.limits = shapeLimits(config, members.length);
    this.out = new OutputBuilder(context.id);
    this.stable = { proof: { seq: 0, stateDigest: genesisDigest, checkpoints: [] }, snapshot: this.machine.snapshot() };
    this.viewChanger = new ViewChanger(this);
    this.recover(context.recovered);
  }

  start(): PbftOutput {
    this.out.setTimer(pbftTimers.status, this.config.statusTicks);
    if (this.changing) this.viewChanger.resendViewChange();
    return this.out.take();
  }

  private readonly handlers: InputHandlers<PbftMessage, PbftRequest> = {
    message: (from, message) => this.onMessage(from, message),
    request: (requestId, request) => this.onClientRequest(requestId, request),
    timer: (timer) => this.onTimer(timer),
  };

  step(input: Input<PbftMessage, PbftRequest>): PbftOutput {
    return stepWith(this.out, input, this.handlers);
  }

  // ----- inspection -----

  get f(): number {
    return this.quorums.f;
  }

  get isPrimary(): boolean {
    return primaryOf(this.quorums, this.view) === this.id;
  }

  get stableSeq(): number {
    return this.stable.proof.seq;
  }

  /** Entries held in memory (bounded by the window once checkpoints are stable). */
  get logSize(): number {
    return this.log.size;
  }

  broadcast(message: PbftMessage): void {
    for (const peer of this.peers) this.out.send(peer, message);
  }

  sign(payload: string): string {
    return signPayload(this.config.keySeed, this.id, payload);
  }

  inWindow(seq: number): boolean {
    return seq > this.stableSeq && seq <= this.stableSeq + this.config.windowSeqs;
  }

  // ----- recovery -----

  private recover(records: readonly PbftRecord[]): void {
    let floorSeq = 0;
    for (const record of records) {
      if (record.type === 'view') {
        this.view = record.view;
        this.changing = record.changing;
        floorSeq = record.floorSeq;
        this.log.clearSlots();
      } else if (record.type === 'stable') {
        if (record.proof.seq > this.stableSeq) this.installStable(record.proof, record.snapshot, false);
      } else if (record.type === 'pre-prepared') {
        if (record.prePrepare.view === this.view && this.inWindow(record.prePrepare.seq)) this.log.slot(record.prePrepare.seq).prePrepare = record.prePrepare;
        if (record.prePrepare.view === this.view) floorSeq = Math.max(floorSeq, record.prePrepare.seq);
      } else if (record.type === 'prepared') {
        if (this.inWindow(record.certificate.prePrepare.seq)) this.log.keepPrepared(record.certificate);
      } else if (record.type === 'committed') {
        if (record.seq > this.stableSeq) this.log.committed.set(record.seq, { digest: record.digest, request: record.request });
      } else assertNever(record);
    }
    this.lastAssigned = Math.max(floorSeq, this.stableSeq);
    for (const [seq, slot] of this.log.slots) {
      if (slot.prePrepare === null) continue;
      if (!this.isPrimary) slot.prepares.set(this.id, this.makePrepare(slot.prePrepare));
      const certificate = this.log.prepared.get(seq);
      if (certificate !== undefined && certificate.prePrepare.view === this.view) {
        slot.prepared = true;
        slot.commits.set(this.id, slot.prePrepare.digest);
      }
    }
    this.executeReady();
  }

  // ----- clients -----

  private onClientRequest(requestId: RequestId, submitted: PbftRequest): void {
    const request = parseClientRequest((submitted as { request?: unknown } | null)?.request);
    if (request === null || !verifyRequest(this.quorums, request)) {
      this.out.reply(requestId, { type: 'error', code: ErrorCode.InvalidArgument, message: 'a request needs a well-formed, signed client request' });
      return;
    }
    const cached = this.machine.cachedResult(request.client, request.timestamp);
    if (cached !== null) {
      this.replyResult(requestId, request, cached);
      return;
    }
    if (request.timestamp < this.machine.lastTimestamp(request.client)) {
      this.out.reply(requestId, { type: 'error', code: ErrorCode.InvalidArgument, message: 'a newer request of this client already executed' });
      return;
    }
    if (this.heldCount >= this.config.heldRepliesMax) {
      this.out.reply(requestId, { type: 'error', code: ErrorCode.Overloaded, message: 'too many requests awaiting replies' });
      return;
    }
    const key = requestKey(request);
    this.held.set(key, [...(this.held.get(key) ?? []), requestId]);
    this.heldCount += 1;
    // §4.1: the client's request reaches every replica (so each can time the primary out).
    if (!this.isPrimary) this.broadcast({ type: 'request', request });
    this.receiveRequest(request);
  }

  private replyResult(requestId: RequestId, request: ClientRequest, result: string): void {
    this.out.reply(requestId, { type: 'result', view: this.view, client: request.client, timestamp: request.timestamp, replica: this.id, result });
  }

  /** A valid request, from its client or relayed: wait for it, and as primary assign it. */
  private receiveRequest(request: ClientRequest): void {
    if (request.timestamp <= this.machine.lastTimestamp(request.client)) return;
    const key = requestKey(request);
    if (!this.waiting.has(key) && this.waiting.size < this.config.pendingRequestsMax) this.waiting.set(key, request);
    this.armViewTimer(false);
    if (this.isPrimary && !this.changing) this.assign(request);
  }

  /** Primary (§4.2): a sequence number in the window, a signed pre-prepare to every backup. */
  assign(request: ClientRequest): void {
    const key = requestKey(request);
    if (this.assigned.has(key) || request.timestamp <= this.machine.lastTimestamp(request.client)) return;
    if (!this.inWindow(this.lastAssigned + 1)) {
      if (this.queue.size < this.config.pendingRequestsMax) this.queue.set(key, request);
      return;
    }
    this.lastAssigned += 1;
    this.assigned.add(key);
    const fields = { view: this.view, seq: this.lastAssigned, digest: requestDigest(request), replica: this.id };
    const prePrepare: PrePrepare = { type: 'pre-prepare', ...fields, request, signature: this.sign(prePreparePayload(fields)) };
    this.acceptPrePrepare(prePrepare);
  }

  private drainQueue(): void {
    if (!this.isPrimary || this.changing) return;
    for (const [key, request] of this.queue) {
      if (!this.inWindow(this.lastAssigned + 1)) return;
      this.queue.delete(key);
      this.assign(request);
    }
  }

  // ----- messages -----

  private onMessage(from: NodeId, raw: PbftMessage): void {
    if (!this.peers.includes(from)) return;
    const message = parseMessage(raw, this.limits);
    if (message === null) {
      this.dropped.shape += 1;
      return;
    }
    switch (message.type) {
      case 'request':
        if (verifyRequest(this.quorums, message.request)) this.receiveRequest(message.request);
        else this.dropped.signature += 1;
        break;
      case 'pre-prepare':
        this.onPrePrepare(from, message);
        break;
      case 'prepare':
        this.onPrepare(from, message);
        break;
      case 'commit':
        this.onCommit(from, message);
        break;
      case 'checkpoint':
        this.onCheckpoint(from, message);
        break;
      case 'view-change':
        this.viewChanger.onViewChange(from, message);
        break;
      case 'new-view':
        this.viewChanger.onNewView(from, message);
        break;
      case 'status':
        this.onStatus(from, message);
        break;
      case 'state':
        this.onState(message.proof, message.snapshot);
        break;
      default:
        assertNever(message);
    }
  }

  private current(view: number, seq: number): boolean {
    if (view === this.view && !this.changing && this.inWindow(seq)) return true;
    this.dropped.stale += 1;
    return false;
  }

  private onPrePrepare(from: NodeId, message: PrePrepare): void {
    if (from !== message.replica || !this.current(message.view, message.seq)) return;
    if (!verifyPrePrepare(this.quorums, message)) {
      this.dropped.signature += 1;
      return;
    }
    const slot = this.log.slot(message.seq);
    if (slot.prePrepare !== null) {
      // The primary retransmits: someone lacks prepares. A different digest is equivocation: ignored.
      if (slot.prePrepare.digest === message.digest && !this.isPrimary) this.broadcast(slot.prepares.get(this.id)!);
      return;
    }
    this.acceptPrePrepare(message);
  }

  /** Logs a pre-prepare (durably, before our prepare or pre-prepare leaves) and sends it on. */
  acceptPrePrepare(message: PrePrepare): void {
    assert(message.view === this.view && !this.changing, 'pbft: pre-prepares belong to the current view');
    const slot = this.log.slot(message.seq);
    slot.prePrepare = message;
    if (message.request !== null && this.isPrimary) this.assigned.add(requestKey(message.request));
    this.out.persist({ type: 'pre-prepared', prePrepare: message }, { sync: true });
    if (this.isPrimary) {
      this.broadcast(message);
    } else {
      const prepare = this.makePrepare(message);
      slot.prepares.set(this.id, prepare);
      this.broadcast(prepare);
    }
    if (message.request !== null) this.receiveRequest(message.request);
    this.armViewTimer(false);
    this.maybePrepared(message.seq);
  }

  private makePrepare(message: PrePrepare): Prepare {
    const fields = { view: message.view, seq: message.seq, digest: message.digest, replica: this.id };
    return { type: 'prepare', ...fields, signature: this.sign(preparePayload(fields)) };
  }

  private onPrepare(from: NodeId, message: Prepare): void {
    if (from !== message.replica || !this.current(message.view, message.seq)) return;
    if (!verifyPrepare(this.quorums, message)) {
      this.dropped.signature += 1;
      return;
    }
    this.log.slot(message.seq).prepares.set(from, message);
    this.maybePrepared(message.seq);
  }

  /** Prepared (§4.2): the pre-prepare and 2f matching prepares. Durable before our commit leaves. */
  private maybePrepared(seq: number): void {
    const slot = this.log.slot(seq);
    if (slot.prePrepare === null || slot.prepared) return;
    const prepares = slot.matchingPrepares();
    if (prepares.length < this.quorums.prepareQuorum) return;
    slot.prepared = true;
    const certificate = { prePrepare: slot.prePrepare, prepares: prepares.slice(0, this.quorums.prepareQuorum) };
    assert(this.config.testingBugs.prepareWithFPrepares || verifyCertificate(this.quorums, certificate), 'pbft: a certificate we assemble verifies');
    this.log.keepPrepared(certificate);
    this.out.persist({ type: 'prepared', certificate }, { sync: true });
    slot.commits.set(this.id, slot.prePrepare.digest);
    this.broadcast(this.makeCommit(seq));
    this.maybeCommitted(seq);
  }

  private makeCommit(seq: number): PbftMessage {
    const prePrepare = this.log.slot(seq).prePrepare!;
    return { type: 'commit', view: prePrepare.view, seq, digest: prePrepare.digest, replica: this.id };
  }

  private onCommit(from: NodeId, message: { readonly view: number; readonly seq: number; readonly digest: string; readonly replica: NodeId }): void {
    if (from !== message.replica) return;
    // During a view change, commits of the view we left still complete what we prepared there:
    // committing changes nothing our view-change reported.
    const slot = this.log.slots.get(message.seq);
    const leftView = this.changing && slot?.prepared === true && slot.prePrepare!.view === message.view;
    if (!leftView && !this.current(message.view, message.seq)) return;
    this.log.slot(message.seq).commits.set(from, message.digest);
    this.maybeCommitted(message.seq);
  }

  /** Committed-local (§4.2): prepared and 2f + 1 matching commits. */
  private maybeCommitted(seq: number): void {
    const slot = this.log.slot(seq);
    if (!slot.prepared || slot.committed) return;
    if (!this.config.testingBugs.executeWhenPrepared && slot.matchingCommits() < 2 * this.f + 1) return;
    slot.committed = true;
    const prePrepare = slot.prePrepare!;
    this.log.committed.set(seq, { digest: prePrepare.digest, request: prePrepare.request });
    this.out.persist({ type: 'committed', seq, digest: prePrepare.digest, request: prePrepare.request }, { sync: false });
    this.executeReady();
  }

  // ----- execution -----

  /** Executes committed requests in sequence order (§4.2), answering held clients. */
  private executeReady(): void {
    let progressed = false;
    const executedBefore = this.executed.length;
    for (let next = this.log.committed.get(this.lastExecuted + 1); next !== undefined; next = this.log.committed.get(this.lastExecuted + 1)) {
      this.lastExecuted += 1;
      const result = next.request === null ? null : this.machine.execute(next.request);
      this.executed.push({ seq: this.lastExecuted, digest: next.digest, request: next.request, result, transferred: false, stateDigest: null });
      if (next.request !== null) {
        progressed = true;
        this.settle(next.request.client);
      }
      if (this.lastExecuted % this.config.checkpointInterval === 0) this.makeCheckpoint();
    }
    if (progressed) this.viewChanger.progressed();
    if (progressed || this.executed.length > executedBefore) this.armViewTimer(true);
  }

  /** A request of `client` executed: answer its held clients, stop waiting for its older requests. */
  private settle(client: string): void {
    const last = this.machine.lastTimestamp(client);
    for (const [key, request] of this.waiting) if (request.client === client && request.timestamp <= last) this.waiting.delete(key);
    for (const [key, request] of this.queue) if (request.client === client && request.timestamp <= last) this.queue.delete(key);
    const key = `${client}@${last}`;
    const requestIds = this.held.get(key);
    if (requestIds === undefined) return;
    this.held.delete(key);
    this.heldCount -= requestIds.length;
    const result = this.machine.cachedResult(client, last)!;
    for (const requestId of requestIds) this.out.reply(requestId, { type: 'result', view: this.view, client, timestamp: last, replica: this.id, result });
  }

  /**
   * The view-change timer runs while a known request waits (§4.4): started when one arrives,
   * restarted when one executes and others still wait, stopped when none does.
   */
  armViewTimer(restart: boolean): void {
    if (this.changing) return;
    if (!this.awaitsProgress()) {
      if (this.viewTimerRunning) this.out.setTimer(pbftTimers.viewChange, null);
      this.viewTimerRunning = false;
    } else if (restart || !this.viewTimerRunning) {
      this.out.setTimer(pbftTimers.viewChange, this.viewChanger.timeoutTicks());
      this.viewTimerRunning = true;
    }
  }

  /** A known request, or a pre-prepared sequence number, is not executed yet. */
  private awaitsProgress(): boolean {
    if (this.waiting.size > 0) return true;
    for (const [seq, slot] of this.log.slots) if (seq > this.lastExecuted && slot.prePrepare !== null) return true;
    return false;
  }

  // ----- checkpoints and state transfer -----

  private makeCheckpoint(): void {
    const snapshot = this.machine.snapshot();
    const fields = { seq: this.lastExecuted, stateDigest: snapshotDigest(snapshot), replica: this.id };
    const vote: Checkpoint = { type: 'checkpoint', ...fields, signature: this.sign(checkpointPayload(fields)) };
    this.ownCheckpoints.set(vote.seq, { vote, snapshot });
    this.executed[this.executed.length - 1] = { ...this.executed.at(-1)!, stateDigest: fields.stateDigest };
    this.broadcast(vote);
    this.countCheckpoint(vote);
  }

  private onCheckpoint(from: NodeId, message: Checkpoint): void {
    if (from !== message.replica || message.seq % this.config.checkpointInterval !== 0 || !this.inWindow(message.seq)) {
      this.dropped.stale += 1;
      return;
    }
    if (!verifyCheckpoint(this.quorums, message)) {
      this.dropped.signature += 1;
      return;
    }
    this.countCheckpoint(message);
  }

  private countCheckpoint(vote: Checkpoint): void {
    const proof = this.log.addCheckpoint(vote, 2 * this.f + 1);
    const own = proof === null ? undefined : this.ownCheckpoints.get(proof.seq);
    // Stable when 2f + 1 agree; we move there once we hold the state too (else a peer's status brings it).
    if (proof !== null && own !== undefined && own.vote.stateDigest === proof.stateDigest) this.installStable(proof, own.snapshot, true);
  }

  /** Makes `proof` the stable checkpoint, with `snapshot` as the state at it; collects the log below. */
  installStable(proof: CheckpointProof, snapshot: StateSnapshot, persist: boolean): void {
    assert(proof.seq > this.stableSeq && snapshotDigest(snapshot) === proof.stateDigest, 'pbft: a stable checkpoint moves forward and matches its state');
    this.stable = { proof, snapshot };
    if (persist) this.out.persist({ type: 'stable', proof, snapshot }, { sync: false });
    if (this.lastExecuted < proof.seq) {
      this.machine = CounterMachine.fromSnapshot(snapshot);
      this.lastExecuted = proof.seq;
      this.executed.push({ seq: proof.seq, digest: '', request: null, result: null, transferred: true, stateDigest: proof.stateDigest });
      const clients = new Set([...this.waiting.values(), ...this.queue.values()].map((request) => request.client));
      for (const key of this.held.keys()) clients.add(key.slice(0, key.lastIndexOf('@')));
      for (const client of clients) this.settle(client);
    }
    this.log.collect(proof.seq);
    for (const seq of this.ownCheckpoints.keys()) if (seq <= proof.seq) this.ownCheckpoints.delete(seq);
    this.lastAssigned = Math.max(this.lastAssigned, proof.seq);
    this.executeReady();
    this.drainQueue();
  }

  /** A new view's min-s: stable here too once we hold its state (else a peer's state transfer brings it). */
  adoptStable(proof: CheckpointProof): void {
    const own = this.ownCheckpoints.get(proof.seq);
    if (own !== undefined && own.vote.stateDigest === proof.stateDigest) this.installStable(proof, own.snapshot, true);
  }

  /** Sends the requests we wait for to the primary of the (new) view, or assigns them at it. */
  forwardWaiting(): void {
    const primary = primaryOf(this.quorums, this.view);
    let count = 0;
    for (const request of this.waiting.values()) {
      if (count++ >= this.config.retransmitBatch) return;
      if (primary === this.id) this.assign(request);
      else this.out.send(primary, { type: 'request', request });
    }
  }

  /** State transfer: a verified stable checkpoint ahead of us, with the state its digest names. */
  private onState(proof: CheckpointProof, snapshot: StateSnapshot): void {
    if (proof.seq <= this.stableSeq || proof.seq <= this.lastExecuted) return;
    if (!verifyProof(this.quorums, proof) || snapshotDigest(snapshot) !== proof.stateDigest) {
      this.dropped.certificate += 1;
      return;
    }
    this.installStable(proof, snapshot, true);
  }

  // ----- retransmission -----

  private onTimer(timer: string): void {
    if (timer === pbftTimers.status) {
      this.sendStatus();
    } else if (timer === pbftTimers.viewChange) {
      this.viewTimerRunning = false;
      this.viewChanger.onTimeout();
    }
  }

  private sendStatus(): void {
    this.broadcast({ type: 'status', view: this.view, changing: this.changing, executed: this.lastExecuted, stableSeq: this.stableSeq });
    if (this.changing) this.viewChanger.resendViewChange();
    else if (this.isPrimary) {
      this.drainQueue();
      this.padToCheckpoint();
    }
    // Relays can be lost: remind the primary of what we still wait for.
    else this.forwardWaiting();
    this.out.setTimer(pbftTimers.status, this.config.statusTicks);
  }

  /**
   * An idle primary fills up to the next checkpoint with null requests: everything executed
   * becomes part of a stable checkpoint, which reaches (by state transfer) replicas left behind —
   * even one stuck alone in a view change while the others stay in this view.
   */
  private padToCheckpoint(): void {
    if (this.waiting.size > 0 || this.queue.size > 0 || this.lastAssigned !== this.lastExecuted) return;
    while (this.lastAssigned % this.config.checkpointInterval !== 0 && this.inWindow(this.lastAssigned + 1)) {
      this.lastAssigned += 1;
      const fields = { view: this.view, seq: this.lastAssigned, digest: nullDigest, replica: this.id };
      this.acceptPrePrepare({ type: 'pre-prepare', ...fields, request: null, signature: this.sign(prePreparePayload(fields)) });
    }
  }

  /** A peer told us where it is: send what it lacks (new-view, state, this view's messages, checkpoints). */
  private onStatus(from: NodeId, status: { readonly view: number; readonly changing: boolean; readonly executed: number; readonly stableSeq: number }): void {
    if (status.executed < this.stableSeq) this.out.send(from, { type: 'state', proof: this.stable.proof, snapshot: this.stable.snapshot });
    if (this.changing) return;
    if (status.view < this.view || (status.view === this.view && status.changing)) {
      this.viewChanger.sendNewViewTo(from);
      return;
    }
    for (const { vote } of this.ownCheckpoints.values()) if (vote.seq > status.stableSeq) this.out.send(from, vote);
    // A peer already moving to a later view can still use commits of this one (see onCommit).
    const commitsOnly = status.view > this.view;
    const last = Math.min(status.executed + this.config.retransmitBatch, this.stableSeq + this.config.windowSeqs);
    for (let seq = Math.max(status.executed, this.stableSeq) + 1; seq <= last; seq += 1) {
      const slot = this.log.slots.get(seq);
      if (slot?.prePrepare == null) continue;
      if (!commitsOnly) this.out.send(from, this.isPrimary ? slot.prePrepare : slot.prepares.get(this.id)!);
      if (slot.prepared) this.out.send(from, this.makeCommit(seq));
    }
  }
}

export function pbftFactory(config: PbftConfig): (context: CoreContext<PbftRecord>) => PbftReplica {
  return (context) => new PbftReplica(context, config);
}
