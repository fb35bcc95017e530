/**
 * Small, stable 32-bit hashes shared by the seeded generator, the replicated state machines'
 * rolling digests and the simulator's trace hash. Results are unsigned 32-bit integers and the
 * same on every run and platform (UTF-16 code units, no locale).
 */

/** A 32-bit avalanche mix (splitmix32's finalizer). */
export function mix32(value: number): number {
  let z = value >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d);
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over a string's UTF-16 code units, continued from `seed` (default: the FNV offset basis). */
export function fnv1a32(text: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
