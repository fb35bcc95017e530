import type { NodeId } from '../core/ids.js';

/**
 * The KV service as the HTTP layer sees it: every operation of API v1, independent of how it is
 * replicated. `RaftKvService` (service.ts) implements it over the Raft runtime. Expected failures
 * reject with a `ConcordError` whose code the HTTP layer maps to a status (http.ts).
 */

export type Consistency = 'linearizable' | 'serializable';

export interface KvEntry {
  readonly key: string;
  readonly value: string;
  /** Revision of the last change of this key. */
  readonly revision: number;
}

/** Identifies a client session for exactly-once retries (Raft thesis §6.3). */
export interface SessionRef {
  readonly clientId: string;
  readonly sequence: number;
}

export interface WriteOptions {
  readonly session?: SessionRef;
  readonly timeoutMs: number;
}

export interface ReadOptions {
  readonly consistency: Consistency;
  readonly timeoutMs: number;
}

export type PutResult = KvEntry;

export interface DeleteResult {
  readonly key: string;
  readonly deleted: boolean;
  /** Store revision after the operation. */
  readonly revision: number;
}

export type CasResult =
  | { readonly succeeded: true; readonly entry: KvEntry }
  | { readonly succeeded: false; readonly current: KvEntry | null };

export interface RangeResult {
  readonly entries: readonly KvEntry[];
  /** True when more keys match than `limit`. */
  readonly more: boolean;
  /** Store revision the listing was taken at. */
  readonly revision: number;
}

export type WatchEvent =
  | { readonly type: 'put'; readonly key: string; readonly value: string; readonly revision: number }
  | { readonly type: 'delete'; readonly key: string; readonly revision: number };

export interface WatchHandlers {
  /** Events in revision order, each delivered once. */
  onEvents(events: readonly WatchEvent[]): void;
  /** The watch ended (compacted history, node stopping); no more events follow. */
  onError(error: Error): void;
}

export interface WatchHandle {
  cancel(): void;
}

export type MemberRole = 'leader' | 'follower' | 'candidate' | 'learner' | 'unknown';

export interface MemberStatus {
  readonly id: NodeId;
  readonly address: string;
  readonly voter: boolean;
  readonly role: MemberRole;
  /** Leader's view of the member's replicated index (null when unknown here). */
  readonly matchIndex: number | null;
}

export interface ClusterStatus {
  /** The node answering. */
  readonly id: NodeId;
  readonly leader: NodeId | null;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  /** Last log index covered by this node's latest snapshot (0: none yet). */
  readonly snapshotIndex: number;
  readonly revision: number;
  readonly role: MemberRole;
  readonly members: readonly MemberStatus[];
}

export interface KvService {
  readonly id: NodeId;
  put(key: string, value: string, options: WriteOptions): Promise<PutResult>;
  get(key: string, options: ReadOptions): Promise<KvEntry | null>;
  delete(key: string, options: WriteOptions): Promise<DeleteResult>;
  cas(key: string, expected: string | null, value: string, options: WriteOptions): Promise<CasResult>;
  range(prefix: string, limit: number, options: ReadOptions): Promise<RangeResult>;
  /** Streams changes to keys under `prefix` with revision ≥ `fromRevision` (0: from now on). */
  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): WatchHandle;
  cluster(): ClusterStatus;
  addMember(member: { readonly id: NodeId; readonly address: string; readonly voter: boolean }, options: WriteOptions): Promise<ClusterStatus>;
  removeMember(id: NodeId, options: WriteOptions): Promise<ClusterStatus>;
  transferLeader(to: NodeId | null, options: { readonly timeoutMs: number }): Promise<ClusterStatus>;
  /**
   * Where cluster-administration requests should go when this node cannot serve them itself: the
   * leader's HTTP address (`host:port`), or null to serve (or fail) locally.
   */
  adminTarget(): string | null;
}

/** Limits of API v1 (validated at the HTTP edge; the service relies on them). */
export interface KvLimits {
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  readonly maxBodyBytes: number;
  readonly maxRangeLimit: number;
  readonly maxWatchers: number;
}

export const defaultKvLimits: KvLimits = {
  maxKeyBytes: 4096,
  maxValueBytes: 1 << 20,
  maxBodyBytes: (1 << 20) * 2 + 4096,
  maxRangeLimit: 10_000,
  maxWatchers: 1024,
};
