import type { NodeId } from '../core/ids.js';
import { type ChordCore, chordId, type ChordRecord, clockwise, fingerStart, idBits, type Item } from '../protocols/chord/index.js';
import type { SafetyChecker, SimView } from '../sim/scenario.js';

/**
 * What the chord scenario checks, apart from its workload:
 *
 * - `IdealRing`: the ring a set of live members should converge to (successor = next live id
 *   clockwise, predecessor = previous one, successor list = next r, finger i = successor(n + 2^i)).
 * - `Ledger`: every put a client invoked and every one acknowledged, and each get's answer, checked
 *   when it arrives: a get may only return a value some client put under that key (no invented
 *   values; stale values are allowed while the ring changes).
 */
type View = SimView<ChordCore, ChordRecord>;

export class IdealRing {
  /** Members sorted by identifier. */
  readonly order: readonly NodeId[];

  constructor(members: readonly NodeId[], private readonly replicas: number) {
    this.order = [...members].sort((a, b) => chordId(a) - chordId(b));
  }

  /** The first member at or after `key` clockwise. */
  owner(key: number): NodeId {
    let best = this.order[0]!;
    let bestDistance = Infinity;
    for (const node of this.order) {
      const distance = clockwise(key, chordId(node));
      if (distance < bestDistance) [best, bestDistance] = [node, distance];
    }
    return best;
  }

  /** The key's owner and the next r − 1 members (fewer on a small ring). */
  holders(key: number): NodeId[] {
    const first = this.order.indexOf(this.owner(key));
    const count = Math.min(this.replicas, this.order.length);
    return Array.from({ length: count }, (_, step) => this.order[(first + step) % this.order.length]!);
  }

  successors(node: NodeId): NodeId[] {
    const index = this.order.indexOf(node);
    const count = Math.min(this.replicas, this.order.length - 1);
    return Array.from({ length: count }, (_, step) => this.order[(index + 1 + step) % this.order.length]!);
  }

  predecessor(node: NodeId): NodeId | null {
    if (this.order.length === 1) return null;
    const index = this.order.indexOf(node);
    return this.order[(index - 1 + this.order.length) % this.order.length]!;
  }

  /** What is wrong with `core`'s pointers, or null when they are exactly the ideal ones. */
  problem(core: ChordCore, withFingers: boolean): string | null {
    const successors = this.successors(core.id);
    if (core.successors.join(',') !== successors.join(',')) return `${core.id} successors [${core.successors.join(',')}], expected [${successors.join(',')}]`;
    const predecessor = this.predecessor(core.id);
    if (core.predecessor !== predecessor) return `${core.id} predecessor ${core.predecessor}, expected ${predecessor}`;
    if (!withFingers) return null;
    for (let index = 0; index < idBits; index += 1) {
      const owner = this.owner(fingerStart(core.selfId, index));
      const expected = owner === core.id ? null : owner;
      if (core.fingerTable[index] !== expected) return `${core.id} finger ${index} is ${core.fingerTable[index]}, expected ${expected}`;
    }
    return null;
  }
}

export class Ledger {
  /** key → value → version of every put invoked. */
  private readonly puts = new Map<string, Map<string, number>>();
  /** key → highest version acknowledged to a client. */
  readonly acknowledged = new Map<string, number>();
  readonly problems: string[] = [];

  invoked(item: Item): void {
    let values = this.puts.get(item.key);
    if (values === undefined) this.puts.set(item.key, (values = new Map()));
    values.set(item.value, item.version);
  }

  acked(item: Item): void {
    this.acknowledged.set(item.key, Math.max(item.version, this.acknowledged.get(item.key) ?? 0));
  }

  /** True when a client put exactly this (key, value, version). */
  wasPut(key: string, value: string, version: number): boolean {
    return this.puts.get(key)?.get(value) === version;
  }

  read(key: string, value: string | null, version: number, where: string): void {
    if (value !== null && !this.wasPut(key, value, version)) this.problems.push(`${where}: get ${key} returned ${value}@${version}, which no client put`);
  }
}

/** Successor-list shape that holds at every instant: strictly clockwise, no self, at most r; predecessor never self. */
function pointerShapeProblem(core: ChordCore, replicas: number): string | null {
  if (core.successors.length > replicas) return `${core.id} keeps ${core.successors.length} successors, more than r = ${replicas}`;
  let distance = 0;
  for (const node of core.successors) {
    const next = clockwise(core.selfId, chordId(node));
    if (node === core.id || next <= distance) return `${core.id} successor list [${core.successors.join(',')}] is not strictly clockwise from itself`;
    distance = next;
  }
  return core.predecessor === core.id ? `${core.id} is its own predecessor` : null;
}

/** Items a node stores must each be a put some client invoked (no invented or mixed-up values). */
function storedItemProblem(core: ChordCore, keys: readonly string[], ledger: Ledger): string | null {
  for (const key of keys) {
    const item = core.item(key);
    if (item !== undefined && !ledger.wasPut(key, item.value, item.version)) return `${core.id} stores ${key} = ${item.value}@${item.version}, which no client put`;
  }
  return null;
}

/** Set once the ring converged after healing; from then on every node must stay on the ideal ring. */
export interface ConvergedState {
  ring: IdealRing | null;
}

/**
 * The per-event safety checker (only the node the event went to is re-examined): pointer shape,
 * stored items and get answers against the ledger, and — once the healed ring converged — that no
 * node's successor list or predecessor moves off the ideal ring again (no pointer skips a live,
 * joined node once converged).
 */
export function chordSafetyChecker(options: { ledger: Ledger; keys: readonly string[]; replicas: number; converged: ConvergedState }): SafetyChecker<ChordCore, ChordRecord> {
  return {
    name: 'chord safety',
    check: (view: View) => {
      if (options.ledger.problems.length > 0) return options.ledger.problems[0]!;
      const nodes = view.lastEventNode === null ? view.nodeIds : [view.lastEventNode];
      for (const id of nodes) {
        const core = view.core(id);
        if (core === null) continue;
        const problem = pointerShapeProblem(core, options.replicas) ?? storedItemProblem(core, options.keys, options.ledger) ?? (options.converged.ring === null ? null : options.converged.ring.problem(core, false));
        if (problem !== null) return options.converged.ring !== null && problem.includes('expected') ? `after converging: ${problem}` : problem;
      }
      return null;
    },
  };
}

/** Acknowledged puts whose key's owner or replicas (on the ideal ring) lack that version or a newer one. */
export function missingData(view: View, ring: IdealRing, ledger: Ledger): string | null {
  for (const [key, version] of ledger.acknowledged) {
    for (const holder of ring.holders(chordId(key))) {
      const item = view.core(holder)?.item(key);
      if (item === undefined || item.version < version) return `${holder} should hold ${key}@${version} or newer, has ${item === undefined ? 'nothing' : `@${item.version}`}`;
    }
  }
  return null;
}
