import { assert } from '../../core/errors.js';
import type { RequestId } from '../../core/ids.js';

/**
 * Client requests waiting inside a core. Each has a deadline (in ticks); `expire` hands back the
 * ones past it so the core can answer `TIMEOUT`. Other structures (proposals by index, read
 * queues) refer to requests by id and call `take` when they resolve one: a request answered once
 * (by its outcome or its timeout) is never answered again.
 *
 * Bound: `capacity` live requests; `hasRoom()` false means the caller answers `OVERLOADED`.
 */
export type PendingKind = 'proposal' | 'forwardedProposal' | 'membership' | 'read' | 'transfer';

export class RequestTracker {
  private readonly live = new Map<RequestId, PendingKind>();
  /** Deadlines in insertion order; non-decreasing because every request gets now + constant. */
  private deadlineTicks: number[] = [];
  private deadlineIds: RequestId[] = [];
  private head = 0;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.live.size;
  }

  hasRoom(): boolean {
    return this.live.size < this.capacity;
  }

  add(id: RequestId, kind: PendingKind, deadlineTick: number): void {
    assert(!this.live.has(id), () => `request id ${id} is already pending: hosts must not reuse ids`);
    const count = this.deadlineTicks.length;
    assert(count === this.head || this.deadlineTicks[count - 1]! <= deadlineTick, 'deadlines must not decrease');
    this.live.set(id, kind);
    this.deadlineTicks.push(deadlineTick);
    this.deadlineIds.push(id);
  }

  has(id: RequestId): boolean {
    return this.live.has(id);
  }

  kindOf(id: RequestId): PendingKind | undefined {
    return this.live.get(id);
  }

  /** Removes a live request; false when it was already answered (e.g. it timed out). */
  take(id: RequestId): boolean {
    return this.live.delete(id);
  }

  /** Removes and returns the live requests whose deadline is ≤ `nowTick`. */
  expire(nowTick: number): { id: RequestId; kind: PendingKind }[] {
    const expired: { id: RequestId; kind: PendingKind }[] = [];
    while (this.head < this.deadlineTicks.length && this.deadlineTicks[this.head]! <= nowTick) {
      const id = this.deadlineIds[this.head]!;
      this.head += 1;
      const kind = this.live.get(id);
      if (kind !== undefined) {
        this.live.delete(id);
        expired.push({ id, kind });
      }
    }
    this.compactQueue();
    return expired;
  }

  /** Drops consumed queue slots once they dominate (amortized O(1)). */
  private compactQueue(): void {
    if (this.head > 1024 && this.head * 2 > this.deadlineTicks.length) {
      this.deadlineTicks = this.deadlineTicks.slice(this.head);
      this.deadlineIds = this.deadlineIds.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * Values waiting for an index to be reached (reads waiting for apply), served in index order.
 * Insertion keeps the queue sorted (binary search; appends at the end in the common case).
 */
const noValues: readonly never[] = Object.freeze([]);

export class IndexQueue<T> {
  private indexes: number[] = [];
  private values: T[] = [];
  private head = 0;

  get size(): number {
    return this.indexes.length - this.head;
  }

  push(index: number, value: T): void {
    let low = this.head;
    let high = this.indexes.length;
    if (high === low || this.indexes[high - 1]! <= index) {
      this.indexes.push(index);
      this.values.push(value);
      return;
    }
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.indexes[middle]! <= index) low = middle + 1;
      else high = middle;
    }
    this.indexes.splice(low, 0, index);
    this.values.splice(low, 0, value);
  }

  /** Removes and returns every value whose index is ≤ `index`, in order. */
  popThrough(index: number): readonly T[] {
    if (this.head >= this.indexes.length || this.indexes[this.head]! > index) return noValues;
    const ready: T[] = [];
    while (this.head < this.indexes.length && this.indexes[this.head]! <= index) {
      ready.push(this.values[this.head]!);
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.indexes.length) {
      this.indexes = this.indexes.slice(this.head);
      this.values = this.values.slice(this.head);
      this.head = 0;
    }
    return ready;
  }

  /** Removes and returns everything. */
  drain(): T[] {
    const all = this.values.slice(this.head);
    this.indexes = [];
    this.values = [];
    this.head = 0;
    return all;
  }
}
