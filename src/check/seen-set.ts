import { assert } from '../core/errors.js';

/** Thrown by `SeenSet.add` when the cache reached its bound. */
export class CacheFullError extends Error {
  constructor(maxEntries: number) {
    super(`linearizability cache is full (${maxEntries} entries)`);
    this.name = 'CacheFullError';
  }
}

// Record layout in the table: [hash, reference, bitset words…]. `reference` is 0 for an empty
// slot; otherwise the state + 1 (int states) or the index of the state in `states` + 1.
const HASH = 0;
const REFERENCE = 1;
const HEADER = 2;
/** Below this capacity the table grows ×4 (fewer rehashes), above it ×2 (less memory). */
const FAST_GROWTH_CAPACITY = 1 << 20;
/** Bound on the table's size in int32 words (1 GiB). */
const MAX_TABLE_WORDS = 2 ** 28;

/**
 * Lowe's memoization cache: the set of (linearized-operations bitset, model state) pairs already
 * explored. An open-addressing hash table whose records hold the hash, the state (inline when
 * states are small non-negative integers, else a reference into `states`) and the bitset, side by
 * side: a probe touches one or two cache lines and adding allocates nothing but the occasional
 * doubling of the table.
 *
 * Bound: at most `maxEntries` entries, and the table never exceeds 1 GiB; `add` throws a
 * CacheFullError beyond that (the checker turns it into the verdict `unknown`) rather than
 * exhausting memory.
 */
export class SeenSet<State> {
  private table: Int32Array;
  private mask: number;
  private readonly stride: number;
  private readonly states: State[] = [];
  private count = 0;
  private readonly maxEntries: number;

  constructor(
    private readonly wordsPerSet: number,
    /** Null when states are int32 values ≥ 0 compared with ===, stored inline. */
    private readonly equal: ((a: State, b: State) => boolean) | null,
    maxEntries: number,
    initialCapacity = 1024,
  ) {
    assert(wordsPerSet > 0 && (initialCapacity & (initialCapacity - 1)) === 0, 'SeenSet: bad geometry');
    this.stride = HEADER + wordsPerSet;
    this.maxEntries = Math.min(maxEntries, Math.floor(MAX_TABLE_WORDS / (2 * this.stride)));
    this.table = new Int32Array(initialCapacity * this.stride);
    this.mask = initialCapacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Adds (bits, state) unless already present; true when it was added (not seen before). */
  add(hash: number, bits: Int32Array, state: State): boolean {
    const table = this.table;
    const stride = this.stride;
    const words = this.wordsPerSet;
    const inline = this.equal === null;
    let slot = hash & this.mask;
    for (;;) {
      const record = slot * stride;
      const reference = table[record + REFERENCE]!;
      if (reference === 0) break;
      if (table[record + HASH] === hash && this.sameBits(table, record + HEADER, bits, words)) {
        if (inline ? reference === (state as unknown as number) + 1 : this.equal!(this.states[reference - 1]!, state)) return false;
      }
      slot = (slot + 1) & this.mask;
    }
    if ((this.count + 1) * 2 > this.mask + 1) {
      if (this.count >= this.maxEntries) throw new CacheFullError(this.maxEntries);
      this.grow();
      return this.add(hash, bits, state);
    }
    const record = slot * stride;
    table[record + HASH] = hash;
    if (inline) {
      table[record + REFERENCE] = (state as unknown as number) + 1;
    } else {
      this.states.push(state);
      table[record + REFERENCE] = this.states.length;
    }
    for (let index = 0; index < words; index++) table[record + HEADER + index] = bits[index]!;
    this.count++;
    return true;
  }

  private sameBits(table: Int32Array, offset: number, bits: Int32Array, words: number): boolean {
    for (let index = 0; index < words; index++) {
      if (table[offset + index] !== bits[index]) return false;
    }
    return true;
  }

  /** Grows the table (×4 while small, then ×2; load factor stays ≤ 1/2) and reinserts every record. */
  private grow(): void {
    const old = this.table;
    const stride = this.stride;
    const capacity = (this.mask + 1) * (this.mask < FAST_GROWTH_CAPACITY ? 4 : 2);
    const table = new Int32Array(capacity * stride);
    const mask = capacity - 1;
    for (let record = 0; record < old.length; record += stride) {
      if (old[record + REFERENCE] === 0) continue;
      let slot = old[record + HASH]! & mask;
      while (table[slot * stride + REFERENCE] !== 0) slot = (slot + 1) & mask;
      const target = slot * stride;
      for (let index = 0; index < stride; index++) table[target + index] = old[record + index]!;
    }
    this.table = table;
    this.mask = mask;
  }
}
