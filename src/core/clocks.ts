import type { NodeId } from './ids.js';

/**
 * Logical clocks (Lamport 1978; Fidge and Mattern 1988), immutable values.
 *
 * - Lamport: a counter; a ≤ b whenever a happened before b, but not the converse.
 * - Vector: one counter per node; a happened before b exactly when `compareVectors(a, b)` is
 *   'before' — concurrency is visible. A missing entry counts as 0, so vectors of different
 *   member sets compare.
 */
export type LamportTime = number;

/** The time of a local event or a send after `current`. */
export function lamportTick(current: LamportTime): LamportTime {
  return current + 1;
}

/** The time of receiving a message stamped `received` at a node whose clock reads `current`. */
export function lamportReceive(current: LamportTime, received: LamportTime): LamportTime {
  return Math.max(current, received) + 1;
}

export type VectorClock = Readonly<Record<NodeId, number>>;

export type Causality = 'before' | 'after' | 'equal' | 'concurrent';

export function vectorGet(clock: VectorClock, node: NodeId): number {
  return clock[node] ?? 0;
}

/** `clock` with `node`'s entry advanced by one (a local event or a send at `node`). */
export function vectorTick(clock: VectorClock, node: NodeId): VectorClock {
  return { ...clock, [node]: vectorGet(clock, node) + 1 };
}

/** The entry-wise maximum (what a receiver knows after merging what a message knew). */
export function vectorMerge(a: VectorClock, b: VectorClock): VectorClock {
  const merged: Record<NodeId, number> = { ...a };
  for (const [node, count] of Object.entries(b)) if (count > (merged[node] ?? 0)) merged[node] = count;
  return merged;
}

/** How `a` relates to `b` in the happened-before order. */
export function compareVectors(a: VectorClock, b: VectorClock): Causality {
  let less = false;
  let greater = false;
  for (const node of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const difference = vectorGet(a, node) - vectorGet(b, node);
    if (difference < 0) less = true;
    else if (difference > 0) greater = true;
  }
  if (less && greater) return 'concurrent';
  if (less) return 'before';
  if (greater) return 'after';
  return 'equal';
}

/** Every entry of `a` is at most `b`'s (a happened before or equals b). */
export function vectorLeq(a: VectorClock, b: VectorClock): boolean {
  const relation = compareVectors(a, b);
  return relation === 'before' || relation === 'equal';
}
