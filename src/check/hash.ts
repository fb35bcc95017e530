/**
 * 32-bit hashing helpers for the checker's hot path. Everything here works on int32 values
 * (`Math.imul`, `| 0`) so V8 keeps them as small integers and never allocates.
 */

/** MurmurHash3's finalizer: spreads the bits of a 32-bit value. */
export function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Combines two 32-bit hashes, order-sensitive. */
export function combine32(a: number, b: number): number {
  return mix32((Math.imul(a, 0x9e3779b1) + b) | 0);
}

/** Hash of a string (FNV-1a, then mixed). */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    h ^= text.charCodeAt(index);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/**
 * Deterministic pseudo-random 32-bit keys (splitmix32), one per operation, for Zobrist hashing of
 * the linearized set: the hash of a set is the XOR of its members' keys, so adding or removing
 * one member updates the hash in O(1) instead of rehashing the whole bitset.
 */
export function zobristKeys(count: number, seed = 0x5eed1234): Int32Array {
  const keys = new Int32Array(count);
  let state = seed | 0;
  for (let index = 0; index < count; index++) {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    keys[index] = z ^ (z >>> 15);
  }
  return keys;
}
