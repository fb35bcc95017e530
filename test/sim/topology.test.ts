import { describe, expect, it } from 'vitest';
import { nodeIds } from '../../src/core/ids.js';
import { Rng } from '../../src/core/rng.js';
import { Network } from '../../src/sim/network.js';
import { drawPartition, partitionModes } from '../../src/sim/partition.js';
import { isConnected, localClustering, shortestPath, Topology, topologyMetrics } from '../../src/sim/topology.js';

const sync = { kind: 'synchronous' as const, delayUsMin: 100, deltaUs: 1000 };

describe('topology graph metrics', () => {
  it('full mesh K4: connected, diameter 1, clustering 1', () => {
    expect(Topology.build('full', nodeIds(4)).metrics()).toEqual({ nodes: 4, links: 6, connected: true, diameter: 1, clusteringCoefficient: 1 });
  });

  it('ring C6: diameter 3, clustering 0; line P4: diameter 3', () => {
    expect(Topology.build('ring', nodeIds(6)).metrics()).toEqual({ nodes: 6, links: 6, connected: true, diameter: 3, clusteringCoefficient: 0 });
    expect(Topology.build('line', nodeIds(4)).metrics()).toMatchObject({ links: 3, diameter: 3, connected: true });
  });

  it('star: diameter 2, clustering 0; 3×3 grid: diameter 4', () => {
    expect(Topology.build('star', nodeIds(5)).metrics()).toMatchObject({ links: 4, diameter: 2, clusteringCoefficient: 0 });
    expect(Topology.build('grid', nodeIds(9)).metrics()).toMatchObject({ links: 12, diameter: 4, connected: true });
  });

  it('triangle with a pendant: local clustering 1, 1, 1/3, 0 (average 7/12)', () => {
    const nodes = ['a', 'b', 'c', 'd'];
    const topology = Topology.fromEdges(nodes, [['a', 'b'], ['b', 'c'], ['a', 'c'], ['c', 'd']]);
    const graph = topology.toGraph();
    expect(nodes.map((node) => localClustering(graph, node))).toEqual([1, 1, 1 / 3, 0]);
    expect(topology.metrics().clusteringCoefficient).toBeCloseTo(7 / 12, 12);
    expect(shortestPath(graph, 'a', 'd')).toEqual(['a', 'c', 'd']);
  });

  it('a disconnected graph: not connected, infinite diameter, no path', () => {
    const topology = Topology.fromEdges(['a', 'b', 'c', 'd'], [['a', 'b'], ['c', 'd']]);
    const graph = topology.toGraph();
    expect(isConnected(graph)).toBe(false);
    expect(topologyMetrics(graph).diameter).toBe(Infinity);
    expect(shortestPath(graph, 'a', 'd')).toBeNull();
  });

  it('a random topology is connected (it contains a ring) and deterministic per seed', () => {
    const a = Topology.build('random', nodeIds(20), Rng.fromSeed(5), 0.1);
    const b = Topology.build('random', nodeIds(20), Rng.fromSeed(5), 0.1);
    expect(a.metrics().connected).toBe(true);
    expect([...a.adjacency]).toEqual([...b.adjacency]);
  });
});

describe('partition shapes', () => {
  function effective(mode: (typeof partitionModes)[number], n: number, seed: number) {
    const ids = nodeIds(n);
    const network = new Network(Topology.build('full', ids), sync, Rng.fromSeed(seed));
    const partition = drawPartition(mode, n, Rng.fromSeed(seed));
    network.setPartition(partition);
    return { network, partition, metrics: network.effectiveTopology().metrics(), graph: network.effectiveTopology().toGraph() };
  }

  it('halves, isolate and majority-minority disconnect the graph into the drawn groups', () => {
    for (const mode of ['halves', 'isolate', 'majority-minority'] as const) {
      // (with 2 nodes the majority is everyone, so majority-minority cuts nothing)
      for (const n of mode === 'majority-minority' ? [3, 5, 6] : [2, 5, 6]) {
        const { partition, metrics } = effective(mode, n, n);
        expect(metrics.connected).toBe(false);
        const sizes = partition.groups.map((group) => group.length).sort((a, b) => a - b);
        const expected = mode === 'isolate' ? [1, n - 1] : mode === 'halves' ? [Math.floor(n / 2), Math.ceil(n / 2)] : [n - (Math.floor(n / 2) + 1), Math.floor(n / 2) + 1];
        expect(sizes).toEqual(expected.sort((a, b) => a - b));
      }
    }
  });

  it('bridge keeps the graph connected through one node (diameter 2)', () => {
    const { metrics, partition } = effective('bridge', 7, 3);
    expect(metrics.connected).toBe(true);
    expect(metrics.diameter).toBe(2);
    const [left, right] = partition.groups;
    expect(left!.filter((node) => right!.includes(node))).toHaveLength(1);
  });

  it('majority-ring: every node sees a majority (itself included), no two see the same set', () => {
    for (const n of [5, 6, 7, 9]) {
      const { network } = effective('majority-ring', n, n);
      const views = Array.from({ length: n }, (_, a) => Array.from({ length: n }, (_, b) => b).filter((b) => network.isOpen(a, b)).join(','));
      for (const view of views) expect(view.split(',').length).toBeGreaterThanOrEqual(Math.floor(n / 2) + 1);
      expect(new Set(views).size).toBe(n);
    }
  });

  it('healing restores every link', () => {
    const { network } = effective('halves', 6, 1);
    network.heal();
    expect(network.effectiveTopology().metrics()).toMatchObject({ connected: true, diameter: 1, links: 15 });
  });
});
