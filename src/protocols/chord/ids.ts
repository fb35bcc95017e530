import type { NodeId } from '../../core/ids.js';
import { ringPosition } from '../dht/ring.js';

/**
 * Chord's identifier circle (Stoica et al. 2001, §4.1): m-bit identifiers, m = 32, arithmetic
 * modulo 2^m. A node's identifier and a key's identifier are the same hash (the consistent-hashing
 * ring's position function), so a key belongs to the first node at or after it clockwise.
 */
export const idBits = 32;
export const ringSize = 2 ** idBits;

export type ChordId = number;

/** The identifier of a node name or a key. */
export const chordId = (text: NodeId | string): ChordId => ringPosition(text);

export function isChordId(value: unknown): value is ChordId {
  return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) < ringSize;
}

/** Clockwise distance from `from` to `to` (0 when equal). */
export function clockwise(from: ChordId, to: ChordId): number {
  return (to - from + ringSize) % ringSize;
}

/** x ∈ (a, b) going clockwise; with a = b the interval is the whole circle except a. */
export function inOpenInterval(x: ChordId, a: ChordId, b: ChordId): boolean {
  if (a === b) return x !== a;
  const toX = clockwise(a, x);
  return toX > 0 && toX < clockwise(a, b);
}

/** x ∈ (a, b] going clockwise; with a = b the interval is the whole circle. */
export function inHalfOpenInterval(x: ChordId, a: ChordId, b: ChordId): boolean {
  return x === b || inOpenInterval(x, a, b);
}

/** The start of finger `index` (0-based) of node `id`: id + 2^index mod 2^m. */
export function fingerStart(id: ChordId, index: number): ChordId {
  return (id + 2 ** index) % ringSize;
}
