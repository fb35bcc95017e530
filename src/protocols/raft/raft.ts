import { assert, assertNever } from '../../core/errors.js';
import type { NodeId, RequestId } from '../../core/ids.js';
import { OutputBuilder, type CoreContext, type CoreFactory, type Input, type Output, type ProtocolCore } from '../../core/protocol.js';
import type { Rng } from '../../core/rng.js';
import { leaseDurationTicks, resolveRaftConfig, type RaftConfig } from './config.js';
import { IncrementalSnapshot } from './incremental-snapshot.js';
import { RaftLog } from './log.js';
import {
  allMembers,
  allVoters,
  applyMembershipChange,
  isJoint,
  isVoter,
  MembershipLog,
} from './membership.js';
import { Progress } from './progress.js';
import { committedValue, hasQuorum, voteResult } from './quorum.js';
import { recoverRaftState, type RecoveredRaftState } from './recovery.js';
import { IndexQueue, RequestTracker, type PendingKind } from './requests.js';
import { SessionTable } from './sessions.js';
import { frameBytes, unframeBytes, type StateMachine } from './state-machine.js';
import {
  RaftErrorCode,
  type AppTypes,
  type ClientSession,
  type EntryPayload,
  type ForwardedProposal,
  type ForwardedProposalResult,
  type HardState,
  type LogEntry,
  type Membership,
  type MembershipChange,
  type ProgressStatus,
  type RaftError,
  type RaftMessage,
  type RaftRecord,
  type RaftReply,
  type RaftRequest,
  type RaftRole,
  type RaftBrief,
  type RaftStatus,
  type SnapshotMeta,
} from './types.js';

/** A read-only view of a node's log, for checkers and tests. */
export interface RaftLogView<C> {
  firstIndex(): number;
  lastIndex(): number;
  lastTerm(): number;
  term(index: number): number | undefined;
  entry(index: number): LogEntry<C> | undefined;
  slice(from: number, to: number): LogEntry<C>[];
}

type Cmd<A extends AppTypes> = A['command'];
type Out<A extends AppTypes> = OutputBuilder<RaftMessage<Cmd<A>>, RaftRecord<Cmd<A>>, RaftReply<A>>;

/** A proposal waiting for its entry (index, term) to be applied. */
interface PendingProposal {
  readonly requestId: RequestId;
  readonly term: number;
  /** Another proposal waiting on the same index (rare: a different term's entry). */
  readonly next: PendingProposal | null;
}

/** A linearizable read waiting for a read index: a local client, or a follower that asked. */
type ReadWaiter<Q> =
  | { readonly kind: 'local'; readonly requestId: RequestId; readonly query: Q }
  | { readonly kind: 'remote'; readonly from: NodeId; readonly context: number };

interface ReadRound<Q> {
  readonly context: number;
  readonly index: number;
  readonly waiters: ReadWaiter<Q>[];
}

interface IncomingSnapshot {
  readonly term: number;
  readonly meta: SnapshotMeta;
  readonly totalBytes: number;
  readonly chunks: Uint8Array[];
  received: number;
}

/** An append or checkpoint record whose durability we wait for (to count the leader's own log). */
interface UnstableRecord {
  readonly record: number;
  readonly lastIndex: number;
  readonly lastTerm: number;
}

/** Heartbeat contexts sent while a lease may be renewed, with their send tick (bounded). */
const maxLeaseContexts = 1024;

/**
 * A Raft node as a pure core (host contract in `src/core/protocol.ts`), with the feature set of
 * etcd-io/raft: pre-vote, check-quorum, fast log backtracking, flow-controlled pipelined
 * replication, ReadIndex and lease reads, snapshots sent in chunks, joint consensus with
 * learners, leadership transfer, proposal forwarding, client sessions.
 *
 * ## What the host must do (beyond the generic `Output` order)
 * - Feed one `tick` per tick (`tickDriven`). Raft arms no timers.
 * - Carry out each `Output` completely and in order before the next output's messages leave:
 *   append `persist` records; if `sync`, fsync them **before** sending `messages` (votes and
 *   acknowledgements depend on them: term, vote and entries are durable before a peer hears of
 *   them); then send; then deliver replies.
 * - Deliver `{ type: 'persisted', throughRecord }` after every sync, whether the output asked
 *   for it or the host group-committed lazily written records. A leader writes its own new
 *   entries with `sync: false` — in parallel with sending them — and counts them toward the
 *   commit quorum only once a `persisted` input covers them.
 * - On restart, build the core with `CoreContext.recovered` = the surviving records; the core
 *   replays them (`recoverRaftState`) and re-applies committed entries to rebuild the state
 *   machine. Hosts may drop every record before the latest synced checkpoint (`isRaftCheckpoint`).
 *
 * Every client request gets exactly one reply: its outcome, an error, or `TIMEOUT` after
 * `requestTimeoutTicks`.
 */
export class RaftCore<A extends AppTypes> implements ProtocolCore<RaftMessage<Cmd<A>>, RaftRecord<Cmd<A>>, RaftRequest<A>, RaftReply<A>> {
  readonly id: NodeId;
  readonly tickDriven = true;

  private readonly config: RaftConfig<A>;
  private readonly rng: Rng;
  private readonly out: Out<A>;
  private readonly machine: StateMachine<A>;
  private readonly sessions: SessionTable<A['result']>;
  private readonly raftLog: RaftLog<Cmd<A>>;

  // Durable state (persisted as records).
  private term = 0;
  private vote: NodeId | null = null;
  private commit = 0;
  private persistedCommit = 0;
  private hardStateDirty = false;
  private snapshot: { meta: SnapshotMeta; data: Uint8Array } | null = null;

  // Applied state (rebuilt from the snapshot and the log).
  private applied = 0;
  /** Configurations in the log; the latest one is in effect (thesis §4.1), committed or not. */
  private readonly configs = new MembershipLog();

  // Volatile state.
  private role: RaftRole = 'follower';
  private leader: NodeId | null = null;
  private nowTick = 0;
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  /** Lease mode: a restarted node refuses votes until this tick (it may have acknowledged a lease it forgot). */
  private voteQuietUntilTick = 0;
  private readonly votes = new Map<NodeId, boolean>();
  private readonly progress = new Map<NodeId, Progress>();
  private leadTransferee: NodeId | null = null;
  private pendingConfIndex = 0;
  private uncommittedBytes = 0;
  private committedInTerm = false;
  private durableIndex = 0;
  private unstable: UnstableRecord[] = [];
  private unstableHead = 0;
  private needsBroadcast = false;
  private commitAtStepStart = 0;
  private incomingSnapshot: IncomingSnapshot | null = null;
  /**
   * Our own snapshot being taken over several steps (at most one; see `maybeSnapshot`). Volatile:
   * nothing of it is persisted before it completes, so a crash loses it, and `this.snapshot`
   * (what is sent to followers and recovered) stays the last completed one meanwhile.
   */
  private snapshotInProgress: IncrementalSnapshot | null = null;

  // Requests.
  private readonly requests: RequestTracker;
  private readonly proposalsByIndex = new Map<number, PendingProposal>();
  private forwardQueue: ForwardedProposal<Cmd<A>>[] = [];
  private transferWaiters: RequestId[] = [];

  // Reads.
  private heartbeatContext = 0;
  private readonly readsAwaitingApply = new IndexQueue<{ requestId: RequestId; query: A['query'] }>();
  private readsAwaitingTermCommit: ReadWaiter<A['query']>[] = [];
  private nextReadBatch: ReadWaiter<A['query']>[] = [];
  private readRounds: ReadRound<A['query']>[] = [];
  private leaseContexts: { context: number; tick: number }[] = [];
  private leaseExpiresTick = 0;
  private leaseDisabledThisTerm = false;
  private remoteReadQueue: { requestId: RequestId; query: A['query'] }[] = [];
  private readonly remoteReadBatches = new Map<number, { requestId: RequestId; query: A['query'] }[]>();
  private remoteReadContext = 0;

  private readonly bootstrapVoters: readonly NodeId[] | null;

  /** The configuration in effect: the latest one in the log. */
  private get membership(): Membership {
    return this.configs.current;
  }

  constructor(context: CoreContext<RaftRecord<Cmd<A>>>, config: RaftConfig<A>) {
    this.id = context.id;
    this.config = config;
    if (config.forwardPerTurn) {
      this.endTurn = () => {
        this.flushForwards();
        return this.out.take();
      };
    }
    this.rng = context.rng;
    this.out = new OutputBuilder(context.id);
    this.machine = config.stateMachine();
    this.sessions = new SessionTable(config.maxSessions);
    this.requests = new RequestTracker(config.maxPendingRequests);
    this.raftLog = new RaftLog();
    const recovered = recoverRaftState(context.recovered);
    this.bootstrapVoters = recovered === null && !config.joinExisting ? context.peers : null;
    if (recovered !== null) this.restoreFrom(recovered);
    this.resetElectionTimer();
  }

  // ---------------------------------------------------------------------------------------------
  // Host contract

  start(): Output<RaftMessage<Cmd<A>>, RaftRecord<Cmd<A>>, RaftReply<A>> {
    if (this.bootstrapVoters !== null && this.raftLog.lastIndex() === 0) this.bootstrap(this.bootstrapVoters);
    this.flushHardState();
    return this.out.take();
  }

  step(input: Input<RaftMessage<Cmd<A>>, RaftRequest<A>>): Output<RaftMessage<Cmd<A>>, RaftRecord<Cmd<A>>, RaftReply<A>> {
    this.commitAtStepStart = this.commit;
    switch (input.type) {
      case 'message':
        this.handleMessage(input.from, input.message);
        break;
      case 'tick':
        this.tick();
        break;
      case 'timer':
        break;
      case 'request':
        this.handleRequest(input.requestId, input.request);
        break;
      case 'persisted':
        this.handlePersisted(input.throughRecord);
        break;
      default:
        assertNever(input, 'input');
    }
    this.finishStep();
    return this.out.take();
  }

  /**
   * Present only with `forwardPerTurn`: a host calls it at the end of each turn (and schedules an
   * end of turn only for cores that have it), so a core that merges nothing costs its host nothing.
   */
  readonly endTurn?: () => Output<RaftMessage<Cmd<A>>, RaftRecord<Cmd<A>>, RaftReply<A>>;

  // ---------------------------------------------------------------------------------------------
  // Inspection (read-only; for checkers, tests and hosts)

  brief(): RaftBrief {
    const snapshot = this.snapshot?.meta;
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      commitIndex: this.commit,
      appliedIndex: this.applied,
      snapshotIndex: snapshot?.index ?? 0,
      snapshotTerm: snapshot?.term ?? 0,
      snapshotInProgressIndex: this.snapshotInProgress?.meta.index ?? 0,
      membership: this.membership,
    };
  }

  status(): RaftStatus {
    let progress: Record<NodeId, ProgressStatus> | null = null;
    if (this.role === 'leader') {
      progress = {};
      for (const id of allMembers(this.membership)) {
        const pr = this.progress.get(id);
        if (id === this.id) {
          progress[id] = { match: this.durableIndex, next: this.raftLog.lastIndex() + 1, state: 'replicate', inflightMessages: 0, recentActive: true, learner: false };
        } else if (pr !== undefined) {
          progress[id] = pr.toStatus(!isVoter(this.membership, id));
        }
      }
    }
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      vote: this.vote,
      leader: this.leader,
      commitIndex: this.commit,
      appliedIndex: this.applied,
      durableIndex: this.durableIndex,
      firstIndex: this.raftLog.firstIndex(),
      lastIndex: this.raftLog.lastIndex(),
      lastTerm: this.raftLog.lastTerm(),
      snapshotIndex: this.snapshot?.meta.index ?? 0,
      snapshotTerm: this.snapshot?.meta.term ?? 0,
      snapshotInProgressIndex: this.snapshotInProgress?.meta.index ?? 0,
      snapshotInProgressBytes: this.snapshotInProgress?.producedBytes ?? 0,
      membership: this.membership,
      digest: this.digest(),
      leadTransferee: this.leadTransferee,
      uncommittedBytes: this.uncommittedBytes,
      pendingRequests: this.requests.size,
      progress,
    };
  }

  /** The log, read-only. Entries before `firstIndex()` are compacted into the snapshot. */
  get log(): RaftLogView<Cmd<A>> {
    return this.raftLog;
  }

  /** The application state machine (read it only; e.g. a watch API reading `changesSince`). */
  get stateMachine(): StateMachine<A> {
    return this.machine;
  }

  /** The durable state as a plain value; equal before a crash and after recovering from synced records. */
  durableState(): { hardState: HardState; snapshot: SnapshotMeta | null; logStart: { index: number; term: number }; entries: LogEntry<Cmd<A>>[] } {
    return {
      hardState: { term: this.term, vote: this.vote, commit: this.commit },
      snapshot: this.snapshot?.meta ?? null,
      logStart: this.raftLog.start,
      entries: this.raftLog.allEntries(),
    };
  }

  /** State machine and session digest at `appliedIndex`. */
  digest(): string {
    return `${this.machine.digest()}.${this.sessions.digest()}`;
  }

  /** Whether this leader may answer a linearizable read locally right now (lease mode). */
  hasValidLease(): boolean {
    return (
      this.config.linearizableReadMode === 'lease' &&
      this.role === 'leader' &&
      this.committedInTerm &&
      this.leadTransferee === null &&
      !this.leaseDisabledThisTerm &&
      this.nowTick < this.leaseExpiresTick
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Startup and recovery

  private bootstrap(voters: readonly NodeId[]): void {
    assert(voters.includes(this.id), 'a bootstrapping node must be one of the founding voters');
    const entry: LogEntry<Cmd<A>> = { index: 1, term: 1, sizeBytes: 0, payload: { type: 'bootstrap', voters: [...voters].sort() } };
    this.term = 1;
    this.markHardStateDirty();
    this.appendToLog([entry], true);
    this.commit = 1;
    this.applyCommitted();
  }

  private restoreFrom(recovered: RecoveredRaftState<Cmd<A>>): void {
    this.term = recovered.hardState.term;
    this.vote = recovered.hardState.vote;
    if (recovered.snapshot !== null) {
      this.snapshot = recovered.snapshot;
      this.restoreMachine(recovered.snapshot.data);
      this.applied = recovered.snapshot.meta.index;
      this.configs.rebase(recovered.snapshot.meta.index, recovered.snapshot.meta.membership);
    }
    this.raftLog.restore(recovered.logStart);
    this.raftLog.append(recovered.entries);
    this.observeConfigs(recovered.entries);
    this.durableIndex = this.raftLog.lastIndex();
    this.commit = recovered.hardState.commit;
    this.persistedCommit = this.commit;
    this.applyCommitted();
    if (this.config.linearizableReadMode === 'lease') this.voteQuietUntilTick = this.config.electionTimeoutTicks;
  }

  // ---------------------------------------------------------------------------------------------
  // Messages

  private handleMessage(from: NodeId, message: RaftMessage<Cmd<A>>): void {
    if (from === this.id) return;
    if (message.term > this.term) {
      if (!this.onHigherTerm(from, message)) return;
    } else if (message.term < this.term) {
      this.onLowerTerm(from, message);
      return;
    }
    if (message.type === 'requestVote' || message.type === 'requestPreVote') {
      this.handleVoteRequest(from, message);
      return;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(from, message);
        break;
      case 'candidate':
      case 'preCandidate':
        this.stepCandidate(from, message);
        break;
      case 'follower':
        this.stepFollower(from, message);
        break;
      default:
        assertNever(this.role, 'role');
    }
  }

  /** A message from a higher term. Returns whether to go on handling it. */
  private onHigherTerm(from: NodeId, message: RaftMessage<Cmd<A>>): boolean {
    if (message.type === 'requestVote' || message.type === 'requestPreVote') {
      const forced = message.type === 'requestVote' && message.transfer;
      // Leader lease at voters (etcd `inLease`): while we hear from a leader, ignore campaigns.
      if (!forced && this.inLease()) return false;
    }
    if (message.type === 'requestPreVote') return true;
    if (message.type === 'preVoteResponse' && message.granted) return true;
    const leader = message.type === 'append' || message.type === 'heartbeat' || message.type === 'snapshotChunk' ? from : null;
    // Figure 2: only the leader's messages and a granted vote restart a follower's election timer
    // (`handleVoteRequest` restarts it when it grants). A campaign it refuses must not, or nodes
    // with stale logs, which cannot win, keep the up-to-date ones from ever campaigning just by
    // raising the term — without pre-vote, and with the up-to-date nodes' clocks the slowest, no
    // leader for 5 s after healing (raft-kv-snapshot-steps seed 4078; testdata/regressions.txt).
    const keepTimer = message.type === 'requestVote' && this.role !== 'leader';
    const electionElapsed = this.electionElapsed;
    this.becomeFollower(message.term, leader, from);
    if (keepTimer) this.electionElapsed = electionElapsed;
    return true;
  }

  private inLease(): boolean {
    if (!this.config.checkQuorum) return false;
    if (this.nowTick < this.voteQuietUntilTick) return true;
    return this.leader !== null && this.electionElapsed < this.config.electionTimeoutTicks;
  }

  /** A message from a lower term: tell a stale leader about the new term; answer replies addressed to us. */
  private onLowerTerm(from: NodeId, message: RaftMessage<Cmd<A>>): void {
    switch (message.type) {
      case 'append':
      case 'heartbeat':
      case 'snapshotChunk':
        // Figure 2: the reply carries our term, so a deposed leader learns it and steps down.
        this.send(from, { type: 'heartbeatResponse', term: this.term, context: 0 });
        break;
      case 'requestPreVote':
        this.send(from, { type: 'preVoteResponse', term: this.term, granted: false });
        break;
      case 'requestVote':
        this.send(from, { type: 'voteResponse', term: this.term, granted: false });
        break;
      default:
        // Forwarding and ReadIndex traffic is term-independent; other replies are stale: ignored.
        this.stepAnyRole(from, message);
    }
  }

  private handleVoteRequest(from: NodeId, message: RaftMessage<Cmd<A>> & { type: 'requestVote' | 'requestPreVote' }): void {
    const preVote = message.type === 'requestPreVote';
    const canVote = this.vote === from || (this.vote === null && this.leader === null) || (preVote && message.term > this.term);
    const upToDate = this.config.testingBugs.skipVoteUpToDateCheck || this.raftLog.isUpToDate(message);
    const granted = canVote && upToDate;
    if (preVote) {
      // A granted pre-vote carries the candidate's future term; a refusal carries ours.
      this.send(from, { type: 'preVoteResponse', term: granted ? message.term : this.term, granted });
      return;
    }
    if (granted) {
      this.electionElapsed = 0;
      this.vote = from;
      this.markHardStateDirty();
    }
    this.send(from, { type: 'voteResponse', term: this.term, granted });
  }

  private stepFollower(from: NodeId, message: RaftMessage<Cmd<A>>): void {
    switch (message.type) {
      case 'append':
        this.heardFromLeader(from);
        this.handleAppend(from, message);
        break;
      case 'heartbeat':
        this.heardFromLeader(from);
        this.handleHeartbeat(from, message);
        break;
      case 'snapshotChunk':
        this.heardFromLeader(from);
        this.handleSnapshotChunk(from, message);
        break;
      case 'timeoutNow':
        this.campaign(true);
        break;
      default:
        this.stepAnyRole(from, message);
    }
  }

  private stepCandidate(from: NodeId, message: RaftMessage<Cmd<A>>): void {
    switch (message.type) {
      case 'append':
      case 'heartbeat':
      case 'snapshotChunk':
        // A leader won this term: follow it.
        this.becomeFollower(this.term, from, from);
        this.stepFollower(from, message);
        break;
      case 'preVoteResponse':
        if (this.role === 'preCandidate') this.tallyVote(from, message.granted);
        break;
      case 'voteResponse':
        if (this.role === 'candidate') this.tallyVote(from, message.granted);
        break;
      default:
        this.stepAnyRole(from, message);
    }
  }

  private stepLeader(from: NodeId, message: RaftMessage<Cmd<A>>): void {
    const pr = this.progress.get(from);
    if (pr === undefined) {
      // Not a member (any more): only its term-independent requests count; replies are stale.
      this.stepAnyRole(from, message);
      return;
    }
    pr.recentActive = true;
    switch (message.type) {
      case 'appendAccepted':
        this.handleAppendAccepted(from, pr, message.matchIndex);
        break;
      case 'appendRejected':
        this.handleAppendRejected(from, pr, message);
        break;
      case 'heartbeatResponse':
        this.handleHeartbeatResponse(from, pr, message.context);
        break;
      case 'snapshotChunkAck':
        this.handleSnapshotChunkAck(from, pr, message.snapshotIndex, message.receivedBytes);
        break;
      default:
        this.stepAnyRole(from, message);
    }
  }

  /** Messages every role handles the same way. */
  private stepAnyRole(from: NodeId, message: RaftMessage<Cmd<A>>): void {
    switch (message.type) {
      case 'forwardProposals':
        this.handleForwardedProposals(from, message.proposals);
        break;
      case 'forwardedProposalResults':
        this.handleForwardedResults(message.results);
        break;
      case 'readIndexRequest':
        this.handleReadIndexRequest(from, message.context);
        break;
      case 'readIndexResponse':
        this.handleReadIndexResponse(message.context, message.readIndex);
        break;
      default:
        // Responses meant for another role (a late vote, an ack to a former leader): ignore.
        break;
    }
  }

  private heardFromLeader(from: NodeId): void {
    this.electionElapsed = 0;
    if (this.leader !== from) this.leaderChanged(from);
  }

  // ---------------------------------------------------------------------------------------------
  // Roles

  private becomeFollower(term: number, leader: NodeId | null, cause: NodeId | null = null): void {
    assert(term >= this.term, () => `becomeFollower: term ${term} below current ${this.term}`);
    const wasLeader = this.role === 'leader';
    if (term > this.term) {
      this.term = term;
      this.vote = null;
      this.markHardStateDirty();
    }
    if (wasLeader) this.stepDownAsLeader(cause);
    this.role = 'follower';
    this.resetElectionTimer();
    this.votes.clear();
    if (this.leader !== leader) this.leaderChanged(leader);
  }

  private leaderChanged(leader: NodeId | null): void {
    this.leader = leader;
    // A partly received snapshot belongs to the former leader's transfer.
    this.incomingSnapshot = null;
    // Reads a former leader was confirming for us: fail them so clients retry promptly (no effect).
    for (const [, waiters] of this.remoteReadBatches) {
      for (const waiter of waiters) this.replyError(waiter.requestId, RaftErrorCode.NotLeader, 'the leader changed during the read', 'none');
    }
    this.remoteReadBatches.clear();
  }

  private stepDownAsLeader(cause: NodeId | null): void {
    const transferee = this.leadTransferee;
    for (const requestId of this.transferWaiters) {
      if (!this.requests.take(requestId)) continue;
      if (transferee !== null && cause === transferee) {
        this.out.reply(requestId, { type: 'leaderTransferred', target: transferee, term: this.term });
      } else {
        this.out.reply(requestId, this.error(RaftErrorCode.NotLeader, 'stepped down before the transfer completed', 'unknown'));
      }
    }
    this.transferWaiters = [];
    this.leadTransferee = null;
    const waiters = [...this.readsAwaitingTermCommit, ...this.nextReadBatch, ...this.readRounds.flatMap((round) => round.waiters)];
    for (const waiter of waiters) this.failReadWaiter(waiter);
    this.readsAwaitingTermCommit = [];
    this.nextReadBatch = [];
    this.readRounds = [];
    this.leaseContexts = [];
    this.leaseExpiresTick = 0;
    this.progress.clear();
    this.uncommittedBytes = 0;
  }

  private becomePreCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a pre-candidate');
    this.role = 'preCandidate';
    this.votes.clear();
    if (this.leader !== null) this.leaderChanged(null);
  }

  private becomeCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a candidate');
    this.role = 'candidate';
    this.term += 1;
    this.vote = this.id;
    this.markHardStateDirty();
    this.votes.clear();
    if (this.leader !== null) this.leaderChanged(null);
  }

  private becomeLeader(): void {
    assert(this.role === 'candidate', () => `only a candidate can become leader, not a ${this.role}`);
    this.role = 'leader';
    this.leader = this.id;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.progress.clear();
    for (const id of allMembers(this.membership)) {
      if (id !== this.id) this.progress.set(id, this.newProgress());
    }
    this.pendingConfIndex = this.raftLog.lastIndex();
    this.committedInTerm = false;
    this.uncommittedBytes = 0;
    this.leaseContexts = [];
    this.leaseExpiresTick = 0;
    this.leaseDisabledThisTerm = false;
    this.appendAsLeader({ type: 'empty' }, 0);
  }

  private newProgress(): Progress {
    return new Progress({
      next: this.raftLog.lastIndex() + 1,
      maxInflightMessages: this.config.maxInflightMessages,
    });
  }

  /**
   * Whether this node may campaign: it is a voter of the latest configuration in its log, or of
   * the one at its commit index. The second case matters when a leader appended a configuration
   * that removes a node and lost leadership before committing it: that node may hold the longest
   * log, which the remaining voters need to elect anyone. Votes are always counted in the
   * latest configuration, so a removed node only wins with a majority of the voters that remain.
   */
  private promotable(): boolean {
    return isVoter(this.membership, this.id) || isVoter(this.configs.at(this.commit), this.id);
  }

  // ---------------------------------------------------------------------------------------------
  // Elections

  private tick(): void {
    this.nowTick += 1;
    this.expireRequests();
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed += 1;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.campaign(false);
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed += 1;
    this.electionElapsed += 1;
    if (this.electionElapsed >= this.config.electionTimeoutTicks) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum && !this.checkQuorumActive()) {
        this.becomeFollower(this.term, null);
        return;
      }
      if (this.leadTransferee !== null) this.abortTransfer();
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat();
    }
  }

  /** Check-quorum: were a quorum of voters heard from since the last check? Resets the marks. */
  private checkQuorumActive(): boolean {
    const active = hasQuorum(this.membership, (id) => id === this.id || this.progress.get(id)?.recentActive === true);
    for (const pr of this.progress.values()) pr.recentActive = false;
    return active;
  }

  private resetElectionTimer(): void {
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.config.electionTimeoutTicks + this.rng.int(0, this.config.electionTimeoutRandomTicks - 1);
  }

  /** Starts an election (pre-vote first unless this is a leadership transfer). */
  private campaign(transfer: boolean): void {
    if (this.role === 'leader' || !this.promotable()) return;
    this.resetElectionTimer();
    if (this.config.preVote && !transfer) {
      this.becomePreCandidate();
      this.requestVotes('requestPreVote', false);
    } else {
      this.becomeCandidate();
      this.requestVotes('requestVote', transfer);
    }
  }

  private requestVotes(type: 'requestVote' | 'requestPreVote', transfer: boolean): void {
    this.votes.set(this.id, true);
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    for (const id of allVoters(this.membership)) {
      if (id === this.id) continue;
      if (type === 'requestPreVote') this.send(id, { type, term: this.term + 1, lastIndex, lastTerm });
      else this.send(id, { type, term: this.term, lastIndex, lastTerm, transfer });
    }
    this.checkVotes();
  }

  private tallyVote(from: NodeId, granted: boolean): void {
    if (!this.votes.has(from)) this.votes.set(from, granted);
    this.checkVotes();
  }

  private checkVotes(): void {
    const result = voteResult(this.membership, this.votes);
    if (result === 'won') {
      if (this.role === 'preCandidate') {
        this.becomeCandidate();
        this.requestVotes('requestVote', false);
      } else {
        this.becomeLeader();
      }
    } else if (result === 'lost') {
      this.becomeFollower(this.term, null);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Replication: follower side

  private handleAppend(from: NodeId, message: RaftMessage<Cmd<A>> & { type: 'append' }): void {
    if (message.prevIndex < this.commit) {
      this.send(from, { type: 'appendAccepted', term: this.term, matchIndex: this.commit });
      return;
    }
    if (!this.raftLog.matchTerm(message.prevIndex, message.prevTerm)) {
      const hint = this.raftLog.findConflictByTerm(Math.min(message.prevIndex, this.raftLog.lastIndex()), message.prevTerm);
      this.send(from, { type: 'appendRejected', term: this.term, rejectedIndex: message.prevIndex, hintIndex: hint.index, hintTerm: hint.term });
      return;
    }
    const entries = message.entries;
    const lastNewIndex = message.prevIndex + entries.length;
    const conflict = this.raftLog.findConflict(entries);
    if (conflict !== 0) {
      assert(conflict > this.commit, () => `entry ${conflict} conflicts with the committed prefix through ${this.commit}`);
      const first = entries[0]!.index;
      this.appendToLog(conflict === first ? entries : entries.slice(conflict - first), true);
    }
    this.commitTo(Math.min(message.commit, lastNewIndex));
    this.send(from, { type: 'appendAccepted', term: this.term, matchIndex: lastNewIndex });
  }

  private handleHeartbeat(from: NodeId, message: RaftMessage<Cmd<A>> & { type: 'heartbeat' }): void {
    // The leader clamps `commit` to what it knows we hold, so it never exceeds our log.
    this.commitTo(Math.min(message.commit, this.raftLog.lastIndex()));
    this.send(from, { type: 'heartbeatResponse', term: this.term, context: message.context });
  }

  private handleSnapshotChunk(from: NodeId, message: RaftMessage<Cmd<A>> & { type: 'snapshotChunk' }): void {
    const meta = message.snapshot;
    if (meta.index <= this.commit) {
      this.incomingSnapshot = null;
      this.send(from, { type: 'appendAccepted', term: this.term, matchIndex: this.commit });
      return;
    }
    if (message.offset === 0) {
      this.incomingSnapshot = { term: message.term, meta, totalBytes: message.totalBytes, chunks: [], received: 0 };
    }
    const incoming = this.incomingSnapshot;
    if (incoming === null || incoming.meta.index !== meta.index || incoming.term !== message.term || incoming.received !== message.offset) {
      const same = incoming !== null && incoming.meta.index === meta.index && incoming.term === message.term;
      this.send(from, { type: 'snapshotChunkAck', term: this.term, snapshotIndex: meta.index, receivedBytes: same ? incoming.received : 0 });
      return;
    }
    incoming.chunks.push(message.data);
    incoming.received += message.data.length;
    if (incoming.received < incoming.totalBytes) {
      this.send(from, { type: 'snapshotChunkAck', term: this.term, snapshotIndex: meta.index, receivedBytes: incoming.received });
      return;
    }
    this.incomingSnapshot = null;
    const restored = this.installSnapshot(meta, concatChunks(incoming.chunks, incoming.totalBytes));
    this.send(from, { type: 'appendAccepted', term: this.term, matchIndex: restored ? meta.index : this.commit });
  }

  /** Installs a complete snapshot from the leader; false when the log already covered it. */
  private installSnapshot(meta: SnapshotMeta, data: Uint8Array): boolean {
    if (meta.index <= this.commit) return false;
    if (this.raftLog.matchTerm(meta.index, meta.term)) {
      // Our log already holds the snapshot's last entry: just commit up to it.
      this.commitTo(meta.index);
      return false;
    }
    this.raftLog.restore({ index: meta.index, term: meta.term });
    this.restoreMachine(data);
    this.snapshot = { meta, data };
    this.configs.rebase(meta.index, meta.membership);
    this.commit = meta.index;
    this.applied = meta.index;
    this.durableIndex = 0;
    const record = this.out.persist(
      { type: 'checkpoint', snapshot: meta, data, hardState: this.hardState(), logStart: { index: meta.index, term: meta.term }, entries: [] },
      { sync: true },
    );
    this.persistedCommit = this.commit;
    this.hardStateDirty = false;
    this.trackUnstable(record);
    this.resolveProposalsSkippedBySnapshot(meta.index);
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Replication: leader side

  /** Appends one entry to the leader's log (written lazily; counted once `persisted`). Returns its index. */
  private appendAsLeader(payload: EntryPayload<Cmd<A>>, sizeBytes: number): number {
    const index = this.raftLog.lastIndex() + 1;
    this.appendToLog([{ index, term: this.term, sizeBytes, payload }], false);
    this.uncommittedBytes += sizeBytes;
    this.needsBroadcast = true;
    return index;
  }

  private appendToLog(entries: readonly LogEntry<Cmd<A>>[], sync: boolean): void {
    if (entries.length === 0) return;
    if (this.hardStateDirty) {
      // The term / vote these entries are appended under must be on disk first.
      this.hardStateDirty = false;
      this.writeHardState(true);
    }
    const first = entries[0]!.index;
    if (first <= this.raftLog.lastIndex()) {
      this.durableIndex = Math.min(this.durableIndex, first - 1);
      if (this.configs.lastIndex >= first) {
        this.configs.truncateFrom(first);
        this.membershipChanged();
      }
    }
    this.raftLog.append(entries);
    if (this.observeConfigs(entries)) this.membershipChanged();
    const record = this.out.persist({ type: 'entries', entries }, { sync });
    this.trackUnstable(record);
  }

  private trackUnstable(record: number): void {
    this.unstable.push({ record, lastIndex: this.raftLog.lastIndex(), lastTerm: this.raftLog.lastTerm() });
  }

  private handlePersisted(throughRecord: number): void {
    while (this.unstableHead < this.unstable.length && this.unstable[this.unstableHead]!.record <= throughRecord) {
      const unstable = this.unstable[this.unstableHead]!;
      this.unstableHead += 1;
      if (this.raftLog.term(unstable.lastIndex) === unstable.lastTerm) this.durableIndex = Math.max(this.durableIndex, unstable.lastIndex);
    }
    if (this.unstableHead === this.unstable.length) {
      this.unstable = [];
      this.unstableHead = 0;
    }
    // A leader's own durable index counts towards the quorum: finishStep's maybeCommit picks it up.
  }

  private handleAppendAccepted(from: NodeId, pr: Progress, matchIndex: number): void {
    pr.ackedSinceHeartbeat = true;
    const updated = pr.maybeUpdate(matchIndex);
    switch (pr.state) {
      case 'probe':
        if (!updated) return;
        pr.becomeReplicate();
        break;
      case 'snapshot':
        // The follower holds the snapshot being sent (or more): the transfer is over. If we have
        // compacted past it meanwhile, probing finds that out and starts a newer snapshot.
        if (pr.snapshot !== null && pr.match < pr.snapshot.meta.index) {
          if (!updated) return;
          break;
        }
        pr.becomeProbe();
        if (pr.match + 1 >= this.raftLog.firstIndex()) pr.becomeReplicate();
        break;
      case 'replicate':
        if (!updated) return;
        pr.inflights.freeThrough(matchIndex);
        break;
    }
    // The commit index advances in finishStep (maybeCommit), once per step.
    if (from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
      this.send(from, { type: 'timeoutNow', term: this.term });
    }
    // Sent at the end of the step, together with whatever else the step appends.
    this.needsBroadcast = true;
  }

  private handleAppendRejected(
    from: NodeId,
    pr: Progress,
    message: { readonly rejectedIndex: number; readonly hintIndex: number; readonly hintTerm: number },
  ): void {
    // Fast backtracking: skip the follower's whole conflicting term (and ours).
    let next = message.hintIndex;
    if (message.hintTerm > 0) next = this.raftLog.findConflictByTerm(message.hintIndex, message.hintTerm).index;
    if (!pr.maybeDecreaseTo(message.rejectedIndex, next)) return;
    if (pr.state === 'replicate') pr.becomeProbe();
    this.maybeSendAppend(from, pr, true);
  }

  private handleHeartbeatResponse(from: NodeId, pr: Progress, context: number): void {
    if (context > pr.ackedContext) {
      pr.ackedContext = context;
      this.advanceReads();
    }
    switch (pr.state) {
      case 'probe':
        pr.paused = false;
        if (pr.match < this.raftLog.lastIndex()) this.maybeSendAppend(from, pr, true);
        break;
      case 'replicate':
        // An append may have been lost: an (empty) append at `next` makes the follower reject if it misses entries.
        if (pr.match < this.raftLog.lastIndex()) this.sendAppend(from, pr, []);
        break;
      case 'snapshot':
        // No chunk acknowledged since the last heartbeat went out: the chunk was lost; resend it.
        if (!pr.ackedSinceHeartbeat) this.sendSnapshotChunk(from, pr);
        break;
    }
  }

  private handleSnapshotChunkAck(from: NodeId, pr: Progress, snapshotIndex: number, receivedBytes: number): void {
    const transfer = pr.snapshot;
    if (pr.state !== 'snapshot' || transfer === null || transfer.meta.index !== snapshotIndex) return;
    transfer.ackedBytes = receivedBytes;
    pr.ackedSinceHeartbeat = true;
    if (receivedBytes < transfer.data.length) this.sendSnapshotChunk(from, pr);
  }

  /**
   * Sends the next append to `to` if flow control allows; returns whether entries were sent.
   * With `appendBatching`, a follower with appends in flight gets more only once a full
   * message's worth is pending (otherwise its next acknowledgement triggers the send) — unless
   * the pending entries include ones it forwarded: it cannot answer its clients before it holds
   * them, and holding them for its round trip cost ~2 ms of a follower put's ~7 ms at 64 clients.
   */
  private maybeSendAppend(to: NodeId, pr: Progress, allowEmpty: boolean, urgent = false): boolean {
    if (pr.isPaused()) return false;
    const last = this.raftLog.lastIndex();
    if (this.raftLog.term(pr.next - 1) === undefined) return this.sendSnapshot(to, pr);
    const batching = this.config.appendBatching && !urgent && !pr.awaitsForwardedEntries();
    if (pr.state === 'replicate' && batching && pr.inflights.count > 0) {
      if (this.raftLog.bytesBetween(pr.next, last) < this.config.maxSizePerMessageBytes) {
        // A follower whose client waits for a forwarded entry learns the commit now, not one round
        // later after its own acknowledgement (an empty append: no entries, only the commit index).
        if (pr.awaitsForwardedCommit(this.commit)) this.sendAppend(to, pr, []);
        return false;
      }
    }
    const entries = pr.next <= last ? this.raftLog.slice(pr.next, last, this.config.maxSizePerMessageBytes) : [];
    if (entries.length === 0 && !allowEmpty && !pr.canBumpCommit(this.commit)) return false;
    this.sendAppend(to, pr, entries);
    return entries.length > 0;
  }

  private sendAppend(to: NodeId, pr: Progress, entries: LogEntry<Cmd<A>>[]): void {
    const prevIndex = entries.length > 0 ? entries[0]!.index - 1 : pr.next - 1;
    const prevTerm = this.raftLog.term(prevIndex);
    if (prevTerm === undefined) {
      this.sendSnapshot(to, pr);
      return;
    }
    this.send(to, { type: 'append', term: this.term, prevIndex, prevTerm, entries, commit: this.commit });
    pr.sentCommit = Math.max(pr.sentCommit, Math.min(this.commit, prevIndex + entries.length));
    if (entries.length > 0) {
      const lastIndex = entries[entries.length - 1]!.index;
      pr.sentEntries(lastIndex, this.raftLog.bytesBetween(entries[0]!.index, lastIndex));
    } else if (pr.state === 'probe') {
      pr.paused = true;
    }
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive || this.snapshot === null) return false;
    pr.becomeSnapshot({ meta: this.snapshot.meta, data: this.snapshot.data, ackedBytes: 0 });
    this.sendSnapshotChunk(to, pr);
    return false;
  }

  private sendSnapshotChunk(to: NodeId, pr: Progress): void {
    const transfer = pr.snapshot;
    if (transfer === null) return;
    const offset = transfer.ackedBytes;
    const data = transfer.data.subarray(offset, Math.min(transfer.data.length, offset + this.config.snapshotChunkBytes));
    this.send(to, { type: 'snapshotChunk', term: this.term, snapshot: transfer.meta, totalBytes: transfer.data.length, offset, data });
  }

  private broadcastHeartbeat(): void {
    this.heartbeatContext += 1;
    const context = this.heartbeatContext;
    if (this.config.linearizableReadMode === 'lease' && !this.leaseDisabledThisTerm && this.leadTransferee === null) {
      if (this.leaseContexts.length >= maxLeaseContexts) this.leaseContexts.shift();
      this.leaseContexts.push({ context, tick: this.nowTick });
    }
    if (this.nextReadBatch.length > 0) {
      this.readRounds.push({ context, index: this.commit, waiters: this.nextReadBatch });
      this.nextReadBatch = [];
    }
    for (const [id, pr] of this.progress) {
      pr.ackedSinceHeartbeat = false;
      const commit = Math.min(pr.match, this.commit);
      pr.sentCommit = Math.max(pr.sentCommit, commit);
      this.send(id, { type: 'heartbeat', term: this.term, commit, context });
    }
    this.advanceReads();
  }

  /** How far a member's log is known to match ours (our own: what is durable). */
  private readonly matchOf = (id: NodeId): number => (id === this.id ? this.durableIndex : (this.progress.get(id)?.match ?? 0));

  /** Leader: advance the commit index to what a quorum holds, for entries of this term only (§5.4.2). */
  private maybeCommit(): void {
    const index = committedValue(this.membership, this.matchOf);
    if (index === Number.POSITIVE_INFINITY || index <= this.commit) return;
    const termAtIndex = this.raftLog.term(index);
    if (termAtIndex !== this.term && !this.config.testingBugs.commitPreviousTermByCounting) return;
    const before = this.commit;
    this.commitTo(index);
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - this.raftLog.bytesBetween(before + 1, index));
  }

  private commitTo(index: number): void {
    if (index <= this.commit) return;
    assert(index <= this.raftLog.lastIndex(), () => `commit ${index} beyond last index ${this.raftLog.lastIndex()}`);
    this.commit = index;
    if (this.role === 'leader' && !this.committedInTerm && this.raftLog.term(index) === this.term) {
      this.committedInTerm = true;
      for (const waiter of this.readsAwaitingTermCommit) this.addConfirmedRead(waiter);
      this.readsAwaitingTermCommit = [];
    }
  }

  // ---------------------------------------------------------------------------------------------
  // End of step: apply, flush batched sends, persist the commit index

  private finishStep(): void {
    // The one place a leader advances its commit index: after any acknowledgement or local persist.
    if (this.role === 'leader') this.maybeCommit();
    this.applyCommitted();
    this.maybeStepDownOnRemoval();
    if (this.role === 'leader') {
      this.maybeAutoLeaveJoint();
      this.flushAppends();
      if (this.nextReadBatch.length > 0 && this.readRounds.length === 0) this.startReadRound();
      // Forwards queued as a follower earlier in this turn: we are no leader to forward to.
      this.flushForwards();
    } else if (!this.config.forwardPerTurn || this.leader === null) {
      this.flushForwards();
    }
    this.flushHardState();
  }

  private flushAppends(): void {
    const commitAdvanced = this.commit > this.commitAtStepStart;
    if (!commitAdvanced && !this.needsBroadcast) return;
    this.needsBroadcast = false;
    // An empty append goes out only where it tells a follower a commit index it can use (`canBumpCommit`).
    for (const [id, pr] of this.progress) while (this.maybeSendAppend(id, pr, false));
  }

  /**
   * Term and vote changes are written once per step (coalesced), but always before any entries
   * record that follows them, and always synced: no message of this step leaves before they are
   * durable. Commit-only changes are written lazily at the end of the step.
   */
  private markHardStateDirty(): void {
    this.hardStateDirty = true;
  }

  private flushHardState(): void {
    if (this.hardStateDirty) {
      this.hardStateDirty = false;
      this.writeHardState(true);
    } else if (this.commit > this.persistedCommit) {
      this.writeHardState(false);
    }
  }

  private writeHardState(sync: boolean): void {
    this.out.persist({ type: 'hardState', hardState: this.hardState() }, { sync });
    this.persistedCommit = this.commit;
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.commit };
  }

  // ---------------------------------------------------------------------------------------------
  // Apply

  private applyCommitted(): void {
    while (this.applied < this.commit) {
      const index = this.applied + 1;
      const entry = this.raftLog.entry(index);
      assert(entry !== undefined, () => `committed entry ${index} is missing from the log`);
      this.applied = index;
      this.applyEntry(entry);
    }
    for (const read of this.readsAwaitingApply.popThrough(this.applied)) this.serveRead(read.requestId, read.query);
    this.maybeSnapshot();
  }

  private applyEntry(entry: LogEntry<Cmd<A>>): void {
    const payload = entry.payload;
    switch (payload.type) {
      case 'empty':
        this.resolveProposals(entry, null);
        break;
      case 'bootstrap':
        break;
      case 'command':
        this.resolveProposals(entry, this.applyCommand(entry.index, payload.command, payload.session));
        break;
      case 'membership':
        this.resolveProposals(entry, this.applyMembershipEntry(entry.index));
        break;
      default:
        assertNever(payload, 'entry payload');
    }
  }

  private applyCommand(index: number, command: Cmd<A>, session: ClientSession | null): RaftReply<A> {
    if (session === null) return { type: 'applied', index, result: this.machine.apply(command, index) };
    const check = this.sessions.check(session);
    switch (check.kind) {
      case 'new': {
        const result = this.machine.apply(command, index);
        this.sessions.record(session, result);
        return { type: 'applied', index, result };
      }
      case 'duplicate':
        return { type: 'applied', index, result: check.result };
      case 'stale':
        return this.error(RaftErrorCode.SessionStale, `sequence ${session.sequence} is older than the session's last`, 'none');
      case 'expired':
        return this.error(RaftErrorCode.SessionExpired, `no session for client ${session.clientId}`, 'none');
    }
  }

  /** The configuration took effect when appended; its commit is what the proposer waits for. */
  private applyMembershipEntry(index: number): RaftReply<A> {
    const problem = this.configs.problemAt(index);
    if (problem !== null) return this.error(RaftErrorCode.InvalidArgument, `membership change ignored: ${problem}`, 'none');
    return { type: 'membershipChanged', index, membership: this.configs.at(index) };
  }

  /** Answers the proposals waiting on `entry`'s index: the outcome if their entry committed, else dropped. */
  private resolveProposals(entry: LogEntry<Cmd<A>>, outcome: RaftReply<A> | null): void {
    const waiting = this.proposalsByIndex.get(entry.index);
    if (waiting === undefined) return;
    this.proposalsByIndex.delete(entry.index);
    for (let proposal: PendingProposal | null = waiting; proposal !== null; proposal = proposal.next) {
      if (!this.requests.take(proposal.requestId)) continue;
      if (proposal.term === entry.term && outcome !== null) this.out.reply(proposal.requestId, outcome);
      else this.out.reply(proposal.requestId, this.error(RaftErrorCode.ProposalDropped, 'another entry was committed at the index', 'none'));
    }
  }

  private resolveProposalsSkippedBySnapshot(index: number): void {
    for (const [proposalIndex, waiting] of this.proposalsByIndex) {
      if (proposalIndex > index) continue;
      this.proposalsByIndex.delete(proposalIndex);
      for (let proposal: PendingProposal | null = waiting; proposal !== null; proposal = proposal.next) this.replyError(proposal.requestId, RaftErrorCode.OutcomeUnknown, 'a snapshot replaced the entry', 'unknown');
    }
  }

  /** Scans appended entries for configurations; returns whether the configuration changed. */
  private observeConfigs(entries: readonly LogEntry<Cmd<A>>[]): boolean {
    let changed = false;
    for (const entry of entries) {
      // Entries at or before the last known configuration point (a snapshot's, after recovery)
      // are already reflected in it.
      if (entry.index <= this.configs.lastIndex) continue;
      const payload = entry.payload;
      if (payload.type === 'membership' || payload.type === 'bootstrap') changed = this.configs.observe(entry.index, payload) || changed;
    }
    return changed;
  }

  /** The configuration in effect changed (an entry was appended or truncated): a leader re-tracks members. */
  private membershipChanged(): void {
    if (this.role !== 'leader') return;
    const membership = this.membership;
    const members = allMembers(membership);
    for (const id of members) {
      if (id === this.id) continue;
      if (!this.progress.has(id)) this.progress.set(id, this.newProgress());
    }
    for (const id of [...this.progress.keys()]) {
      if (!members.includes(id)) this.progress.delete(id);
    }
    if (this.leadTransferee !== null && !isVoter(membership, this.leadTransferee)) this.abortTransfer();
    this.needsBroadcast = true;
  }

  /**
   * A leader that is not a voter of the configuration in effect keeps leading (without counting
   * itself) until that configuration is committed (thesis §4.2.2); then it hands off.
   */
  private maybeStepDownOnRemoval(): void {
    if (this.role !== 'leader' || isVoter(this.membership, this.id) || this.commit < this.configs.lastIndex) return;
    this.stepDownOnRemoval();
  }

  /** A leader removed from the voters hands off to its most caught-up voter, then steps down. */
  private stepDownOnRemoval(): void {
    let best: NodeId | null = null;
    let bestMatch = -1;
    for (const [id, pr] of this.progress) {
      if (isVoter(this.membership, id) && pr.match > bestMatch) {
        best = id;
        bestMatch = pr.match;
      }
    }
    if (best !== null && bestMatch === this.raftLog.lastIndex()) this.send(best, { type: 'timeoutNow', term: this.term });
    this.becomeFollower(this.term, null);
  }

  private maybeAutoLeaveJoint(): void {
    if (!isJoint(this.membership) || !this.membership.autoLeave || this.pendingConfIndex > this.commit) return;
    this.pendingConfIndex = this.appendAsLeader({ type: 'membership', change: { changes: [], transition: 'auto' } }, 0);
  }

  // ---------------------------------------------------------------------------------------------
  // Snapshots and compaction

  /**
   * Once `snapshotThresholdEntries` were applied since the last snapshot, takes one at the applied
   * index. A state machine with `beginSnapshot` is snapshotted incrementally: the metadata (index,
   * term, configuration at that index) and the session table are captured now, and the image is
   * then produced and copied about `snapshotStepBytes` per step — this is called once per step
   * (from `applyCommitted`) — while entries keep being applied; at most one at a time. The log is
   * compacted and the checkpoint written only when the image is complete. Without
   * `beginSnapshot`, the whole image is taken in this step.
   */
  private maybeSnapshot(): void {
    if (this.snapshotInProgress === null) {
      const snapshotIndex = this.snapshot?.meta.index ?? 0;
      if (this.applied - snapshotIndex < this.config.snapshotThresholdEntries) return;
      const term = this.raftLog.term(this.applied);
      assert(term !== undefined, 'the applied entry must be in the log');
      const meta: SnapshotMeta = { index: this.applied, term, membership: this.configs.at(this.applied) };
      const header = { sessions: this.sessions.snapshot() };
      if (this.machine.beginSnapshot === undefined) {
        this.completeSnapshot(meta, frameBytes(header, this.machine.snapshot()));
        return;
      }
      this.snapshotInProgress = new IncrementalSnapshot(meta, header, this.machine.beginSnapshot());
    }
    const data = this.snapshotInProgress.advance(this.config.snapshotStepBytes);
    if (data === null) return;
    const meta = this.snapshotInProgress.meta;
    this.snapshotInProgress = null;
    this.completeSnapshot(meta, data);
  }

  /** Installs our own completed snapshot: compacts the log relative to its index and writes the checkpoint. */
  private completeSnapshot(meta: SnapshotMeta, data: Uint8Array): void {
    assert(meta.index <= this.applied && meta.index > (this.snapshot?.meta.index ?? 0), () => `snapshot at ${meta.index} is not between the last one and applied ${this.applied}`);
    // Entries through meta.index were committed, so no leader can have replaced them meanwhile.
    assert(this.raftLog.term(meta.index) === meta.term, () => `the log no longer holds the snapshot's entry ${meta.term}/${meta.index}`);
    this.configs.rebase(meta.index, meta.membership);
    this.snapshot = { meta, data };
    const compactTo = Math.max(this.raftLog.start.index, meta.index - this.config.snapshotCatchUpEntries);
    this.raftLog.compact(compactTo);
    const record = this.out.persist(
      { type: 'checkpoint', snapshot: meta, data, hardState: this.hardState(), logStart: this.raftLog.start, entries: this.raftLog.allEntries() },
      { sync: this.hardStateDirty },
    );
    this.persistedCommit = this.commit;
    this.hardStateDirty = false;
    this.trackUnstable(record);
  }

  /** A snapshot in progress describes a state about to be replaced: give it up. */
  private abortSnapshot(): void {
    this.snapshotInProgress?.abort();
    this.snapshotInProgress = null;
  }

  private restoreMachine(data: Uint8Array): void {
    this.abortSnapshot();
    const { header, body } = unframeBytes(data);
    this.sessions.restore((header as { sessions: unknown }).sessions);
    this.machine.restore(body);
  }

  // ---------------------------------------------------------------------------------------------
  // Client requests

  private handleRequest(requestId: RequestId, request: RaftRequest<A>): void {
    switch (request.type) {
      case 'propose':
        this.handlePropose(requestId, request.command, request.session ?? null);
        break;
      case 'read':
        if (request.consistency === 'serializable') this.serveRead(requestId, request.query, false);
        else this.handleLinearizableRead(requestId, request.query);
        break;
      case 'changeMembership':
        this.handleMembershipRequest(requestId, request.change);
        break;
      case 'transferLeader':
        this.handleTransferRequest(requestId, request.target);
        break;
      case 'status':
        this.out.reply(requestId, { type: 'status', status: this.status() });
        break;
      case 'campaign':
        // With leases, a node that heard from its leader within an election timeout must not
        // vote, not even for itself: the leader may be answering reads on that promise.
        if (this.config.linearizableReadMode === 'lease' && this.role !== 'leader' && this.inLease()) {
          this.out.reply(requestId, this.error(RaftErrorCode.Conflict, 'a leader lease may be in force; not campaigning', 'none'));
          break;
        }
        this.campaign(false);
        this.out.reply(requestId, { type: 'accepted' });
        break;
      default:
        assertNever(request, 'request');
    }
  }

  private handlePropose(requestId: RequestId, command: Cmd<A>, session: ClientSession | null): void {
    const problem = this.machine.validateCommand?.(command) ?? null;
    if (problem !== null) {
      this.out.reply(requestId, this.error(RaftErrorCode.InvalidArgument, problem, 'none'));
      return;
    }
    if (!this.requests.hasRoom()) {
      this.out.reply(requestId, this.error(RaftErrorCode.Overloaded, 'too many pending requests', 'none'));
      return;
    }
    const sizeBytes = this.machine.commandSizeBytes(command);
    if (this.role !== 'leader') {
      if (this.leader === null) {
        this.out.reply(requestId, this.error(RaftErrorCode.NotLeader, 'no known leader', 'none'));
        return;
      }
      this.track(requestId, 'forwardedProposal');
      this.forwardQueue.push({ origin: requestId, command, session, sizeBytes });
      return;
    }
    const outcome = this.proposeAsLeader(command, session, sizeBytes);
    if (outcome.accepted) {
      this.track(requestId, 'proposal');
      this.awaitEntry(requestId, outcome.index, outcome.term);
    } else {
      this.out.reply(requestId, this.error(outcome.code, outcome.message, 'none', outcome.code === RaftErrorCode.NotLeader ? this.leadTransferee : null));
    }
  }

  /** Appends one command on the leader, or says why not. */
  private proposeAsLeader(
    command: Cmd<A>,
    session: ClientSession | null,
    sizeBytes: number,
  ): { accepted: true; index: number; term: number } | { accepted: false; code: RaftErrorCode; message: string } {
    if (this.role !== 'leader') return { accepted: false, code: RaftErrorCode.NotLeader, message: 'not the leader' };
    if (this.leadTransferee !== null) return { accepted: false, code: RaftErrorCode.NotLeader, message: 'leadership transfer in progress' };
    if (this.uncommittedBytes > 0 && this.uncommittedBytes + sizeBytes > this.config.maxUncommittedBytes) {
      return { accepted: false, code: RaftErrorCode.Overloaded, message: 'too many uncommitted bytes' };
    }
    const index = this.appendAsLeader({ type: 'command', command, session }, sizeBytes);
    return { accepted: true, index, term: this.term };
  }

  private awaitEntry(requestId: RequestId, index: number, term: number): void {
    this.proposalsByIndex.set(index, { requestId, term, next: this.proposalsByIndex.get(index) ?? null });
  }

  private handleForwardedProposals(from: NodeId, proposals: readonly ForwardedProposal<Cmd<A>>[]): void {
    const pr = this.progress.get(from);
    const results: ForwardedProposalResult[] = proposals.map((proposal) => {
      const outcome = this.proposeAsLeader(proposal.command, proposal.session, proposal.sizeBytes);
      if (outcome.accepted && pr !== undefined) pr.forwardedIndex = Math.max(pr.forwardedIndex, outcome.index);
      return outcome.accepted
        ? { origin: proposal.origin, accepted: true, index: outcome.index, term: outcome.term }
        : { origin: proposal.origin, accepted: false, code: outcome.code, message: outcome.message };
    });
    this.send(from, { type: 'forwardedProposalResults', term: this.term, results });
  }

  private handleForwardedResults(results: readonly ForwardedProposalResult[]): void {
    for (const result of results) {
      if (!this.requests.has(result.origin)) continue;
      if (!result.accepted) {
        this.replyError(result.origin, result.code, result.message, 'none');
      } else if (result.index > this.applied) {
        this.awaitEntry(result.origin, result.index, result.term);
      } else if (this.raftLog.term(result.index) !== undefined && this.raftLog.term(result.index) !== result.term) {
        this.replyError(result.origin, RaftErrorCode.ProposalDropped, 'another entry was committed at the index', 'none');
      } else {
        // Applied before we learned it was ours: it took effect, but its result is gone.
        this.replyError(result.origin, RaftErrorCode.OutcomeUnknown, 'applied before its index was known here', 'unknown');
      }
    }
  }

  private flushForwards(): void {
    // No one to forward to: no known leader, or (per-turn forwarding) we became it meanwhile.
    const leader = this.role === 'leader' ? null : this.leader;
    if (this.forwardQueue.length > 0) {
      const proposals = this.forwardQueue;
      this.forwardQueue = [];
      if (leader === null) this.refuseForwards(proposals.map((proposal) => proposal.origin));
      else this.send(leader, { type: 'forwardProposals', term: this.term, proposals });
    }
    if (this.remoteReadQueue.length > 0) {
      const reads = this.remoteReadQueue;
      this.remoteReadQueue = [];
      if (leader === null) {
        this.refuseForwards(reads.map((read) => read.requestId));
      } else {
        this.remoteReadContext += 1;
        this.remoteReadBatches.set(this.remoteReadContext, reads);
        this.send(leader, { type: 'readIndexRequest', term: this.term, context: this.remoteReadContext });
      }
    }
  }

  private refuseForwards(requestIds: readonly RequestId[]): void {
    const why = this.role === 'leader' ? 'became the leader while the request was queued for forwarding; retry' : 'no known leader';
    for (const requestId of requestIds) this.replyError(requestId, RaftErrorCode.NotLeader, why, 'none');
  }

  private handleMembershipRequest(requestId: RequestId, change: MembershipChange): void {
    if (this.role !== 'leader') {
      this.out.reply(requestId, this.error(RaftErrorCode.NotLeader, 'not the leader', 'none'));
      return;
    }
    // One change at a time, and only once this leader committed an entry of its term (the fix to
    // single-server changes, Ongaro 2015): the previous configuration must be committed.
    if (this.pendingConfIndex > this.commit || !this.committedInTerm) {
      this.out.reply(requestId, this.error(RaftErrorCode.Conflict, 'a membership change is still being committed', 'none'));
      return;
    }
    const result = applyMembershipChange(this.membership, change);
    if (!result.ok) {
      this.out.reply(requestId, this.error(RaftErrorCode.InvalidArgument, result.reason, 'none'));
      return;
    }
    if (!this.requests.hasRoom()) {
      this.out.reply(requestId, this.error(RaftErrorCode.Overloaded, 'too many pending requests', 'none'));
      return;
    }
    const index = this.appendAsLeader({ type: 'membership', change }, 0);
    this.pendingConfIndex = index;
    this.track(requestId, 'membership');
    this.awaitEntry(requestId, index, this.term);
  }

  private handleTransferRequest(requestId: RequestId, target: NodeId): void {
    if (this.role !== 'leader') {
      this.out.reply(requestId, this.error(RaftErrorCode.NotLeader, 'not the leader', 'none'));
      return;
    }
    if (target === this.id) {
      this.out.reply(requestId, { type: 'leaderTransferred', target, term: this.term });
      return;
    }
    // (A learner is never a voter: `checkMembership`'s invariant.)
    if (!isVoter(this.membership, target) || !this.progress.has(target)) {
      this.out.reply(requestId, this.error(RaftErrorCode.InvalidArgument, `${target} is not a voter`, 'none'));
      return;
    }
    if (this.leadTransferee !== null && this.leadTransferee !== target) {
      this.out.reply(requestId, this.error(RaftErrorCode.Conflict, `a transfer to ${this.leadTransferee} is in progress`, 'none'));
      return;
    }
    if (!this.requests.hasRoom()) {
      this.out.reply(requestId, this.error(RaftErrorCode.Overloaded, 'too many pending requests', 'none'));
      return;
    }
    this.track(requestId, 'transfer');
    this.transferWaiters.push(requestId);
    if (this.leadTransferee === target) return;
    this.leadTransferee = target;
    this.electionElapsed = 0;
    // The transferee's election bypasses voters' leases, so this leader's lease is void for the term.
    this.leaseDisabledThisTerm = true;
    this.leaseExpiresTick = 0;
    const pr = this.progress.get(target)!;
    if (pr.match === this.raftLog.lastIndex()) this.send(target, { type: 'timeoutNow', term: this.term });
    else this.maybeSendAppend(target, pr, true, true);
  }

  private abortTransfer(): void {
    for (const requestId of this.transferWaiters) {
      this.replyError(requestId, RaftErrorCode.Timeout, 'leadership transfer did not complete in an election timeout', 'unknown');
    }
    this.transferWaiters = [];
    this.leadTransferee = null;
  }

  private track(requestId: RequestId, kind: PendingKind): void {
    this.requests.add(requestId, kind, this.nowTick + this.config.requestTimeoutTicks);
  }

  private expireRequests(): void {
    for (const { id, kind } of this.requests.expire(this.nowTick)) {
      const effect = kind === 'read' ? 'none' : 'unknown';
      this.out.reply(id, this.error(RaftErrorCode.Timeout, `no outcome within ${this.config.requestTimeoutTicks} ticks`, effect));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Reads

  private serveRead(requestId: RequestId, query: A['query'], tracked = true): void {
    if (tracked && !this.requests.take(requestId)) return;
    this.out.reply(requestId, { type: 'read', index: this.applied, result: this.machine.query(query) });
  }

  private handleLinearizableRead(requestId: RequestId, query: A['query']): void {
    if (!this.requests.hasRoom()) {
      this.out.reply(requestId, this.error(RaftErrorCode.Overloaded, 'too many pending requests', 'none'));
      return;
    }
    if (this.role === 'leader') {
      if (this.hasValidLease()) {
        this.serveRead(requestId, query, false);
        return;
      }
      this.track(requestId, 'read');
      this.addLeaderRead({ kind: 'local', requestId, query });
      return;
    }
    if (this.leader === null) {
      this.out.reply(requestId, this.error(RaftErrorCode.NotLeader, 'no known leader', 'none'));
      return;
    }
    this.track(requestId, 'read');
    this.remoteReadQueue.push({ requestId, query });
  }

  private handleReadIndexRequest(from: NodeId, context: number): void {
    if (this.role !== 'leader') {
      this.send(from, { type: 'readIndexResponse', term: this.term, context, readIndex: null });
      return;
    }
    if (this.hasValidLease()) {
      this.send(from, { type: 'readIndexResponse', term: this.term, context, readIndex: this.commit });
      return;
    }
    this.addLeaderRead({ kind: 'remote', from, context });
  }

  /** ReadIndex (thesis §6.4): wait until this term committed an entry, then confirm leadership with a heartbeat round. */
  private addLeaderRead(waiter: ReadWaiter<A['query']>): void {
    if (!this.committedInTerm) this.readsAwaitingTermCommit.push(waiter);
    else this.addConfirmedRead(waiter);
  }

  /** The waiter joins the next heartbeat round (a lone voter needs no round). */
  private addConfirmedRead(waiter: ReadWaiter<A['query']>): void {
    if (this.membership.voters.length === 1 && !isJoint(this.membership) && this.membership.voters[0] === this.id) {
      this.resolveReadWaiter(waiter, this.commit);
      return;
    }
    this.nextReadBatch.push(waiter);
  }

  private startReadRound(): void {
    // A heartbeat round sent now carries the batch; its quorum acknowledgement confirms the read index.
    this.heartbeatElapsed = 0;
    this.broadcastHeartbeat();
  }

  /** Resolves read rounds a quorum acknowledged, and renews the lease. */
  private advanceReads(): void {
    if (this.role !== 'leader') return;
    const acked = committedValue(this.membership, (id) => (id === this.id ? this.heartbeatContext : (this.progress.get(id)?.ackedContext ?? 0)));
    while (this.readRounds.length > 0 && this.readRounds[0]!.context <= acked) {
      const round = this.readRounds.shift()!;
      for (const waiter of round.waiters) this.resolveReadWaiter(waiter, round.index);
    }
    let renewedFrom = -1;
    while (this.leaseContexts.length > 0 && this.leaseContexts[0]!.context <= acked) renewedFrom = this.leaseContexts.shift()!.tick;
    if (renewedFrom >= 0 && !this.leaseDisabledThisTerm) {
      this.leaseExpiresTick = Math.max(this.leaseExpiresTick, renewedFrom + leaseDurationTicks(this.config));
    }
  }

  private resolveReadWaiter(waiter: ReadWaiter<A['query']>, readIndex: number): void {
    if (waiter.kind === 'remote') {
      this.send(waiter.from, { type: 'readIndexResponse', term: this.term, context: waiter.context, readIndex });
      return;
    }
    if (readIndex <= this.applied) this.serveRead(waiter.requestId, waiter.query);
    else this.readsAwaitingApply.push(readIndex, { requestId: waiter.requestId, query: waiter.query });
  }

  private failReadWaiter(waiter: ReadWaiter<A['query']>): void {
    if (waiter.kind === 'remote') this.send(waiter.from, { type: 'readIndexResponse', term: this.term, context: waiter.context, readIndex: null });
    else this.replyError(waiter.requestId, RaftErrorCode.NotLeader, 'lost leadership before confirming the read', 'none');
  }

  private handleReadIndexResponse(context: number, readIndex: number | null): void {
    const reads = this.remoteReadBatches.get(context);
    if (reads === undefined) return;
    this.remoteReadBatches.delete(context);
    for (const read of reads) {
      if (!this.requests.has(read.requestId)) continue;
      if (readIndex === null) this.replyError(read.requestId, RaftErrorCode.NotLeader, 'the leader could not serve the read', 'none');
      else if (readIndex <= this.applied) this.serveRead(read.requestId, read.query);
      else this.readsAwaitingApply.push(readIndex, read);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private send(to: NodeId, message: RaftMessage<Cmd<A>>): void {
    this.out.send(to, message);
  }

  private error(code: RaftErrorCode, message: string, effect: 'none' | 'unknown', leaderHint: NodeId | null = this.leader): RaftError {
    return { type: 'error', code, message, leaderHint, effect };
  }

  /** Answers a tracked request with an error (no-op when it was already answered). */
  private replyError(requestId: RequestId, code: RaftErrorCode, message: string, effect: 'none' | 'unknown'): void {
    if (!this.requests.take(requestId)) return;
    this.out.reply(requestId, this.error(code, message, effect));
  }
}

function concatChunks(chunks: readonly Uint8Array[], totalBytes: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const data = new Uint8Array(totalBytes);
  let offset = 0;
  for (const chunk of chunks) {
    data.set(chunk, offset);
    offset += chunk.length;
  }
  return data;
}

/** A `CoreFactory` for hosts: `createRaftCore({ stateMachine: () => new KvStateMachine(), ...knobs })`. */
export function createRaftCore<A extends AppTypes>(
  options: Partial<RaftConfig<A>> & Pick<RaftConfig<A>, 'stateMachine'>,
): CoreFactory<RaftMessage<A['command']>, RaftRecord<A['command']>, RaftRequest<A>, RaftReply<A>> {
  const config = resolveRaftConfig(options);
  return (context) => new RaftCore<A>(context, config);
}
