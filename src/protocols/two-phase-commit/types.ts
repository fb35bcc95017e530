import type { NodeId } from '../../core/ids.js';

/**
 * Two-phase commit (presumed abort). A client asks any node to run a transaction that writes keys
 * on several participants; that node coordinates it:
 *
 * 1. **prepare**: the coordinator asks every participant to prepare its writes. A participant that
 *    can (no key locked by another undecided transaction) durably records `prepared`, locks the
 *    keys and votes yes; otherwise it votes no.
 * 2. **decide**: all yes → the coordinator durably records `commit` (the outcome is now fixed),
 *    answers the client and tells every participant; any no or a vote timeout → abort (not
 *    logged: a coordinator without a commit record answers every question with abort).
 *
 * A participant durably records its decision (`decided`), applies the writes on commit, releases
 * the locks and acknowledges. A prepared participant without a decision asks the coordinator
 * again and again (`inquire`) — and keeps its locks: 2PC blocks while the coordinator is down.
 */
export type TxId = string;

/** The writes of one transaction on one participant: key → value. */
export type Writes = Readonly<Record<string, string>>;

export type TpcMessage =
  | { readonly type: 'prepare'; readonly txId: TxId; readonly writes: Writes }
  | { readonly type: 'vote'; readonly txId: TxId; readonly yes: boolean }
  | { readonly type: 'decision'; readonly txId: TxId; readonly commit: boolean }
  | { readonly type: 'ack'; readonly txId: TxId }
  | { readonly type: 'inquire'; readonly txId: TxId };

/** What a node persists. Replaying its surviving records rebuilds its durable state. */
export type TpcRecord =
  /** Participant: voted yes (synced before the vote leaves); the keys stay locked until decided. */
  | { readonly type: 'prepared'; readonly txId: TxId; readonly coordinator: NodeId; readonly writes: Writes }
  /** Participant: the outcome it learned (synced before its acknowledgement); commit applies `writes`. */
  | { readonly type: 'decided'; readonly txId: TxId; readonly commit: boolean }
  /** Coordinator: the commit decision (synced before anyone hears of it). */
  | { readonly type: 'commit'; readonly txId: TxId; readonly participants: readonly NodeId[] }
  /** Coordinator: every participant acknowledged the commit; nothing left to resend (lazy). */
  | { readonly type: 'end'; readonly txId: TxId };

export type TpcRequest =
  /** Run a transaction: `writes[node]` are the writes on participant `node`. */
  | { readonly type: 'transact'; readonly txId: TxId; readonly writes: Readonly<Record<NodeId, Writes>> }
  /** This node's committed value of `key` (local, no coordination). */
  | { readonly type: 'read'; readonly key: string };

export type TpcReply =
  | { readonly type: 'committed'; readonly txId: TxId }
  /** Definitely not committed anywhere, ever. */
  | { readonly type: 'aborted'; readonly txId: TxId; readonly reason: 'vote-no' | 'timeout' }
  | { readonly type: 'value'; readonly key: string; readonly value: string | null }
  | { readonly type: 'error'; readonly code: string; readonly message: string };

/** A participant's view of one transaction it voted on. */
export type ParticipantState = 'prepared' | 'committed' | 'aborted';
