import type { NodeId } from '../../core/ids.js';
import type { Checkpoint, CheckpointProof, ClientRequest, PreparedCertificate, Prepare, PrePrepare } from './types.js';

/** One sequence number of the current view: its pre-prepare and the prepares and commits heard. */
export class Slot {
  prePrepare: PrePrepare | null = null;
  /** Latest prepare per backup (a digest other than the pre-prepare's simply does not match). */
  readonly prepares = new Map<NodeId, Prepare>();
  readonly commits = new Map<NodeId, string>();
  prepared = false;
  committed = false;

  matchingPrepares(): Prepare[] {
    const digest = this.prePrepare?.digest;
    return [...this.prepares.values()].filter((prepare) => prepare.digest === digest).sort((a, b) => (a.replica < b.replica ? -1 : 1));
  }

  matchingCommits(): number {
    const digest = this.prePrepare?.digest;
    let count = 0;
    for (const value of this.commits.values()) if (value === digest) count += 1;
    return count;
  }
}

/**
 * The message log of a replica (§4.3): slots of the current view, prepared certificates kept
 * across views (a view-change reports them), committed requests awaiting execution in order, and
 * checkpoint votes. Everything at or below the stable checkpoint is garbage-collected.
 */
export class ReplicaLog {
  readonly slots = new Map<number, Slot>();
  /** Per sequence number, the prepared certificate of the highest view. */
  readonly prepared = new Map<number, PreparedCertificate>();
  readonly committed = new Map<number, { readonly digest: string; readonly request: ClientRequest | null }>();
  /** Checkpoint votes by sequence number, then replica. */
  readonly checkpoints = new Map<number, Map<NodeId, Checkpoint>>();

  slot(seq: number): Slot {
    let slot = this.slots.get(seq);
    if (slot === undefined) this.slots.set(seq, (slot = new Slot()));
    return slot;
  }

  keepPrepared(certificate: PreparedCertificate): void {
    const known = this.prepared.get(certificate.prePrepare.seq);
    if (known === undefined || known.prePrepare.view <= certificate.prePrepare.view) this.prepared.set(certificate.prePrepare.seq, certificate);
  }

  /** Records a vote; returns the proof when 2f + 1 distinct replicas agree on (seq, digest). */
  addCheckpoint(checkpoint: Checkpoint, quorum: number): CheckpointProof | null {
    let votes = this.checkpoints.get(checkpoint.seq);
    if (votes === undefined) this.checkpoints.set(checkpoint.seq, (votes = new Map()));
    votes.set(checkpoint.replica, checkpoint);
    const matching = [...votes.values()].filter((vote) => vote.stateDigest === checkpoint.stateDigest).sort((a, b) => (a.replica < b.replica ? -1 : 1));
    return matching.length >= quorum ? { seq: checkpoint.seq, stateDigest: checkpoint.stateDigest, checkpoints: matching.slice(0, quorum) } : null;
  }

  /** A new view: the slots of the old one go; prepared certificates and commitments stay. */
  clearSlots(): void {
    this.slots.clear();
  }

  /** Drops everything at or below the stable checkpoint `seq`. */
  collect(seq: number): void {
    for (const map of [this.slots, this.prepared, this.committed, this.checkpoints] as Map<number, unknown>[]) {
      for (const key of map.keys()) if (key <= seq) map.delete(key);
    }
  }

  get size(): number {
    return this.slots.size + this.prepared.size + this.committed.size + this.checkpoints.size;
  }
}
