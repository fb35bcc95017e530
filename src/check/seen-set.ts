import { assert } from '../core/errors.js';

/**
 * Lowe's memoization cache: the set of (linearized-operations bitset, model state) pairs already
 * explored. An open-addressing hash table over flat arrays: entry `e` keeps its hash in
 * `hashes[e]`, its state in `states[e]` and its bitset in `words[e * wordsPerSet …]`, so adding an
 * entry allocates nothing but the occasional doubling of the arrays.
 *
 * Bound: the table holds at most `maxEntries` entries; `add` throws a CacheFullError beyond that (the
 * checker turns it into the verdict `unknown`), rather than exhausting memory.
 */
/** Thrown by `SeenSet.add` when the cache reached its bound. */
export class CacheFullError extends Error {
  constructor(maxEntries: number) {
    super(`linearizability cache is full (${maxEntries} entries)`);
    this.name = 'CacheFullError';
  }
}

export class SeenSet<State> {
  private slots: Int32Array;
  private mask: number;
  private hashes: Int32Array;
  private words: Uint32Array;
  private readonly states: State[] = [];
  private count = 0;

  constructor(
    private readonly wordsPerSet: number,
    private readonly equal: (a: State, b: State) => boolean,
    private readonly maxEntries: number,
    initialCapacity = 1024,
  ) {
    assert(wordsPerSet > 0 && (initialCapacity & (initialCapacity - 1)) === 0, 'SeenSet: bad geometry');
    this.slots = new Int32Array(initialCapacity * 2);
    this.mask = initialCapacity * 2 - 1;
    this.hashes = new Int32Array(initialCapacity);
    this.words = new Uint32Array(initialCapacity * wordsPerSet);
  }

  get size(): number {
    return this.count;
  }

  /** Adds (bits, state) unless already present; true when it was added (not seen before). */
  add(hash: number, bits: Uint32Array, state: State): boolean {
    const wordsPerSet = this.wordsPerSet;
    let slot = hash & this.mask;
    for (;;) {
      const stored = this.slots[slot]!;
      if (stored === 0) break;
      const entry = stored - 1;
      if (this.hashes[entry] === hash && this.sameBits(entry * wordsPerSet, bits) && this.equal(this.states[entry]!, state)) return false;
      slot = (slot + 1) & this.mask;
    }
    const entry = this.count;
    if (entry === this.hashes.length) {
      if (entry >= this.maxEntries) throw new CacheFullError(this.maxEntries);
      this.grow();
      return this.add(hash, bits, state);
    }
    this.count = entry + 1;
    this.hashes[entry] = hash;
    this.states.push(state);
    this.words.set(bits, entry * wordsPerSet);
    this.slots[slot] = entry + 1;
    return true;
  }

  private sameBits(offset: number, bits: Uint32Array): boolean {
    const words = this.words;
    for (let index = 0; index < bits.length; index++) {
      if (words[offset + index] !== bits[index]) return false;
    }
    return true;
  }

  /** Doubles the entry arrays and the slot table (kept at load factor ≤ 1/2), then rehashes. */
  private grow(): void {
    const capacity = this.hashes.length * 2;
    const hashes = new Int32Array(capacity);
    hashes.set(this.hashes);
    this.hashes = hashes;
    const words = new Uint32Array(capacity * this.wordsPerSet);
    words.set(this.words);
    this.words = words;
    this.slots = new Int32Array(capacity * 2);
    this.mask = capacity * 2 - 1;
    for (let entry = 0; entry < this.count; entry++) {
      let slot = hashes[entry]! & this.mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
      this.slots[slot] = entry + 1;
    }
  }
}
