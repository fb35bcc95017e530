import type { NodeId } from '../core/ids.js';
import { ConcordError, ErrorCode } from '../core/errors.js';
import type { Runtime } from '../net/runtime.js';
import type { KvCommand, KvQuery, KvQueryResult, KvRecord, KvResult, KvStateMachine, KvTypes } from '../protocols/raft/kv.js';
import type { RaftError, RaftMessage, RaftRecord, RaftReply, RaftRequest, RaftStatus } from '../protocols/raft/types.js';
import type {
  CasResult, ClusterStatus, DeleteResult, KvEntry, KvService, MemberRole, MemberStatus, PutResult, RangeResult, ReadOptions,
  WatchHandle, WatchHandlers, WriteOptions,
} from './api.js';
import { WatchHub } from './watch-hub.js';

export type KvRaftMessage = RaftMessage<KvCommand>;
export type KvRaftRecord = RaftRecord<KvCommand>;
export type KvRaftRequest = RaftRequest<KvTypes>;
export type KvRaftReply = RaftReply<KvTypes>;
export type KvRuntime = Runtime<KvRaftMessage, KvRaftRecord, KvRaftRequest, KvRaftReply>;

/**
 * Keys under this prefix hold cluster metadata replicated through the log itself: the peer
 * address (`…/peer/<id>`) and HTTP address (`…/http/<id>`) of every member, so every replica can
 * reach a member added at run time. Users cannot read or write them (keys must not start with NUL).
 */
export const reservedPrefix = '\u0000concord/';
export const peerAddressKey = (id: NodeId): string => `${reservedPrefix}peer/${id}`;
export const httpAddressKey = (id: NodeId): string => `${reservedPrefix}http/${id}`;

/** Pause between retries of a request that certainly had no effect (no leader yet, dropped). */
const retryDelayMs = 20;

export interface RaftKvServiceOptions {
  readonly id: NodeId;
  readonly runtime: KvRuntime;
  /** The core's live status (cheap, synchronous). */
  readonly status: () => RaftStatus;
  /** The state machine instance the core applies to (read between inputs, never written). */
  readonly stateMachine: () => KvStateMachine;
  /** Peer addresses from this node's configuration (the initial members). */
  readonly configuredPeers: ReadonlyMap<NodeId, string>;
  /** Counts proposals for metrics. */
  readonly onProposal?: (op: KvCommand['op']) => void;
}

/** API v1 over the Raft runtime. */
export class RaftKvService implements KvService {
  readonly id: NodeId;
  readonly watchHub: WatchHub;

  constructor(private readonly options: RaftKvServiceOptions) {
    this.id = options.id;
    this.watchHub = new WatchHub(options.stateMachine, reservedPrefix);
  }

  // ---------------------------------------------------------------- KV

  async put(key: string, value: string, options: WriteOptions): Promise<PutResult> {
    checkUserKey(key);
    const result = await this.propose({ op: 'put', key, value }, options);
    assertOp(result, 'put');
    return { key, value, revision: result.revision };
  }

  async delete(key: string, options: WriteOptions): Promise<DeleteResult> {
    checkUserKey(key);
    const result = await this.propose({ op: 'delete', key }, options);
    assertOp(result, 'delete');
    return { key, deleted: result.deleted, revision: result.revision };
  }

  async cas(key: string, expected: string | null, value: string, options: WriteOptions): Promise<CasResult> {
    checkUserKey(key);
    const result = await this.propose({ op: 'cas', key, expected, value }, options);
    assertOp(result, 'cas');
    const current = result.current === null ? null : entryOf(result.current);
    return result.succeeded ? { succeeded: true, entry: current! } : { succeeded: false, current };
  }

  async get(key: string, options: ReadOptions): Promise<KvEntry | null> {
    checkUserKey(key);
    const result = await this.read({ op: 'get', key }, options);
    assertOp(result, 'get');
    return result.record === null ? null : entryOf(result.record);
  }

  async range(prefix: string, limit: number, options: ReadOptions): Promise<RangeResult> {
    checkUserKey(prefix);
    // Reserved keys sort first (NUL); ask for enough extra to fill `limit` after hiding them.
    const hidden = prefix === '' ? this.reservedKeyCount() : 0;
    const result = await this.read({ op: 'range', prefix, limit: limit + hidden }, options);
    assertOp(result, 'range');
    const visible = result.records.filter((record) => !record.key.startsWith(reservedPrefix));
    return {
      entries: visible.slice(0, limit).map(entryOf),
      more: result.more || visible.length > limit,
      revision: result.revision,
    };
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): WatchHandle {
    checkUserKey(prefix);
    return this.watchHub.watch(prefix, fromRevision, handlers);
  }

  // ---------------------------------------------------------------- cluster

  cluster(): ClusterStatus {
    const status = this.options.status();
    const membership = status.membership;
    const ids = [...new Set([...membership.voters, ...membership.outgoingVoters, ...membership.learners, ...membership.learnersNext])].sort();
    const members: MemberStatus[] = ids.map((id) => ({
      id,
      address: this.peerAddress(id) ?? '',
      voter: membership.voters.includes(id) || membership.outgoingVoters.includes(id),
      role: roleOf(id, status),
      matchIndex: status.progress?.[id]?.match ?? null,
    }));
    return {
      id: this.id,
      leader: status.leader,
      term: status.term,
      commitIndex: status.commitIndex,
      appliedIndex: status.appliedIndex,
      snapshotIndex: status.snapshotIndex,
      revision: this.options.stateMachine().revision,
      role: roleOf(this.id, status),
      members,
    };
  }

  async addMember(member: { readonly id: NodeId; readonly address: string; readonly voter: boolean }, options: WriteOptions): Promise<ClusterStatus> {
    const deadline = Date.now() + options.timeoutMs;
    // The address first: once the member is in the configuration, every replica must reach it.
    await this.propose({ op: 'put', key: peerAddressKey(member.id), value: member.address }, { timeoutMs: options.timeoutMs });
    await this.changeMembership({ type: member.voter ? 'addVoter' : 'addLearner', node: member.id }, deadline);
    return this.cluster();
  }

  async removeMember(id: NodeId, options: WriteOptions): Promise<ClusterStatus> {
    const deadline = Date.now() + options.timeoutMs;
    const status = this.options.status();
    const known = [...status.membership.voters, ...status.membership.learners, ...status.membership.outgoingVoters].includes(id);
    if (!known) throw new ConcordError(ErrorCode.NotFound, `${id} is not a member`);
    await this.changeMembership({ type: 'remove', node: id }, deadline);
    return this.cluster();
  }

  async transferLeader(to: NodeId | null, options: { readonly timeoutMs: number }): Promise<ClusterStatus> {
    const status = this.options.status();
    if (status.role !== 'leader') throw this.notLeader(status);
    const target = to ?? bestTransferTarget(status);
    if (target === null) throw new ConcordError(ErrorCode.InvalidArgument, 'no other voter to transfer leadership to');
    const deadline = Date.now() + options.timeoutMs;
    const reply = await this.options.runtime.request({ type: 'transferLeader', target }, { timeoutMs: options.timeoutMs });
    if (reply.type === 'error') throw errorOf(reply);
    // Answer with the new leader when this node learns of it soon (it usually does within a heartbeat).
    const waitUntil = Math.min(deadline, Date.now() + 1_000);
    while (this.options.status().leader === null && Date.now() < waitUntil) {
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
    }
    return this.cluster();
  }

  /** HTTP address of the current leader as replicated in metadata, for proxying admin calls. */
  adminTarget(): string | null {
    const leader = this.options.status().leader;
    if (leader === null || leader === this.id) return null;
    return this.metadata(httpAddressKey(leader));
  }

  isLeader(): boolean {
    return this.options.status().role === 'leader';
  }

  /** Peer address of a member: replicated metadata first, then this node's configuration. */
  peerAddress(id: NodeId): string | null {
    return this.metadata(peerAddressKey(id)) ?? this.options.configuredPeers.get(id) ?? null;
  }

  /** Records this node's HTTP address in the replicated metadata if it is missing or changed. */
  async advertiseHttpAddress(address: string, timeoutMs: number): Promise<void> {
    if (this.metadata(httpAddressKey(this.id)) === address) return;
    await this.propose({ op: 'put', key: httpAddressKey(this.id), value: address }, { timeoutMs });
  }

  // ---------------------------------------------------------------- plumbing

  /** Every member of the current configuration (voters of both halves and learners), sorted. */
  memberIds(): NodeId[] {
    const membership = this.options.status().membership;
    return [...new Set([...membership.voters, ...membership.outgoingVoters, ...membership.learners, ...membership.learnersNext])].sort();
  }

  /** Replicated metadata entries under `prefix` (a reserved prefix), read locally. */
  metadataEntries(prefix: string): { key: string; value: string }[] {
    const result = this.options.stateMachine().query({ op: 'range', prefix, limit: 100_000 });
    return result.op === 'range' ? result.records.map((record) => ({ key: record.key, value: record.value })) : [];
  }

  metadataValue(key: string): string | null {
    return this.metadata(key);
  }

  private metadata(key: string): string | null {
    const result = this.options.stateMachine().query({ op: 'get', key });
    return result.op === 'get' && result.record !== null ? result.record.value : null;
  }

  private reservedKeyCount(): number {
    const result = this.options.stateMachine().query({ op: 'range', prefix: reservedPrefix, limit: 100_000 });
    return result.op === 'range' ? result.records.length : 0;
  }

  /** Proposes a command; retries (within the deadline) only while it certainly had no effect. */
  private async propose(command: KvCommand, options: WriteOptions): Promise<KvResult> {
    this.options.onProposal?.(command.op);
    const request: KvRaftRequest = options.session === undefined ? { type: 'propose', command } : { type: 'propose', command, session: options.session };
    const reply = await this.requestWithRetry(request, Date.now() + options.timeoutMs);
    if (reply.type !== 'applied') throw new ConcordError(ErrorCode.Internal, `unexpected reply ${reply.type} to a proposal`);
    return reply.result;
  }

  private async read(query: KvQuery, options: ReadOptions): Promise<KvQueryResult> {
    if (options.consistency === 'serializable') {
      // The local replica's applied state, read between inputs: committed, so durable on a quorum.
      return this.options.stateMachine().query(query);
    }
    const reply = await this.requestWithRetry({ type: 'read', query, consistency: 'linearizable' }, Date.now() + options.timeoutMs);
    if (reply.type !== 'read') throw new ConcordError(ErrorCode.Internal, `unexpected reply ${reply.type} to a read`);
    return reply.result;
  }

  private async changeMembership(item: { type: 'addVoter' | 'addLearner' | 'remove'; node: NodeId }, deadline: number): Promise<void> {
    const reply = await this.requestWithRetry({ type: 'changeMembership', change: { changes: [item], transition: 'auto' } }, deadline);
    if (reply.type !== 'membershipChanged') throw new ConcordError(ErrorCode.Internal, `unexpected reply ${reply.type} to a membership change`);
  }

  private async requestWithRetry(request: KvRaftRequest, deadline: number): Promise<KvRaftReply> {
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new ConcordError(ErrorCode.Timeout, 'request deadline passed', { effect: 'unknown' });
      const reply = await this.options.runtime.request(request, { timeoutMs: remaining });
      if (reply.type !== 'error') return reply;
      const retryable = reply.effect === 'none' && (reply.code === 'NOT_LEADER' || reply.code === 'PROPOSAL_DROPPED');
      if (!retryable || deadline - Date.now() <= retryDelayMs) throw errorOf(reply);
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
    }
  }

  private notLeader(status: RaftStatus): ConcordError {
    return status.leader === null
      ? new ConcordError(ErrorCode.NoLeader, 'no leader is known yet')
      : new ConcordError(ErrorCode.NotLeader, `${status.leader} leads`, { leader: status.leader });
  }
}

function roleOf(id: NodeId, status: RaftStatus): MemberRole {
  if (status.membership.learners.includes(id)) return 'learner';
  if (id === status.leader) return 'leader';
  if (id === status.id) return status.role === 'leader' ? 'leader' : status.role === 'follower' ? 'follower' : 'candidate';
  return status.leader === null ? 'unknown' : 'follower';
}

function bestTransferTarget(status: RaftStatus): NodeId | null {
  let best: NodeId | null = null;
  let bestMatch = -1;
  for (const id of status.membership.voters) {
    if (id === status.id) continue;
    const match = status.progress?.[id]?.match ?? 0;
    if (match > bestMatch) {
      best = id;
      bestMatch = match;
    }
  }
  return best;
}

function entryOf(record: KvRecord): KvEntry {
  return { key: record.key, value: record.value, revision: record.modRevision };
}

function checkUserKey(key: string): void {
  if (key.startsWith('\u0000')) throw new ConcordError(ErrorCode.InvalidArgument, 'keys and prefixes starting with U+0000 are reserved');
}

function assertOp<T extends { op: string }, O extends T['op']>(result: T, op: O): asserts result is Extract<T, { op: O }> {
  if (result.op !== op) throw new ConcordError(ErrorCode.Internal, `expected a ${op} result, got ${result.op}`);
}

/** Maps a Raft reply error to the service's stable codes (and thereby to an HTTP status). */
export function errorOf(error: RaftError): ConcordError {
  const details = { raftCode: error.code, effect: error.effect, ...(error.leaderHint === null ? {} : { leader: error.leaderHint }) };
  switch (error.code) {
    case 'NOT_LEADER':
      return new ConcordError(error.leaderHint === null ? ErrorCode.NoLeader : ErrorCode.NotLeader, error.message, details);
    case 'OVERLOADED':
    case 'PROPOSAL_DROPPED':
      return new ConcordError(ErrorCode.Overloaded, error.message, details);
    case 'CONFLICT':
      return new ConcordError(ErrorCode.Conflict, error.message, details);
    case 'INVALID_ARGUMENT':
    case 'SESSION_EXPIRED':
    case 'SESSION_STALE':
      return new ConcordError(ErrorCode.InvalidArgument, error.message, details);
    case 'TIMEOUT':
    case 'OUTCOME_UNKNOWN':
      return new ConcordError(ErrorCode.Timeout, error.message, details);
  }
}
