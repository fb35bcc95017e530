import { UndirectedGraph } from 'graphology';
import * as diameterModule from 'graphology-metrics/graph/diameter.js';
import { bidirectional, singleSourceLength } from 'graphology-shortest-path/unweighted.js';
import { assert, ConcordError, ErrorCode } from '../core/errors.js';
import type { NodeId } from '../core/ids.js';
import type { Rng } from '../core/rng.js';

/**
 * A topology: the set of links L ⊆ N×N that exist at all (undirected here — a link carries
 * traffic both ways). Stored as an adjacency matrix for the network's per-message check, and
 * turned into a `graphology` graph for metrics (connected, shortest path, diameter, clustering).
 */
export type TopologyKind = 'full' | 'ring' | 'star' | 'line' | 'grid' | 'random';
export const topologyKinds: readonly TopologyKind[] = ['full', 'ring', 'star', 'line', 'grid', 'random'];

export class Topology {
  /** adjacency[a * n + b] = 1 when a and b are linked (symmetric; the diagonal is 1). */
  readonly adjacency: Uint8Array;

  constructor(readonly nodes: readonly NodeId[]) {
    assert(nodes.length >= 1, 'topology needs at least one node');
    const n = nodes.length;
    this.adjacency = new Uint8Array(n * n);
    for (let index = 0; index < n; index += 1) this.adjacency[index * n + index] = 1;
  }

  get size(): number {
    return this.nodes.length;
  }

  link(a: number, b: number): void {
    const n = this.nodes.length;
    this.adjacency[a * n + b] = 1;
    this.adjacency[b * n + a] = 1;
  }

  unlink(a: number, b: number): void {
    assert(a !== b, 'a node is always linked to itself');
    const n = this.nodes.length;
    this.adjacency[a * n + b] = 0;
    this.adjacency[b * n + a] = 0;
  }

  linked(a: number, b: number): boolean {
    return this.adjacency[a * this.nodes.length + b] === 1;
  }

  /** Builds one of the standard topologies; `random` draws an Erdős–Rényi graph plus a ring so it is connected. */
  static build(kind: TopologyKind, nodes: readonly NodeId[], rng?: Rng, linkProbability = 0.3): Topology {
    const topology = new Topology(nodes);
    const n = nodes.length;
    switch (kind) {
      case 'full':
        for (let a = 0; a < n; a += 1) for (let b = a + 1; b < n; b += 1) topology.link(a, b);
        break;
      case 'ring':
        for (let a = 0; a < n; a += 1) if (n > 1) topology.link(a, (a + 1) % n);
        break;
      case 'line':
        for (let a = 0; a + 1 < n; a += 1) topology.link(a, a + 1);
        break;
      case 'star':
        for (let a = 1; a < n; a += 1) topology.link(0, a);
        break;
      case 'grid': {
        const width = Math.ceil(Math.sqrt(n));
        for (let a = 0; a < n; a += 1) {
          if ((a + 1) % width !== 0 && a + 1 < n) topology.link(a, a + 1);
          if (a + width < n) topology.link(a, a + width);
        }
        break;
      }
      case 'random': {
        if (rng === undefined) throw new ConcordError(ErrorCode.InvalidArgument, 'a random topology needs an rng');
        for (let a = 0; a < n; a += 1) if (n > 1) topology.link(a, (a + 1) % n);
        for (let a = 0; a < n; a += 1) for (let b = a + 1; b < n; b += 1) if (rng.chance(linkProbability)) topology.link(a, b);
        break;
      }
    }
    return topology;
  }

  /** Builds a topology from an explicit edge list of node ids. */
  static fromEdges(nodes: readonly NodeId[], edges: readonly (readonly [NodeId, NodeId])[]): Topology {
    const topology = new Topology(nodes);
    for (const [a, b] of edges) topology.link(topology.indexOf(a), topology.indexOf(b));
    return topology;
  }

  indexOf(id: NodeId): number {
    const index = this.nodes.indexOf(id);
    if (index < 0) throw new ConcordError(ErrorCode.UnknownNode, `unknown node ${id}`);
    return index;
  }

  /** The topology as an undirected graphology graph (nodes keyed by id). */
  toGraph(): UndirectedGraph {
    const graph = new UndirectedGraph({ multi: false, allowSelfLoops: false });
    const n = this.nodes.length;
    for (const id of this.nodes) graph.addNode(id);
    for (let a = 0; a < n; a += 1) {
      for (let b = a + 1; b < n; b += 1) if (this.adjacency[a * n + b] === 1) graph.addUndirectedEdge(this.nodes[a]!, this.nodes[b]!);
    }
    return graph;
  }

  metrics(): TopologyMetrics {
    return topologyMetrics(this.toGraph());
  }
}

export interface TopologyMetrics {
  readonly nodes: number;
  readonly links: number;
  readonly connected: boolean;
  /** Longest shortest path (hops); Infinity when disconnected. */
  readonly diameter: number;
  /** Average local clustering coefficient (nodes of degree < 2 count as 0, as in networkx). */
  readonly clusteringCoefficient: number;
}

// graphology-metrics is CommonJS (`module.exports = diameter`); take the function whichever way
// the module loader presents it.
const diameterOf = ((diameterModule as unknown as { default: unknown }).default ?? diameterModule) as (graph: UndirectedGraph) => number;

export function topologyMetrics(graph: UndirectedGraph): TopologyMetrics {
  return {
    nodes: graph.order,
    links: graph.size,
    connected: isConnected(graph),
    diameter: graph.order <= 1 ? 0 : diameterOf(graph),
    clusteringCoefficient: averageClustering(graph),
  };
}

/** True when every node reaches every other. */
export function isConnected(graph: UndirectedGraph): boolean {
  if (graph.order <= 1) return true;
  const first = graph.nodes()[0]!;
  return Object.keys(singleSourceLength(graph, first)).length === graph.order;
}

/** A shortest path (list of node ids, both ends included) or null when unreachable. */
export function shortestPath(graph: UndirectedGraph, from: NodeId, to: NodeId): NodeId[] | null {
  if (from === to) return [from];
  return bidirectional(graph, from, to);
}

/** Local clustering coefficient: the fraction of a node's neighbour pairs that are themselves linked. */
export function localClustering(graph: UndirectedGraph, node: NodeId): number {
  const neighbours = graph.neighbors(node);
  const degree = neighbours.length;
  if (degree < 2) return 0;
  let triangles = 0;
  for (let a = 0; a < degree; a += 1) {
    for (let b = a + 1; b < degree; b += 1) if (graph.areNeighbors(neighbours[a]!, neighbours[b]!)) triangles += 1;
  }
  return (2 * triangles) / (degree * (degree - 1));
}

export function averageClustering(graph: UndirectedGraph): number {
  if (graph.order === 0) return 0;
  let total = 0;
  graph.forEachNode((node: string) => {
    total += localClustering(graph, node);
  });
  return total / graph.order;
}
