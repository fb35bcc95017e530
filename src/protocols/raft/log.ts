import { assert } from '../../core/errors.js';
import type { LogEntry } from './types.js';

/**
 * The in-memory Raft log: entries `firstIndex() … lastIndex()` plus the compaction point
 * (`startIndex`, `startTerm`) — the entry just before the first one kept, whose term is still
 * known so the consistency check works right after compaction.
 *
 * Invariants (checked by `checkInvariants`, asserted on every mutation's inputs):
 * - entries are contiguous: `entries[i].index === startIndex + 1 + i`;
 * - terms never decrease along the log;
 * - `cumulativeBytes[i]` is the size of `entries[0 … i]` from an arbitrary origin, so the byte size
 *   of any range is one subtraction (no per-entry work when sizing messages).
 *
 * Cost model: append and truncate are O(entries touched); compaction moves the retained tail once
 * (it is rare and the tail is small); nothing copies the whole log per operation.
 */
export class RaftLog<C> {
  private startIndex: number;
  private startTerm: number;
  private entries: LogEntry<C>[] = [];
  private cumulativeBytes: number[] = [];
  /** Cumulative size of the compacted entries (the origin of `cumulativeBytes`). */
  private bytesBeforeStart = 0;

  constructor(start: { index: number; term: number } = { index: 0, term: 0 }, entries: readonly LogEntry<C>[] = []) {
    assert(start.index >= 0 && start.term >= 0, 'log start must be non-negative');
    this.startIndex = start.index;
    this.startTerm = start.term;
    if (entries.length > 0) this.append(entries);
  }

  /** Index of the entry just before the first kept one (0 for an uncompacted log). */
  get start(): { index: number; term: number } {
    return { index: this.startIndex, term: this.startTerm };
  }

  firstIndex(): number {
    return this.startIndex + 1;
  }

  lastIndex(): number {
    return this.startIndex + this.entries.length;
  }

  lastTerm(): number {
    return this.entries.length === 0 ? this.startTerm : this.entries[this.entries.length - 1]!.term;
  }

  get length(): number {
    return this.entries.length;
  }

  /** The term at `index`, or undefined when it is compacted away or beyond the end. */
  term(index: number): number | undefined {
    if (index === this.startIndex) return this.startTerm;
    if (index < this.startIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - this.startIndex - 1]!.term;
  }

  entry(index: number): LogEntry<C> | undefined {
    if (index <= this.startIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - this.startIndex - 1];
  }

  matchTerm(index: number, term: number): boolean {
    const ours = this.term(index);
    return ours !== undefined && ours === term;
  }

  /**
   * The election restriction (§5.4.1): a candidate whose last entry is (lastTerm, lastIndex) is
   * at least as up to date as this log when its last term is higher, or equal with an index at
   * least as high — a lexicographic comparison of (term, index). Never `index > ours &&
   * term > ours` or any other mix.
   */
  isUpToDate(candidate: { lastIndex: number; lastTerm: number }): boolean {
    const ourTerm = this.lastTerm();
    return candidate.lastTerm > ourTerm || (candidate.lastTerm === ourTerm && candidate.lastIndex >= this.lastIndex());
  }

  /**
   * The index of the first entry of `entries` that is not already in the log with the same term
   * (a conflict or a new entry), or 0 when every entry is present. Entries at or before the
   * compaction point count as present: they are committed and therefore match.
   */
  findConflict(entries: readonly LogEntry<C>[]): number {
    for (const entry of entries) {
      if (entry.index <= this.startIndex) continue;
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * Fast backtracking: the largest index ≤ `index` whose term is ≤ `term`, with its term. Stops at
   * the compaction point (whose term is known). Used by the follower to answer a failed check
   * and by the leader to jump over a whole conflicting term.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let probe = Math.min(index, this.lastIndex());
    while (probe > this.startIndex) {
      const ourTerm = this.entries[probe - this.startIndex - 1]!.term;
      if (ourTerm <= term) return { index: probe, term: ourTerm };
      probe -= 1;
    }
    if (probe === this.startIndex && this.startTerm <= term) return { index: probe, term: this.startTerm };
    return { index: probe, term: 0 };
  }

  /**
   * Appends `entries`, first truncating the log from `entries[0].index` on. The caller has
   * established that everything before `entries[0].index` matches (a leader's own log, or a
   * follower after the consistency check and `findConflict`).
   */
  append(entries: readonly LogEntry<C>[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    assert(first > this.startIndex, () => `append at ${first} would overwrite the compacted prefix through ${this.startIndex}`);
    assert(first <= this.lastIndex() + 1, () => `append at ${first} leaves a gap after ${this.lastIndex()}`);
    const keep = first - this.startIndex - 1;
    this.entries.length = keep;
    this.cumulativeBytes.length = keep;
    let previousTerm = keep === 0 ? this.startTerm : this.entries[keep - 1]!.term;
    let total = keep === 0 ? this.bytesBeforeStart : this.cumulativeBytes[keep - 1]!;
    for (let offset = 0; offset < entries.length; offset += 1) {
      const entry = entries[offset]!;
      assert(entry.index === first + offset, 'appended entries must be contiguous');
      assert(entry.term >= previousTerm, () => `term decreases at index ${entry.index}: ${previousTerm} → ${entry.term}`);
      previousTerm = entry.term;
      total += entry.sizeBytes;
      this.entries.push(entry);
      this.cumulativeBytes.push(total);
    }
  }

  /** Removes entries after `index` (a follower never needs this; kept for recovery and tests). */
  truncateAfter(index: number): void {
    assert(index >= this.startIndex && index <= this.lastIndex(), () => `truncate point ${index} outside the log`);
    const keep = index - this.startIndex;
    this.entries.length = keep;
    this.cumulativeBytes.length = keep;
  }

  /**
   * Entries `from … to` (inclusive): the longest prefix whose total stays within `maxBytes`, but
   * at least one entry when the range is non-empty (a single oversized entry still goes out).
   */
  slice(from: number, to: number, maxBytes = Number.POSITIVE_INFINITY): LogEntry<C>[] {
    assert(from > this.startIndex, () => `slice from ${from} reaches into the compacted prefix through ${this.startIndex}`);
    const last = Math.min(to, this.lastIndex());
    if (from > last) return [];
    const lo = from - this.startIndex - 1;
    let hi = last - this.startIndex - 1;
    if (maxBytes !== Number.POSITIVE_INFINITY) {
      const base = lo === 0 ? this.bytesBeforeStart : this.cumulativeBytes[lo - 1]!;
      hi = Math.max(lo, this.lastPositionWithin(lo, hi, base + maxBytes));
    }
    return this.entries.slice(lo, hi + 1);
  }

  /** Byte size of entries `from … to` (inclusive, clamped to the log). */
  bytesBetween(from: number, to: number): number {
    const lo = Math.max(from, this.startIndex + 1) - this.startIndex - 1;
    const hi = Math.min(to, this.lastIndex()) - this.startIndex - 1;
    if (hi < lo) return 0;
    return this.cumulativeBytes[hi]! - (lo === 0 ? this.bytesBeforeStart : this.cumulativeBytes[lo - 1]!);
  }

  /** Discards entries through `index` (which must be in the log); its term stays known. */
  compact(index: number): void {
    if (index <= this.startIndex) return;
    assert(index <= this.lastIndex(), () => `cannot compact through ${index} beyond last index ${this.lastIndex()}`);
    const drop = index - this.startIndex;
    this.startTerm = this.entries[drop - 1]!.term;
    this.bytesBeforeStart = this.cumulativeBytes[drop - 1]!;
    this.startIndex = index;
    this.entries.splice(0, drop);
    this.cumulativeBytes.splice(0, drop);
  }

  /** Replaces the whole log by an empty one starting after a snapshot at (index, term). */
  restore(start: { index: number; term: number }): void {
    this.startIndex = start.index;
    this.startTerm = start.term;
    this.entries = [];
    this.cumulativeBytes = [];
    this.bytesBeforeStart = 0;
  }

  /** A copy of the kept entries (for checkpoint records and inspection). */
  allEntries(): LogEntry<C>[] {
    return this.entries.slice();
  }

  /** Throws on a broken structural invariant; for tests and checkers. */
  checkInvariants(): void {
    let previousTerm = this.startTerm;
    for (let position = 0; position < this.entries.length; position += 1) {
      const entry = this.entries[position]!;
      assert(entry.index === this.startIndex + 1 + position, `entry at position ${position} has index ${entry.index}`);
      assert(entry.term >= previousTerm, `term decreases at index ${entry.index}`);
      previousTerm = entry.term;
    }
    assert(this.cumulativeBytes.length === this.entries.length, 'byte index out of step with entries');
  }

  /** Largest position p in [lo, hi] with cumulativeBytes[p] ≤ limit, or lo - 1 (binary search). */
  private lastPositionWithin(lo: number, hi: number, limit: number): number {
    let low = lo;
    let high = hi;
    let found = lo - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.cumulativeBytes[middle]! <= limit) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found;
  }
}
