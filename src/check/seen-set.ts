import { assert } from '../core/errors.js';

/** Thrown by `SeenSet.add` when the cache reached its bound. */
export class CacheFullError extends Error {
  constructor(maxEntries: number) {
    super(`linearizability cache is full (${maxEntries} entries)`);
    this.name = 'CacheFullError';
  }
}

// A record in the arena: [reference, bitset words…]. `reference` is the state + 1 (int states)
// or the index of the state in `states` + 1.
const REFERENCE = 0;
const HEADER = 1;
/** Bound on the arena's size in int32 words (1 GiB). */
const MAX_ARENA_WORDS = 2 ** 28;

/**
 * Lowe's memoization cache: the set of (linearized-operations bitset, model state) pairs already
 * explored. Records (state or state reference, then the bitset words) are appended to one flat
 * arena and never move; an open-addressing index of (hash, record number + 1) pairs finds them.
 * A probe compares hashes inside the index and touches the arena only on a hash match; growing
 * copies the arena natively and rehashes only the small index. Adding allocates nothing but the
 * occasional doubling.
 *
 * Bound: at most `maxEntries` entries, and the arena never exceeds 1 GiB; `add` throws a
 * CacheFullError beyond that (the checker turns it into the verdict `unknown`) rather than
 * exhausting memory.
 */
export class SeenSet<State> {
  private index: Int32Array;
  private mask: number;
  private arena: Int32Array;
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
    this.maxEntries = Math.min(maxEntries, Math.floor(MAX_ARENA_WORDS / this.stride));
    this.index = new Int32Array(initialCapacity * 2 * 2);
    this.mask = initialCapacity * 2 - 1;
    this.arena = new Int32Array(initialCapacity * this.stride);
  }

  get size(): number {
    return this.count;
  }

  /** Adds (bits, state) unless already present; true when it was added (not seen before). */
  add(hash: number, bits: Int32Array, state: State): boolean {
    const index = this.index;
    const arena = this.arena;
    const stride = this.stride;
    const words = this.wordsPerSet;
    const inline = this.equal === null;
    let slot = hash & this.mask;
    for (;;) {
      const stored = index[2 * slot + 1]!;
      if (stored === 0) break;
      if (index[2 * slot] === hash) {
        const record = (stored - 1) * stride;
        if (this.sameBits(arena, record + HEADER, bits, words)) {
          const reference = arena[record + REFERENCE]!;
          if (inline ? reference === (state as unknown as number) + 1 : this.equal!(this.states[reference - 1]!, state)) return false;
        }
      }
      slot = (slot + 1) & this.mask;
    }
    const entry = this.count;
    if (entry >= this.maxEntries) throw new CacheFullError(this.maxEntries);
    if ((entry + 1) * stride > arena.length) this.growArena();
    const record = entry * stride;
    const target = this.arena;
    if (inline) {
      target[record + REFERENCE] = (state as unknown as number) + 1;
    } else {
      this.states.push(state);
      target[record + REFERENCE] = this.states.length;
    }
    for (let word = 0; word < words; word++) target[record + HEADER + word] = bits[word]!;
    index[2 * slot] = hash;
    index[2 * slot + 1] = entry + 1;
    this.count = entry + 1;
    // Keep the index at load factor ≤ 1/2.
    if (this.count * 2 > this.mask + 1) this.growIndex();
    return true;
  }

  private sameBits(arena: Int32Array, offset: number, bits: Int32Array, words: number): boolean {
    for (let word = 0; word < words; word++) {
      if (arena[offset + word] !== bits[word]) return false;
    }
    return true;
  }

  private growArena(): void {
    const arena = new Int32Array(Math.min(this.arena.length * 2, this.maxEntries * this.stride + this.stride));
    arena.set(this.arena);
    this.arena = arena;
  }

  /** Doubles the index and reinserts its (hash, record) pairs. */
  private growIndex(): void {
    const old = this.index;
    const index = new Int32Array(old.length * 2);
    const mask = index.length / 2 - 1;
    for (let pair = 0; pair < old.length; pair += 2) {
      const stored = old[pair + 1]!;
      if (stored === 0) continue;
      const hash = old[pair]!;
      let slot = hash & mask;
      while (index[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
      index[2 * slot] = hash;
      index[2 * slot + 1] = stored;
    }
    this.index = index;
    this.mask = mask;
  }
}
