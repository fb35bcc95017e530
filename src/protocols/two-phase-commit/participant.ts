import type { NodeId } from '../../core/ids.js';
import type { OutputBuilder } from '../../core/protocol.js';
import type { TpcConfig } from './config.js';
import type { ParticipantState, TpcMessage, TpcRecord, TpcReply, TxId, Writes } from './types.js';

type Out = OutputBuilder<TpcMessage, TpcRecord, TpcReply>;

interface Entry {
  state: ParticipantState;
  readonly coordinator: NodeId;
  readonly writes: Writes;
  /** Inquiries sent since the last restart (drives the backoff). */
  inquiries: number;
}

export const inquireTimer = (txId: TxId): string => `inquire/${txId}`;

/**
 * The participant role of a node: prepares (locking keys durably), votes, applies decisions, and
 * asks the coordinator about prepared transactions it has not heard the outcome of.
 */
export class Participant {
  /** Transactions this node voted yes on, and their outcome once known (durable). */
  private readonly entries = new Map<TxId, Entry>();
  /** Transactions it refused or learned were aborted without preparing (this incarnation). */
  private readonly refused = new Set<TxId>();
  /** Key → the undecided transaction holding it. */
  private readonly locks = new Map<string, TxId>();
  /** Committed values. */
  private readonly store = new Map<string, string>();
  /** Decisions for transactions this node never prepared, that it ignored (a peer bug or forgery). */
  unexpectedCommits = 0;

  constructor(private readonly config: TpcConfig, private readonly out: Out) {}

  /** Replays one durable record (recovery). */
  replay(record: TpcRecord): void {
    if (record.type === 'prepared') {
      this.entries.set(record.txId, { state: 'prepared', coordinator: record.coordinator, writes: record.writes, inquiries: 0 });
      this.lock(record.txId, record.writes);
    } else if (record.type === 'decided') {
      const entry = this.entries.get(record.txId);
      if (entry !== undefined) this.settle(record.txId, entry, record.commit);
    }
  }

  /** After recovery: keep asking about every transaction still prepared. */
  resumeInquiries(): void {
    for (const [txId, entry] of this.entries) if (entry.state === 'prepared') this.out.setTimer(inquireTimer(txId), this.config.inquireBaseTicks);
  }

  /** Handles a prepare; returns the vote (the caller sends it, or counts it when it coordinates). */
  prepare(txId: TxId, coordinator: NodeId, writes: Writes): boolean {
    const known = this.entries.get(txId);
    if (known !== undefined) return known.state !== 'aborted';
    if (this.refused.has(txId) || Object.keys(writes).some((key) => this.locks.has(key))) {
      this.refused.add(txId);
      return false;
    }
    // Durable before the vote leaves: the vote is a promise to commit if told to.
    this.out.persist({ type: 'prepared', txId, coordinator, writes }, { sync: true });
    this.entries.set(txId, { state: 'prepared', coordinator, writes, inquiries: 0 });
    this.lock(txId, writes);
    this.out.setTimer(inquireTimer(txId), this.config.inquireBaseTicks);
    return true;
  }

  /** Handles a decision; returns whether to acknowledge it. */
  decide(txId: TxId, commit: boolean): boolean {
    const entry = this.entries.get(txId);
    if (entry === undefined) {
      if (commit) {
        // A commit needs this node's yes vote: without a prepared record it cannot be real.
        this.unexpectedCommits += 1;
        return false;
      }
      this.refused.add(txId);
      return true;
    }
    if (entry.state === 'prepared') {
      this.out.persist({ type: 'decided', txId, commit }, { sync: true });
      this.settle(txId, entry, commit);
      this.out.setTimer(inquireTimer(txId), null);
    }
    return true;
  }

  /**
   * The inquiry timer fired: returns the coordinator to ask (the caller sends the inquiry, or
   * answers it itself when it is that coordinator), null when no longer in doubt. Re-arms the
   * timer with exponential backoff.
   */
  inquire(txId: TxId): NodeId | null {
    const entry = this.entries.get(txId);
    if (entry === undefined || entry.state !== 'prepared') return null;
    entry.inquiries += 1;
    const backoff = Math.min(this.config.inquireMaxTicks, this.config.inquireBaseTicks * 2 ** Math.min(entry.inquiries, 10));
    this.out.setTimer(inquireTimer(txId), backoff);
    return entry.coordinator;
  }

  read(key: string): string | null {
    return this.store.get(key) ?? null;
  }

  state(txId: TxId): ParticipantState | null {
    return this.entries.get(txId)?.state ?? null;
  }

  coordinatorOf(txId: TxId): NodeId | null {
    return this.entries.get(txId)?.coordinator ?? null;
  }

  /** Transactions prepared and not yet decided (the ones 2PC blocks on). */
  inDoubt(): TxId[] {
    return [...this.entries].filter(([, entry]) => entry.state === 'prepared').map(([txId]) => txId);
  }

  lockedKeys(): number {
    return this.locks.size;
  }

  committedValues(): ReadonlyMap<string, string> {
    return this.store;
  }

  private settle(txId: TxId, entry: Entry, commit: boolean): void {
    entry.state = commit ? 'committed' : 'aborted';
    for (const key of Object.keys(entry.writes)) if (this.locks.get(key) === txId) this.locks.delete(key);
    if (commit) for (const [key, value] of Object.entries(entry.writes)) this.store.set(key, value);
  }

  private lock(txId: TxId, writes: Writes): void {
    for (const key of Object.keys(writes)) this.locks.set(key, txId);
  }
}
