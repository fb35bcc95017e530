import type { NodeId } from '../../core/ids.js';
import { chordId, type ChordId, clockwise, inHalfOpenInterval, inOpenInterval } from './ids.js';
import type { FindAnswer } from './lookups.js';

/** A node's routing state as `find` sees it. */
export interface RoutingState {
  readonly self: NodeId;
  readonly successors: readonly NodeId[];
  readonly fingers: readonly (NodeId | null)[];
}

/**
 * One step of find_successor at a node (§4.4), skipping nodes the lookup found dead (`avoid`):
 * the key's owner when it lies between the node and its first live successor, else the finger or
 * successor that most closely precedes the key.
 */
export function findStep(state: RoutingState, key: ChordId, avoid: readonly NodeId[]): FindAnswer {
  const successor = state.successors.find((node) => !avoid.includes(node)) ?? state.self;
  if (inHalfOpenInterval(key, chordId(state.self), chordId(successor))) return { type: 'found', owner: successor };
  const next = closestPreceding(state, key, avoid);
  return next === null ? { type: 'found', owner: successor } : { type: 'next', next };
}

/** §4.4 closest_preceding_node, over fingers and the successor list. */
export function closestPreceding(state: RoutingState, key: ChordId, avoid: readonly NodeId[]): NodeId | null {
  const selfId = chordId(state.self);
  let best: NodeId | null = null;
  let bestDistance = 0;
  for (const node of [...state.fingers, ...state.successors]) {
    if (node === null || node === state.self || avoid.includes(node)) continue;
    const id = chordId(node);
    const distance = clockwise(selfId, id);
    if (distance > bestDistance && inOpenInterval(id, selfId, key)) {
      best = node;
      bestDistance = distance;
    }
  }
  return best;
}

/** `candidates` cut to the successor-list invariant: strictly clockwise from `self`, stopping at a wrap or at `self`, at most `max`. */
export function normalizeSuccessors(self: NodeId, candidates: readonly NodeId[], max: number): NodeId[] {
  const selfId = chordId(self);
  const list: NodeId[] = [];
  let distance = 0;
  for (const node of candidates) {
    if (node === self) break;
    const next = clockwise(selfId, chordId(node));
    if (next <= distance) break;
    list.push(node);
    distance = next;
    if (list.length === max) break;
  }
  return list;
}
