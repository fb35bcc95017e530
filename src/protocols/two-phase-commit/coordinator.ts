import type { NodeId, RequestId } from '../../core/ids.js';
import type { OutputBuilder } from '../../core/protocol.js';
import type { TpcConfig } from './config.js';
import type { TpcMessage, TpcRecord, TpcReply, TxId, Writes } from './types.js';

type Out = OutputBuilder<TpcMessage, TpcRecord, TpcReply>;

type Phase = 'collecting' | 'committed' | 'aborted';

interface Tx {
  phase: Phase;
  readonly participants: readonly NodeId[];
  /** Empty after a restart: a recovered commit only needs its decision resent. */
  readonly writes: Readonly<Record<NodeId, Writes>>;
  readonly yes: Set<NodeId>;
  /** Participants that need no (more) decision: acknowledged it, or voted no. */
  readonly done: Set<NodeId>;
  /** The client waiting for the outcome; null after a restart. */
  requestId: RequestId | null;
  ticksCollecting: number;
  /** Decision rounds sent so far (drives the resend backoff). */
  rounds: number;
}

export const resendTimer = (txId: TxId): string => `resend/${txId}`;

/** What the coordinator wants its own node's participant role to do (it sends itself no messages). */
export interface LocalEffects {
  prepare(txId: TxId, writes: Writes): boolean;
  decide(txId: TxId, commit: boolean): void;
}

/**
 * The coordinator role of a node (presumed abort): collects votes; logs a commit and resends it
 * (with backoff) until every participant acknowledged; sends an abort once, logs nothing and
 * forgets the transaction — a participant that missed it asks, and anything the coordinator
 * does not know is answered abort. Commit is answered only with a commit record.
 */
export class Coordinator {
  private readonly txs = new Map<TxId, Tx>();
  /** Every transaction this node ever committed (from its records): inquiries about them get commit. */
  private readonly committed = new Set<TxId>();

  constructor(private readonly self: NodeId, private readonly config: TpcConfig, private readonly out: Out, private readonly local: LocalEffects) {}

  replay(record: TpcRecord): void {
    if (record.type === 'commit') {
      this.committed.add(record.txId);
      this.txs.set(record.txId, { phase: 'committed', participants: record.participants, writes: {}, yes: new Set(), done: new Set(), requestId: null, ticksCollecting: 0, rounds: 0 });
    } else if (record.type === 'end') {
      this.txs.delete(record.txId);
    }
  }

  /** After recovery: resend every commit not yet acknowledged by all. */
  resume(): void {
    for (const [txId, tx] of this.txs) this.spreadDecision(txId, tx);
  }

  /** Whether `txId` was ever used here (a transaction id names one transaction, once). */
  knows(txId: TxId): boolean {
    return this.txs.has(txId) || this.committed.has(txId);
  }

  begin(txId: TxId, writes: Readonly<Record<NodeId, Writes>>, requestId: RequestId): void {
    const participants = Object.keys(writes).sort();
    const tx: Tx = { phase: 'collecting', participants, writes, yes: new Set(), done: new Set(), requestId, ticksCollecting: 0, rounds: 0 };
    this.txs.set(txId, tx);
    // Our own vote first: a no aborts before any other participant locks anything.
    if (writes[this.self] !== undefined) this.onVote(txId, this.self, this.local.prepare(txId, writes[this.self]));
    if (tx.phase !== 'collecting') return;
    for (const participant of participants) {
      if (participant !== this.self) this.out.send(participant, { type: 'prepare', txId, writes: writes[participant]! });
    }
    this.out.setTimer(resendTimer(txId), this.config.resendTicks);
  }

  onVote(txId: TxId, from: NodeId, yes: boolean): void {
    const tx = this.txs.get(txId);
    if (tx === undefined || tx.phase !== 'collecting' || !tx.participants.includes(from)) return;
    if (!yes) {
      tx.done.add(from);
      this.decide(txId, tx, false, 'vote-no');
      return;
    }
    tx.yes.add(from);
    if (tx.yes.size === tx.participants.length) this.decide(txId, tx, true, null);
  }

  onAck(txId: TxId, from: NodeId): void {
    const tx = this.txs.get(txId);
    if (tx === undefined || tx.phase === 'collecting') return;
    tx.done.add(from);
    this.finishIfDone(txId, tx);
  }

  /** The decision a participant asking about `txId` must follow; null: not decided yet, ask again. */
  answer(txId: TxId): boolean | null {
    if (this.committed.has(txId)) return true;
    return this.txs.get(txId)?.phase === 'collecting' ? null : this.config.testingBugs.presumeCommit;
  }

  /** The resend timer: prepares to silent participants (or give up), commits to unacknowledged ones. */
  onResend(txId: TxId): void {
    const tx = this.txs.get(txId);
    if (tx === undefined) return;
    if (tx.phase !== 'collecting') {
      this.spreadDecision(txId, tx);
      return;
    }
    tx.ticksCollecting += this.config.resendTicks;
    if (tx.ticksCollecting >= this.config.voteTimeoutTicks) {
      this.decide(txId, tx, this.config.testingBugs.commitOnTimeout, 'timeout');
      return;
    }
    for (const participant of tx.participants) {
      if (!tx.yes.has(participant) && participant !== this.self) this.out.send(participant, { type: 'prepare', txId, writes: tx.writes[participant]! });
    }
    this.out.setTimer(resendTimer(txId), this.config.resendTicks);
  }

  /** Transactions still being coordinated (collecting votes, or committed but not acknowledged by all). */
  active(): number {
    return this.txs.size;
  }

  private decide(txId: TxId, tx: Tx, commit: boolean, reason: 'vote-no' | 'timeout' | null): void {
    tx.phase = commit ? 'committed' : 'aborted';
    if (commit) {
      // The commit point: durable before the client or any participant hears of it.
      if (!this.config.testingBugs.unloggedCommit) this.out.persist({ type: 'commit', txId, participants: tx.participants }, { sync: true });
      this.committed.add(txId);
    }
    if (tx.requestId !== null) {
      this.out.reply(tx.requestId, commit ? { type: 'committed', txId } : { type: 'aborted', txId, reason: reason ?? 'vote-no' });
      tx.requestId = null;
    }
    this.spreadDecision(txId, tx);
  }

  private spreadDecision(txId: TxId, tx: Tx): void {
    const commit = tx.phase === 'committed';
    for (const participant of tx.participants) {
      if (tx.done.has(participant)) continue;
      if (participant === this.self) {
        this.local.decide(txId, commit);
        tx.done.add(participant);
      } else {
        this.out.send(participant, { type: 'decision', txId, commit });
      }
    }
    if (!commit) {
      // Presumed abort: nothing to wait for (inquiries get abort once we forget).
      this.txs.delete(txId);
      this.out.setTimer(resendTimer(txId), null);
      return;
    }
    if (this.finishIfDone(txId, tx)) return;
    tx.rounds += 1;
    const backoff = Math.min(this.config.resendMaxTicks, this.config.resendTicks * 2 ** Math.min(tx.rounds - 1, 10));
    this.out.setTimer(resendTimer(txId), backoff);
  }

  private finishIfDone(txId: TxId, tx: Tx): boolean {
    if (tx.done.size < tx.participants.length) return false;
    this.txs.delete(txId);
    this.out.setTimer(resendTimer(txId), null);
    // Nothing to resend after a restart any more.
    this.out.persist({ type: 'end', txId }, { sync: false });
    return true;
  }
}
