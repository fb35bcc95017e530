import type { NodeId } from '../../core/ids.js';

/**
 * PBFT (Castro & Liskov, "Practical Byzantine Fault Tolerance", OSDI 1999): n = 3f + 1 replicas
 * order client requests despite f Byzantine ones. The primary of view v is the replica at index
 * v mod n of the sorted members. The variant here is the one with signatures (§4): every message
 * that can end up inside a certificate (pre-prepare, prepare, checkpoint, view-change, and client
 * requests) carries an Ed25519 signature; the rest rely on the transport's sender authentication.
 */

/** A client's signed request (§4.1 ⟨REQUEST, o, t, c⟩σc). `timestamp` grows per client. */
export interface ClientRequest {
  readonly client: string;
  readonly timestamp: number;
  readonly operation: string;
  readonly signature: string;
}

/** Digest of the null request a new primary puts into a gap (§4.4). */
export const nullDigest = 'null';

export interface PrePrepare {
  readonly type: 'pre-prepare';
  readonly view: number;
  readonly seq: number;
  readonly digest: string;
  /** The request itself (piggybacked, §4.2), or null for a null request. */
  readonly request: ClientRequest | null;
  readonly replica: NodeId;
  readonly signature: string;
}

export interface Prepare {
  readonly type: 'prepare';
  readonly view: number;
  readonly seq: number;
  readonly digest: string;
  readonly replica: NodeId;
  readonly signature: string;
}

export interface Checkpoint {
  readonly type: 'checkpoint';
  readonly seq: number;
  readonly stateDigest: string;
  readonly replica: NodeId;
  readonly signature: string;
}

/** A pre-prepare and 2f matching prepares from distinct backups. */
export interface PreparedCertificate {
  readonly prePrepare: PrePrepare;
  readonly prepares: readonly Prepare[];
}

/** 2f + 1 matching checkpoint messages from distinct replicas; empty for the initial state (seq 0). */
export interface CheckpointProof {
  readonly seq: number;
  readonly stateDigest: string;
  readonly checkpoints: readonly Checkpoint[];
}

export interface ViewChange {
  readonly type: 'view-change';
  /** The view the sender moves to. */
  readonly view: number;
  readonly stable: CheckpointProof;
  /** One certificate per sequence number above `stable.seq` the sender prepared (highest view). */
  readonly prepared: readonly PreparedCertificate[];
  readonly replica: NodeId;
  readonly signature: string;
}

export interface NewView {
  readonly type: 'new-view';
  readonly view: number;
  readonly viewChanges: readonly ViewChange[];
  readonly prePrepares: readonly PrePrepare[];
  readonly replica: NodeId;
}

/** The replicated state of a stable checkpoint, sent to a replica that fell behind it. */
export interface StateSnapshot {
  readonly counters: readonly (readonly [string, number])[];
  readonly clients: readonly (readonly [string, { readonly timestamp: number; readonly result: string }])[];
}

export type PbftMessage =
  /** A client request relayed by the replica the client asked (§4.1: to the primary). */
  | { readonly type: 'request'; readonly request: ClientRequest }
  | PrePrepare
  | Prepare
  | { readonly type: 'commit'; readonly view: number; readonly seq: number; readonly digest: string; readonly replica: NodeId }
  | Checkpoint
  | ViewChange
  | NewView
  /** Periodic: where the sender is, so peers can retransmit what it misses (losses, restarts). */
  | { readonly type: 'status'; readonly view: number; readonly changing: boolean; readonly executed: number; readonly stableSeq: number }
  /** State transfer: the snapshot behind a stable checkpoint, with its proof. */
  | { readonly type: 'state'; readonly proof: CheckpointProof; readonly snapshot: StateSnapshot };

export type PbftRecord =
  /**
   * Synced before the view-change (or the prepares of a new view) leave. `floorSeq`: the new
   * primary never assigns a sequence number at or below it (max-s of the new view).
   */
  | { readonly type: 'view'; readonly view: number; readonly changing: boolean; readonly floorSeq: number }
  /** An accepted pre-prepare; synced before our prepare (or, at the primary, the pre-prepare) leaves. */
  | { readonly type: 'pre-prepared'; readonly prePrepare: PrePrepare }
  /** Synced before our commit leaves: a view change must report it. */
  | { readonly type: 'prepared'; readonly certificate: PreparedCertificate }
  /** Lazy: a lost one is committed again (the prepared record survives). */
  | { readonly type: 'committed'; readonly seq: number; readonly digest: string; readonly request: ClientRequest | null }
  /** Lazy: a stable checkpoint with its state; recovery starts from the newest. */
  | { readonly type: 'stable'; readonly proof: CheckpointProof; readonly snapshot: StateSnapshot };

export type PbftRequest = { readonly type: 'submit'; readonly request: ClientRequest };

export type PbftReply =
  /** ⟨REPLY, v, t, c, i, r⟩: replica `replica` executed the request with `result`. */
  | { readonly type: 'result'; readonly view: number; readonly client: string; readonly timestamp: number; readonly replica: NodeId; readonly result: string }
  | { readonly type: 'error'; readonly code: string; readonly message: string };

/** What one replica executed, in order (checkers read it incrementally). */
export interface ExecutedEntry {
  readonly seq: number;
  readonly digest: string;
  readonly request: ClientRequest | null;
  /** Null for a null request and for a duplicate that was not applied again. */
  readonly result: string | null;
  /** True when the entry is a state transfer to `seq` (the entries up to it were not executed here). */
  readonly transferred: boolean;
  readonly stateDigest: string | null;
}
