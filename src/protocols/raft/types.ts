import type { NodeId, RequestId } from '../../core/ids.js';

/**
 * The types of a Raft core: log entries, the peer message union, the durable record union, and
 * the client request / reply unions. Everything here is plain data (no classes) so both hosts can
 * encode it with MessagePack. Entries and messages are immutable once built: the simulator hands
 * the same object to several nodes.
 */

/**
 * What the replicated application's values are. A core is generic over one `AppTypes` so the KV
 * state machine (`KvTypes`) and test machines each get precise command / query / result types.
 */
export interface AppTypes {
  readonly command: unknown;
  readonly result: unknown;
  readonly query: unknown;
  readonly queryResult: unknown;
}

/** A client session (Raft thesis §6.3): commands with the same (clientId, sequence) take effect once. */
export interface ClientSession {
  readonly clientId: string;
  /** 1 for the first command of a session, then increasing; one command in flight per client. */
  readonly sequence: number;
}

// ---------------------------------------------------------------------------------------------
// Membership

/**
 * A cluster configuration (etcd `ConfState`). Not joint when `outgoingVoters` is empty. While
 * joint, decisions need a majority of `voters` (C_new) *and* of `outgoingVoters` (C_old).
 * `learnersNext` holds voters of C_old being demoted to learners on leaving the joint state.
 * All lists are sorted and disjoint as described on `checkMembership`.
 */
export interface Membership {
  readonly voters: readonly NodeId[];
  readonly outgoingVoters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly learnersNext: readonly NodeId[];
  /** When joint: the leader proposes leaving the joint state by itself once entering it applied. */
  readonly autoLeave: boolean;
}

export interface MembershipChangeItem {
  readonly type: 'addVoter' | 'addLearner' | 'remove';
  readonly node: NodeId;
}

/**
 * One configuration change (etcd `ConfChangeV2`).
 * - `auto`: one voter changed at most → applied directly (one-server change); more → joint
 *   consensus, left automatically.
 * - `jointImplicit`: always joint, left automatically. `jointExplicit`: joint until a change with
 *   no items (the "leave joint" change) is proposed.
 * - A change with no items leaves the joint state.
 */
export interface MembershipChange {
  readonly changes: readonly MembershipChangeItem[];
  readonly transition: 'auto' | 'jointImplicit' | 'jointExplicit';
}

// ---------------------------------------------------------------------------------------------
// Log

export type EntryPayload<C> =
  /** Appended by every new leader (commits the leader's term, thesis §6.4). */
  | { readonly type: 'empty' }
  | { readonly type: 'command'; readonly command: C; readonly session: ClientSession | null }
  | { readonly type: 'membership'; readonly change: MembershipChange }
  /** Entry 1 of a freshly bootstrapped cluster: the founding voters. */
  | { readonly type: 'bootstrap'; readonly voters: readonly NodeId[] };

export interface LogEntry<C> {
  readonly index: number;
  readonly term: number;
  /** Approximate encoded size, used for message sizing and the uncommitted-bytes bound. */
  readonly sizeBytes: number;
  readonly payload: EntryPayload<C>;
}

export interface SnapshotMeta {
  /** Last entry the snapshot covers, and its term. */
  readonly index: number;
  readonly term: number;
  /** The configuration in effect at `index`. */
  readonly membership: Membership;
}

export interface HardState {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
}

// ---------------------------------------------------------------------------------------------
// Peer messages. Every message carries the sender's `term` (the pre-vote pair carries the term
// the candidate would campaign in).

export type RaftMessage<C = unknown> =
  /** AppendEntries (Figure 2). `commit` is the leader's commit index clamped to what it knows the follower has. */
  | {
      readonly type: 'append';
      readonly term: number;
      readonly prevIndex: number;
      readonly prevTerm: number;
      readonly entries: readonly LogEntry<C>[];
      readonly commit: number;
    }
  /** The follower's log matches the leader's through `matchIndex` (durably). */
  | { readonly type: 'appendAccepted'; readonly term: number; readonly matchIndex: number }
  /**
   * The consistency check failed at `rejectedIndex` (the append's `prevIndex`). Fast backtracking:
   * `hintIndex` is the largest index ≤ min(rejectedIndex, lastIndex) whose term is ≤ the
   * append's `prevTerm`, and `hintTerm` its term (0 when unknown).
   */
  | {
      readonly type: 'appendRejected';
      readonly term: number;
      readonly rejectedIndex: number;
      readonly hintIndex: number;
      readonly hintTerm: number;
    }
  /** Pre-vote (thesis §9.6): `term` is the term the sender would campaign in; nobody's term changes. */
  | { readonly type: 'requestPreVote'; readonly term: number; readonly lastIndex: number; readonly lastTerm: number }
  | { readonly type: 'preVoteResponse'; readonly term: number; readonly granted: boolean }
  /** `transfer` marks an election started by leadership transfer: voters ignore their leader lease. */
  | {
      readonly type: 'requestVote';
      readonly term: number;
      readonly lastIndex: number;
      readonly lastTerm: number;
      readonly transfer: boolean;
    }
  | { readonly type: 'voteResponse'; readonly term: number; readonly granted: boolean }
  /** `context` numbers the leader's heartbeat rounds; echoed for ReadIndex and leases. */
  | { readonly type: 'heartbeat'; readonly term: number; readonly commit: number; readonly context: number }
  | { readonly type: 'heartbeatResponse'; readonly term: number; readonly context: number }
  /** One chunk of an InstallSnapshot transfer; the transfer is complete when offset + data.length === totalBytes. */
  | {
      readonly type: 'snapshotChunk';
      readonly term: number;
      readonly snapshot: SnapshotMeta;
      readonly totalBytes: number;
      readonly offset: number;
      readonly data: Uint8Array;
    }
  /** The follower holds the first `receivedBytes` bytes of the snapshot at `snapshotIndex`. */
  | { readonly type: 'snapshotChunkAck'; readonly term: number; readonly snapshotIndex: number; readonly receivedBytes: number }
  /** Leadership transfer: campaign now, skipping pre-vote and leases. */
  | { readonly type: 'timeoutNow'; readonly term: number }
  /** Proposals a follower forwards to its leader; `origin` is the follower's request id. */
  | { readonly type: 'forwardProposals'; readonly term: number; readonly proposals: readonly ForwardedProposal<C>[] }
  | { readonly type: 'forwardedProposalResults'; readonly term: number; readonly results: readonly ForwardedProposalResult[] }
  /** A follower asks its leader for a read index; `context` is the follower's id for the request batch. */
  | { readonly type: 'readIndexRequest'; readonly term: number; readonly context: number }
  /** `readIndex` null: the leader could not serve the read (not leader any more). */
  | { readonly type: 'readIndexResponse'; readonly term: number; readonly context: number; readonly readIndex: number | null };

export interface ForwardedProposal<C> {
  readonly origin: RequestId;
  readonly command: C;
  readonly session: ClientSession | null;
  readonly sizeBytes: number;
}

export type ForwardedProposalResult =
  | { readonly origin: RequestId; readonly accepted: true; readonly index: number; readonly term: number }
  | { readonly origin: RequestId; readonly accepted: false; readonly code: RaftErrorCode; readonly message: string };

export type RaftMessageType = RaftMessage['type'];

// ---------------------------------------------------------------------------------------------
// Durable records

/**
 * What a Raft core asks its host to persist. Replaying a node's surviving records in order with
 * `recoverRaftState` rebuilds its durable state exactly.
 * - `hardState`: term, vote and commit after a change (synced when term or vote changed).
 * - `entries`: entries to append; the first entry's index implicitly truncates any suffix from
 *   that index on (a conflicting tail replaced by a new leader's entries).
 * - `checkpoint`: a self-contained image — snapshot (metadata + state-machine bytes), hard state
 *   and the retained log — after which every earlier record is redundant (`isRaftCheckpoint`).
 */
export type RaftRecord<C = unknown> =
  | { readonly type: 'hardState'; readonly hardState: HardState }
  | { readonly type: 'entries'; readonly entries: readonly LogEntry<C>[] }
  | {
      readonly type: 'checkpoint';
      readonly snapshot: SnapshotMeta;
      readonly data: Uint8Array;
      readonly hardState: HardState;
      /** The log's compaction point: the entry just before `entries[0]` (index ≤ snapshot.index). */
      readonly logStart: { readonly index: number; readonly term: number };
      readonly entries: readonly LogEntry<C>[];
    };

/** For `MemoryDurableLog` and the real WAL: records before the latest synced checkpoint can go. */
export function isRaftCheckpoint(record: RaftRecord<unknown>): boolean {
  return record.type === 'checkpoint';
}

// ---------------------------------------------------------------------------------------------
// Client requests and replies

export type ReadConsistency =
  /** ReadIndex (or a leader lease when `linearizableReadMode` is `lease`); served on leader or follower. */
  | 'linearizable'
  /** The local replica's state, possibly stale; never blocks. */
  | 'serializable';

export type RaftRequest<A extends AppTypes = AppTypes> =
  | { readonly type: 'propose'; readonly command: A['command']; readonly session?: ClientSession }
  | { readonly type: 'read'; readonly query: A['query']; readonly consistency: ReadConsistency }
  | { readonly type: 'changeMembership'; readonly change: MembershipChange }
  | { readonly type: 'transferLeader'; readonly target: NodeId }
  | { readonly type: 'status' }
  /** Start an election now (etcd `MsgHup`): an operator / test tool. */
  | { readonly type: 'campaign' };

/**
 * Error codes in replies. `NOT_LEADER`, `OVERLOADED`, `PROPOSAL_DROPPED`, `SESSION_*`, `CONFLICT`
 * and `INVALID_ARGUMENT` mean the request had no effect; `TIMEOUT` and `OUTCOME_UNKNOWN` mean it
 * may or may not have (the `effect` field says which, so a history records fail vs info).
 */
export const RaftErrorCode = {
  NotLeader: 'NOT_LEADER',
  Overloaded: 'OVERLOADED',
  ProposalDropped: 'PROPOSAL_DROPPED',
  SessionExpired: 'SESSION_EXPIRED',
  SessionStale: 'SESSION_STALE',
  Conflict: 'CONFLICT',
  InvalidArgument: 'INVALID_ARGUMENT',
  Timeout: 'TIMEOUT',
  OutcomeUnknown: 'OUTCOME_UNKNOWN',
} as const;
export type RaftErrorCode = (typeof RaftErrorCode)[keyof typeof RaftErrorCode];

export interface RaftError {
  readonly type: 'error';
  readonly code: RaftErrorCode;
  readonly message: string;
  /** Who this node believes leads (for `NOT_LEADER`), or null. */
  readonly leaderHint: NodeId | null;
  /** `none`: the request certainly did not take effect; `unknown`: it may have. */
  readonly effect: 'none' | 'unknown';
}

export type RaftReply<A extends AppTypes = AppTypes> =
  | { readonly type: 'applied'; readonly index: number; readonly result: A['result'] }
  | { readonly type: 'read'; readonly index: number; readonly result: A['queryResult'] }
  | { readonly type: 'membershipChanged'; readonly index: number; readonly membership: Membership }
  | { readonly type: 'leaderTransferred'; readonly target: NodeId; readonly term: number }
  | { readonly type: 'status'; readonly status: RaftStatus }
  | { readonly type: 'accepted' }
  | RaftError;

// ---------------------------------------------------------------------------------------------
// Inspection

export type RaftRole = 'follower' | 'preCandidate' | 'candidate' | 'leader';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly inflightMessages: number;
  readonly recentActive: boolean;
  readonly learner: boolean;
}

/**
 * What an observer polls after every simulator event (`RaftCore.brief()`): no copies, no digest.
 * `status()` builds the state machine's digest string and a progress table each time, which was
 * ~30 % of a raft-kv sweep's CPU when the safety checker took it after every event.
 */
export interface RaftBrief {
  readonly id: NodeId;
  readonly role: RaftRole;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  /** Index of the snapshot being taken over several steps (not yet durable, not yet sent), or 0. */
  readonly snapshotInProgressIndex: number;
  /** The current configuration (the core's own object, not a copy). */
  readonly membership: Membership;
}

/** A read-only picture of one node (the digest and progress table cost more than `RaftBrief`). */
export interface RaftStatus extends RaftBrief {
  readonly vote: NodeId | null;
  readonly leader: NodeId | null;
  /** Highest index known durable on this node's own disk. */
  readonly durableIndex: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly lastTerm: number;
  /** Bytes of the image produced so far by the snapshot in progress (0 when none). */
  readonly snapshotInProgressBytes: number;
  /** The state machine's digest at `appliedIndex` (sessions included). */
  readonly digest: string;
  readonly leadTransferee: NodeId | null;
  readonly uncommittedBytes: number;
  readonly pendingRequests: number;
  /** Per-member replication progress; only on a leader. */
  readonly progress: Readonly<Record<NodeId, ProgressStatus>> | null;
}
