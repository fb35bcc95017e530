import type { NodeId } from '../../core/ids.js';

/**
 * Multi-Paxos (Lamport, "Paxos Made Simple" §3): a replicated log of client commands. Every node
 * is acceptor and learner; a node that hears no leader runs phase 1 once for all open slots with
 * a higher ballot, then — as leader — runs only phase 2 per command.
 *
 * A ballot is `round × ballotStride + index of its proposer` among the sorted members, so two
 * proposers never share one and ballots compare as numbers.
 */
export type Ballot = number;
export const ballotStride = 1024;

/** What a slot holds: a client command, or a no-op a new leader uses to fill a gap. */
export type PaxosValue = { readonly type: 'command'; readonly id: string; readonly command: string } | { readonly type: 'noop' };

export interface AcceptedEntry {
  readonly slot: number;
  readonly ballot: Ballot;
  readonly value: PaxosValue;
}

export type PaxosMessage =
  /** Phase 1a: promise `ballot` and report what you accepted in slots ≥ `fromSlot`. */
  | { readonly type: 'prepare'; readonly ballot: Ballot; readonly fromSlot: number }
  /** Phase 1b. */
  | { readonly type: 'promise'; readonly ballot: Ballot; readonly accepted: readonly AcceptedEntry[] }
  /** Phase 2a. */
  | { readonly type: 'accept'; readonly ballot: Ballot; readonly slot: number; readonly value: PaxosValue }
  /** Phase 2b. */
  | { readonly type: 'accepted'; readonly ballot: Ballot; readonly slot: number }
  /** A refusal: the sender promised `promised`, higher than the ballot it was asked for. */
  | { readonly type: 'nack'; readonly promised: Ballot }
  | { readonly type: 'chosen'; readonly slot: number; readonly value: PaxosValue }
  /** The leader is alive; `chosenThrough` = its contiguous prefix of chosen slots. */
  | { readonly type: 'heartbeat'; readonly ballot: Ballot; readonly chosenThrough: number }
  | { readonly type: 'catchup'; readonly fromSlot: number }
  | { readonly type: 'entries'; readonly entries: readonly { readonly slot: number; readonly value: PaxosValue }[] };

/** Durable acceptor and learner state. */
export type PaxosRecord =
  /** Synced before the promise leaves. */
  | { readonly type: 'promised'; readonly ballot: Ballot }
  /** Synced before the acceptance leaves; implies a promise of `ballot`. */
  | { readonly type: 'accepted'; readonly entry: AcceptedEntry }
  /** Lazy: a lost one is learned again. */
  | { readonly type: 'chosen'; readonly slot: number; readonly value: PaxosValue };

export type PaxosRequest = { readonly type: 'propose'; readonly id: string; readonly command: string };

export type PaxosReply =
  | { readonly type: 'chosen'; readonly slot: number }
  /** Not proposed (definitely not chosen by this request); try `leader`. */
  | { readonly type: 'not-leader'; readonly leader: NodeId | null }
  /** Proposed, then leadership was lost: it may or may not be chosen. */
  | { readonly type: 'unknown' }
  | { readonly type: 'error'; readonly code: string; readonly message: string };
