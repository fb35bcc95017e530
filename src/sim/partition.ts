import { assertNever } from '../core/errors.js';
import type { Rng } from '../core/rng.js';

/**
 * Partition shapes (Jepsen's nemesis vocabulary). A partition is a set of cut directed links,
 * computed over node indices; the network drops traffic on a cut link until it heals.
 *
 * - `halves`: two random halves (⌊n/2⌋ and ⌈n/2⌉) cannot talk.
 * - `isolate`: one random node is cut from everyone.
 * - `bridge`: two halves that only a single bridge node can talk to both of.
 * - `majority-minority`: a random majority (⌊n/2⌋+1) and the minority rest.
 * - `majority-ring`: nodes on a random ring each see a majority (their ring neighbourhood), and no
 *   two see the same majority.
 */
export type PartitionMode = 'halves' | 'isolate' | 'bridge' | 'majority-minority' | 'majority-ring';
export const partitionModes: readonly PartitionMode[] = ['halves', 'isolate', 'bridge', 'majority-minority', 'majority-ring'];

/** A concrete partition: `cut[a * n + b] = 1` when the link a→b is cut. */
export interface Partition {
  readonly mode: PartitionMode | 'custom';
  /** Human description using node indices' groups. */
  readonly groups: readonly (readonly number[])[];
  readonly cut: Uint8Array;
}

/** Draws a partition of `n` nodes in `mode` (requires n ≥ 2; bridge requires n ≥ 3). */
export function drawPartition(mode: PartitionMode, n: number, rng: Rng): Partition {
  const order = rng.shuffle(Array.from({ length: n }, (_, index) => index));
  switch (mode) {
    case 'halves': {
      const half = Math.floor(n / 2);
      return groupsPartition(mode, n, [order.slice(0, half), order.slice(half)]);
    }
    case 'isolate':
      return groupsPartition(mode, n, [order.slice(0, 1), order.slice(1)]);
    case 'majority-minority': {
      const majority = Math.floor(n / 2) + 1;
      return groupsPartition(mode, n, [order.slice(0, majority), order.slice(majority)]);
    }
    case 'bridge':
      return bridgePartition(n, order);
    case 'majority-ring':
      return ringPartition(n, order);
    default:
      return assertNever(mode, 'partition mode');
  }
}

/** Nodes in different groups cannot talk (both directions); every node must be in one group. */
export function groupsPartition(mode: PartitionMode | 'custom', n: number, groups: readonly (readonly number[])[]): Partition {
  const groupOf = new Int32Array(n).fill(-1);
  groups.forEach((group, groupIndex) => {
    for (const node of group) groupOf[node] = groupIndex;
  });
  const cut = new Uint8Array(n * n);
  for (let a = 0; a < n; a += 1) {
    for (let b = 0; b < n; b += 1) if (groupOf[a] !== groupOf[b]) cut[a * n + b] = 1;
  }
  return { mode, groups: groups.map((group) => group.slice().sort((x, y) => x - y)), cut };
}

function bridgePartition(n: number, order: number[]): Partition {
  if (n < 3) return groupsPartition('bridge', n, [order.slice(0, 1), order.slice(1)]);
  const bridge = order[0]!;
  const rest = order.slice(1);
  const half = Math.floor(rest.length / 2);
  const left = rest.slice(0, half);
  const right = rest.slice(half);
  const cut = new Uint8Array(n * n);
  for (const a of left) {
    for (const b of right) {
      cut[a * n + b] = 1;
      cut[b * n + a] = 1;
    }
  }
  return { mode: 'bridge', groups: [[...left, bridge].sort((x, y) => x - y), [bridge, ...right].sort((x, y) => x - y)], cut };
}

function ringPartition(n: number, order: number[]): Partition {
  const majority = Math.floor(n / 2) + 1;
  const before = Math.floor((majority - 1) / 2);
  const after = majority - 1 - before;
  const sees = new Uint8Array(n * n);
  const groups: number[][] = [];
  for (let position = 0; position < n; position += 1) {
    const self = order[position]!;
    const view: number[] = [];
    for (let offset = -before; offset <= after; offset += 1) {
      const other = order[(((position + offset) % n) + n) % n]!;
      view.push(other);
      sees[self * n + other] = 1;
      sees[other * n + self] = 1;
    }
    groups.push(view.sort((x, y) => x - y));
  }
  const cut = new Uint8Array(n * n);
  for (let index = 0; index < n * n; index += 1) cut[index] = sees[index] === 1 ? 0 : 1;
  return { mode: 'majority-ring', groups, cut };
}
