import { ConcordError, ErrorCode } from '../../core/errors.js';
import { fnv1a32, mix32 } from '../../core/hash.js';
import type { NodeId } from '../../core/ids.js';

/**
 * Consistent hashing (Karger et al. 1997) with virtual nodes, as in Dynamo and Cassandra: every
 * node owns `virtualNodes × weight` points on a 32-bit ring; a key belongs to the first point at
 * or after its hash, clockwise. Adding or removing a node moves only the keys of the arcs it gains
 * or loses; the preference list of a key — its first `n` distinct nodes clockwise — gives the
 * replicas, and when one leaves the next in line takes over.
 *
 * Immutable: `with` / `without` return new rings, so a reader never sees a half-applied change.
 * The layout depends only on the member set (names, weights), never on the order of changes.
 */
export interface RingOptions {
  /** Points per unit of weight (default 128: each node owns 0.88–1.13 × its fair share at 10 nodes, 0.84–1.27 × at 50). */
  readonly virtualNodes?: number;
}

interface Point {
  readonly position: number;
  readonly node: NodeId;
}

/** A text's position on the 32-bit ring (also Chord's node and key identifiers). */
export const ringPosition = (text: string): number => mix32(fnv1a32(text));

export class HashRing {
  private constructor(
    private readonly points: readonly Point[],
    private readonly weights: ReadonlyMap<NodeId, number>,
    private readonly virtualNodes: number,
  ) {}

  static empty(options: RingOptions = {}): HashRing {
    const virtualNodes = options.virtualNodes ?? 128;
    if (!Number.isSafeInteger(virtualNodes) || virtualNodes < 1 || virtualNodes > 4096) {
      throw new ConcordError(ErrorCode.InvalidConfig, 'virtualNodes must be an integer in [1, 4096]');
    }
    return new HashRing([], new Map(), virtualNodes);
  }

  static of(nodes: readonly NodeId[], options: RingOptions = {}): HashRing {
    return nodes.reduce((ring, node) => ring.with(node), HashRing.empty(options));
  }

  /** A ring that also holds `node` (weight: how many shares of points; default 1). */
  with(node: NodeId, weight = 1): HashRing {
    if (typeof node !== 'string' || node.length === 0) throw new ConcordError(ErrorCode.InvalidArgument, 'a node id must be a non-empty string');
    if (!Number.isSafeInteger(weight) || weight < 1 || weight > 64) throw new ConcordError(ErrorCode.InvalidArgument, 'weight must be an integer in [1, 64]');
    const weights = new Map(this.weights);
    weights.set(node, weight);
    return HashRing.build(weights, this.virtualNodes);
  }

  /** A ring without `node` (unchanged if it was not there). */
  without(node: NodeId): HashRing {
    if (!this.weights.has(node)) return this;
    const weights = new Map(this.weights);
    weights.delete(node);
    return HashRing.build(weights, this.virtualNodes);
  }

  get size(): number {
    return this.weights.size;
  }

  nodes(): NodeId[] {
    return [...this.weights.keys()].sort();
  }

  /** The node that owns `key`; UNKNOWN_NODE on an empty ring. */
  owner(key: string): NodeId {
    return this.preferenceList(key, 1)[0]!;
  }

  /** The first `count` distinct nodes clockwise from `key` (fewer when the ring has fewer). */
  preferenceList(key: string, count: number): NodeId[] {
    if (this.points.length === 0) throw new ConcordError(ErrorCode.UnknownNode, 'the ring has no nodes');
    const wanted = Math.min(count, this.weights.size);
    const found: NodeId[] = [];
    for (let index = this.firstAtOrAfter(ringPosition(key)); found.length < wanted; index += 1) {
      const node = this.points[index % this.points.length]!.node;
      if (!found.includes(node)) found.push(node);
    }
    return found;
  }

  /** The fraction of the hash space each node owns (sums to 1). */
  ownership(): Map<NodeId, number> {
    const shares = new Map<NodeId, number>([...this.weights.keys()].map((node) => [node, 0]));
    const space = 2 ** 32;
    this.points.forEach((point, index) => {
      const previous = index === 0 ? this.points[this.points.length - 1]!.position - space : this.points[index - 1]!.position;
      shares.set(point.node, shares.get(point.node)! + (point.position - previous) / space);
    });
    return shares;
  }

  private firstAtOrAfter(position: number): number {
    let low = 0;
    let high = this.points.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.points[middle]!.position < position) low = middle + 1;
      else high = middle;
    }
    return low; // may be points.length: wraps to 0
  }

  private static build(weights: ReadonlyMap<NodeId, number>, virtualNodes: number): HashRing {
    const points: Point[] = [];
    for (const [node, weight] of weights) {
      for (let index = 0; index < virtualNodes * weight; index += 1) points.push({ position: ringPosition(`${node}#${index}`), node });
    }
    // Ties (equal positions) break by node id, so the layout does not depend on insertion order.
    points.sort((a, b) => a.position - b.position || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
    return new HashRing(points, weights, virtualNodes);
  }
}
