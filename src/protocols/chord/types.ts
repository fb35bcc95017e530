import type { NodeId } from '../../core/ids.js';
import type { ChordId } from './ids.js';

/**
 * Chord (Stoica, Morris, Karger, Kaashoek, Balakrishnan, SIGCOMM 2001) with a small key-value
 * store on top. Peers name each other by NodeId; a receiver derives identifiers itself
 * (`chordId(node)`), so a message can never carry a node and an identifier that disagree.
 */

/** A stored value: the highest `version` wins (versions are supplied by clients). */
export interface Item {
  readonly key: string;
  readonly value: string;
  readonly version: number;
}

/** What a lookup wants: the owner's answer goes to one of these. */
export type LookupPurpose = 'client' | 'put' | 'get' | 'finger' | 'join' | 'merge';

export type ChordMessage =
  /** Iterative lookup step (§4.4): "is `key` yours to answer? If not, who is closer?" `avoid`: nodes that timed out. */
  | { readonly type: 'find'; readonly lookup: number; readonly key: ChordId; readonly avoid: readonly NodeId[] }
  /** `owner` is the successor of the key (it follows the answering node). */
  | { readonly type: 'found'; readonly lookup: number; readonly owner: NodeId }
  /** Ask `next` instead: it precedes the key more closely. */
  | { readonly type: 'next'; readonly lookup: number; readonly next: NodeId }
  /** The asked node is not in a ring (it has not joined yet). */
  | { readonly type: 'refuse'; readonly lookup: number }
  /** Stabilize (§4.6): "who is your predecessor, and your successors?" */
  | { readonly type: 'get-neighbours'; readonly nonce: number }
  | { readonly type: 'neighbours'; readonly nonce: number; readonly predecessor: NodeId | null; readonly successors: readonly NodeId[] }
  /** "I think I am your predecessor." */
  | { readonly type: 'notify' }
  /** checkPredecessor. */
  | { readonly type: 'ping'; readonly nonce: number }
  | { readonly type: 'pong'; readonly nonce: number }
  /** A client put, at the node the lookup named as the key's owner. */
  | { readonly type: 'put'; readonly op: number; readonly item: Item }
  | { readonly type: 'put-done'; readonly op: number; readonly code: PutCode }
  | { readonly type: 'read'; readonly op: number; readonly key: string }
  | { readonly type: 'read-done'; readonly op: number; readonly code: 'ok' | 'not-owner'; readonly item: Item | null }
  /** The owner copies a put to its replicas (acknowledged once synced). */
  | { readonly type: 'replicate'; readonly op: number; readonly item: Item }
  | { readonly type: 'replicated'; readonly op: number }
  /** Items handed over: on join, on a new predecessor, and periodic re-replication (no acknowledgement). */
  | { readonly type: 'items'; readonly items: readonly Item[] }
  /** A joined node asks its successor for the keys it now holds (§4.5 "moving keys"). */
  | { readonly type: 'transfer-request' };

/** `stored`: synced at the owner and every replica; `partial`: synced at the owner, some replica silent; `not-owner`: nothing stored. */
export type PutCode = 'stored' | 'partial' | 'not-owner';

/** Durable records. */
export type ChordRecord =
  /** Synced when the node first becomes a member; a restart rejoins instead of waiting to join. */
  | { readonly type: 'joined' }
  /** Lazy: the successor list, so a restart resumes from where it was. */
  | { readonly type: 'successors'; readonly successors: readonly NodeId[] }
  /** Synced before a put or replica is acknowledged; lazy for handovers (the sender keeps its copy). */
  | { readonly type: 'item'; readonly item: Item };

export type ChordRequest =
  | { readonly type: 'lookup'; readonly key: string }
  | { readonly type: 'put'; readonly key: string; readonly value: string; readonly version: number }
  | { readonly type: 'get'; readonly key: string };

export type ChordReply =
  | { readonly type: 'owner'; readonly owner: NodeId; readonly hops: number }
  | { readonly type: 'ok'; readonly hops: number }
  | { readonly type: 'value'; readonly value: string | null; readonly version: number }
  /** `TIMEOUT` after a put left this node: it may be stored. Every other code: it is not. */
  | { readonly type: 'error'; readonly code: string; readonly message: string };

/** Error codes of Chord replies besides the shared ones (TIMEOUT, OVERLOADED, INVALID_ARGUMENT). */
export const ChordErrorCode = {
  /** This node has not joined a ring yet. */
  NotMember: 'NOT_MEMBER',
  /** The lookup asked `hopsMax` nodes without reaching the owner. */
  HopLimit: 'HOP_LIMIT',
  /** The node a lookup named does not own the key (the ring is changing); nothing was stored. */
  NotOwner: 'NOT_OWNER',
} as const;
