import { assert } from '../../core/errors.js';
import type { ProgressState, ProgressStatus, SnapshotMeta } from './types.js';

/**
 * A bounded ring of in-flight append messages to one follower (etcd `Inflights`): each slot holds
 * the last index the message carried and its byte size. Full means no more optimistic sends
 * (flow control, `maxInflightMessages`); an acknowledgement frees every slot at or below it.
 */
export class Inflights {
  private readonly lastIndexes: number[];
  private readonly sizes: number[];
  private head = 0;
  private size = 0;
  private totalBytes = 0;

  constructor(private readonly capacity: number) {
    assert(capacity >= 1, 'inflight capacity must be at least 1');
    this.lastIndexes = new Array<number>(capacity).fill(0);
    this.sizes = new Array<number>(capacity).fill(0);
  }

  get count(): number {
    return this.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  full(): boolean {
    return this.size === this.capacity;
  }

  add(lastIndex: number, bytes: number): void {
    assert(!this.full(), 'inflights overflow: the caller must check full() first');
    const tail = (this.head + this.size) % this.capacity;
    if (this.size > 0) {
      const previous = this.lastIndexes[(tail + this.capacity - 1) % this.capacity]!;
      assert(lastIndex > previous, () => `inflight indexes must increase: ${previous} then ${lastIndex}`);
    }
    this.lastIndexes[tail] = lastIndex;
    this.sizes[tail] = bytes;
    this.size += 1;
    this.totalBytes += bytes;
  }

  /** Frees every message whose last index is ≤ `index`. */
  freeThrough(index: number): void {
    while (this.size > 0 && this.lastIndexes[this.head]! <= index) {
      this.totalBytes -= this.sizes[this.head]!;
      this.head = (this.head + 1) % this.capacity;
      this.size -= 1;
    }
  }

  reset(): void {
    this.head = 0;
    this.size = 0;
    this.totalBytes = 0;
  }
}

/** A snapshot a leader is streaming to one follower, chunk by chunk. */
export interface SnapshotTransfer {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
  /** Bytes the follower has acknowledged. */
  ackedBytes: number;
}

/**
 * The leader's view of one member's log (etcd `Progress`).
 * - `probe`: the leader does not know where the logs diverge; one append at a time, paused until
 *   a reply or the next heartbeat.
 * - `replicate`: steady state; appends are sent optimistically (`next` advanced on send), bounded
 *   by `inflights`.
 * - `snapshot`: the follower needs entries the leader compacted; a snapshot transfer is under way.
 * Invariant: `match < next`.
 */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** Probe only: an append is out and we wait for its answer (or the next heartbeat). */
  paused = false;
  /** Heard from since the last check-quorum round. */
  recentActive = true;
  /** Highest commit index sent to this member (so an idle follower still learns the commit index). */
  sentCommit = 0;
  /**
   * Highest index of an entry this member forwarded to us (a follower's client waits for it): the
   * member should get the entry, and learn the commit index through it, at once, even while
   * appends are batched.
   */
  forwardedIndex = 0;
  /** Highest heartbeat context this member has echoed (ReadIndex / lease rounds). */
  ackedContext = 0;
  /** Whether an append or snapshot-chunk acknowledgement arrived since the last heartbeat round. */
  ackedSinceHeartbeat = false;
  snapshot: SnapshotTransfer | null = null;
  readonly inflights: Inflights;

  constructor(options: { next: number; maxInflightMessages: number }) {
    this.next = options.next;
    this.inflights = new Inflights(options.maxInflightMessages);
  }

  becomeProbe(): void {
    if (this.state === 'snapshot' && this.snapshot !== null) {
      this.next = Math.max(this.match + 1, this.snapshot.meta.index + 1);
    } else {
      this.next = this.match + 1;
    }
    this.state = 'probe';
    this.paused = false;
    this.snapshot = null;
    this.inflights.reset();
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.paused = false;
    this.snapshot = null;
    this.ackedSinceHeartbeat = true;
    this.inflights.reset();
  }

  becomeSnapshot(transfer: SnapshotTransfer): void {
    this.state = 'snapshot';
    this.paused = false;
    this.snapshot = transfer;
    this.inflights.reset();
  }

  /** The member acknowledged `index`; returns whether `match` moved (`maybe*` returns a boolean). */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.paused = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * The member rejected an append at `rejectedIndex`; `hintIndex` is where it suggests probing.
   * Returns false for a stale rejection (one that no longer matches what was sent).
   */
  maybeDecreaseTo(rejectedIndex: number, hintIndex: number): boolean {
    if (this.state === 'replicate') {
      if (rejectedIndex <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejectedIndex) return false;
    this.next = Math.max(Math.min(rejectedIndex, hintIndex + 1), this.match + 1);
    this.paused = false;
    return true;
  }

  /** Records that an append with entries through `lastIndex` (of `bytes`) was sent. */
  sentEntries(lastIndex: number, bytes: number): void {
    if (this.state === 'replicate') {
      this.next = lastIndex + 1;
      this.inflights.add(lastIndex, bytes);
    } else {
      this.paused = true;
    }
  }

  /** Whether an (empty) append could tell the member a higher commit index it is able to use. */
  canBumpCommit(commit: number): boolean {
    return commit > this.sentCommit && this.sentCommit < this.next - 1;
  }

  /** Whether entries this member forwarded to us are not yet sent to it (its client waits for them). */
  awaitsForwardedEntries(): boolean {
    return this.forwardedIndex >= this.next;
  }

  /** Whether the member waits for the commit of an entry it forwarded, and `commit` tells it more. */
  awaitsForwardedCommit(commit: number): boolean {
    return this.forwardedIndex > this.sentCommit && this.canBumpCommit(commit);
  }

  /** Whether sending another append must wait (flow control). */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.paused;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  checkInvariants(): void {
    assert(this.match < this.next, () => `progress: match ${this.match} must be below next ${this.next}`);
  }

  /** `learner` comes from the membership in effect (the leader's, not stored here: it changes with it). */
  toStatus(learner: boolean): ProgressStatus {
    return {
      match: this.match,
      next: this.next,
      state: this.state,
      inflightMessages: this.inflights.count,
      recentActive: this.recentActive,
      learner,
    };
  }
}
