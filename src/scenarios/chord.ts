import type { NodeId, RequestId } from '../core/ids.js';
import { Rng } from '../core/rng.js';
import {
  type ChordConfig, chordConfig, type ChordCore, chordFactory, chordId, type ChordMessage, type ChordNodeOptions, type ChordRecord, type ChordReply, type ChordRequest,
} from '../protocols/chord/index.js';
import type { WorkloadSpec } from '../sim/clients.js';
import { defineScenario } from '../sim/runner.js';
import type { LivenessSpec, ProtocolParts, Scenario, ScenarioDefaults, SimView } from '../sim/scenario.js';
import type { RunSettings } from '../sim/settings.js';
import type { Simulation } from '../sim/simulation.js';
import { chordSafetyChecker, type ConvergedState, IdealRing, Ledger, missingData } from './chord-checks.js';
import { bugNote } from './testing-bugs.js';

/**
 * Scenario `chord`: a Chord ring of 12 nodes that join over the first 60 % of the fault phase
 * (through random members), while the nemesis crashes and restarts, pauses, slows and partitions
 * nodes and the network loses, duplicates and reorders messages; clients issue lookups, puts and
 * gets at random live nodes. At most r − 1 = 2 nodes are faulty at once, so a key never loses all
 * r replicas at the same time.
 *
 * - Safety after every event (see `chordSafetyChecker`): successor lists strictly clockwise,
 *   stored items and get answers were put by a client, and once the healed ring converged, no
 *   node's successor list or predecessor moves off the ideal ring again.
 * - Liveness after healing (message loss also ends then: a failure detector cannot tell a lossy
 *   link from a dead node): every node joined, successor lists, predecessors and all 32 fingers
 *   exact; every acknowledged put held (that version or newer) by the key's owner and next r − 1;
 *   then probe lookups (4 random keys from every node) name the right owner, and a probe get of
 *   every acknowledged key returns that version or newer.
 */
type Core = ChordCore;
type View = SimView<Core, ChordRecord>;
type Parts = ProtocolParts<Core, ChordMessage, ChordRecord, ChordRequest, ChordReply>;
type Sim = Simulation<Core, ChordMessage, ChordRecord, ChordRequest, ChordReply>;

export const chordDefaults: Partial<ScenarioDefaults> = {
  nodes: 12,
  durationMs: 10_000,
  livenessBoundMs: 10_000,
  faults: ['crash', 'partition', 'loss', 'dup', 'reorder', 'drift', 'pause', 'omission', 'slow'],
  // Fewer than r = 3 replicas of a key are ever faulty at once.
  maxFaultyNodes: () => 2,
};

const keys = Array.from({ length: 24 }, (_, index) => `k${index}`);
const probeKeysPerNode = 4;

/** Join times: the first node creates the ring, half of the rest join in the first 0.5 s, the others over 60 % of the fault phase. */
function joinPlan(settings: RunSettings): (id: NodeId) => ChordNodeOptions {
  const rng = Rng.fromSeed(settings.seed).split('chord-joins');
  const lastTick = Math.max(60, Math.floor((settings.durationMs * 0.6) / settings.tickIntervalMs));
  const plan = new Map<NodeId, number>(settings.nodes.map((id, index) => [id, index < settings.nodes.length / 2 ? rng.int(1, 50) : rng.int(50, lastTick)]));
  const creator = [...settings.nodes].sort()[0];
  return (id) => ({ creates: id === creator, joinAfterTicks: plan.get(id) ?? 1 });
}

function chordWorkload(ledger: Ledger): WorkloadSpec<ChordRequest, ChordReply> {
  let version = 0;
  return {
    clients: 4,
    thinkMsMax: 30,
    timeoutMs: 1_500,
    next: ({ rng, nodes }) => {
      if (nodes.length === 0) return null;
      const node = rng.pick(nodes);
      const key = rng.pick(keys);
      const roll = rng.next();
      if (roll < 0.3) return { node, f: 'lookup', key, value: null, request: { type: 'lookup', key } };
      if (roll < 0.6) return { node, f: 'get', key, value: null, request: { type: 'get', key } };
      version += 1;
      const item = { key, value: `v${version}`, version };
      ledger.invoked(item);
      return { node, f: 'put', key, value: item.value, request: { type: 'put', ...item } };
    },
    complete: (reply, operation) => {
      const request = operation.request;
      switch (reply.type) {
        case 'owner':
          return { type: 'ok', value: reply.owner };
        case 'ok':
          if (request.type === 'put') ledger.acked({ key: request.key, value: request.value, version: request.version });
          return { type: 'ok', value: null };
        case 'value':
          ledger.read(request.key, reply.value, reply.version, `${operation.node}`);
          return { type: 'ok', value: reply.value };
        case 'error':
          // A put that left this node and timed out may be stored; everything else definitely did not happen.
          return request.type === 'put' && reply.code === 'TIMEOUT' ? { type: 'info', value: null, error: reply.code } : { type: 'fail', value: null, error: reply.code };
      }
    },
  };
}

type Probe = { readonly kind: 'lookup'; readonly node: NodeId; readonly key: string; readonly owner: NodeId } | { readonly kind: 'get'; readonly node: NodeId; readonly key: string; readonly version: number };

/** Probe lookups and gets issued once the healed ring converged; their answers are checked as they arrive. */
class Probes {
  issued = false;
  readonly pending = new Map<RequestId, Probe>();
  readonly hops: number[] = [];

  constructor(private readonly ledger: Ledger) {}

  issue(sim: Sim, ring: IdealRing, rng: Rng): void {
    this.issued = true;
    for (const node of sim.nodeIds) {
      for (let index = 0; index < probeKeysPerNode; index += 1) {
        const key = `probe-${rng.int(0, 1_000_000)}`;
        this.pending.set(sim.request(node, { type: 'lookup', key }), { kind: 'lookup', node, key, owner: ring.owner(chordId(key)) });
      }
    }
    for (const [key, version] of this.ledger.acknowledged) {
      const node = rng.pick(sim.nodeIds);
      this.pending.set(sim.request(node, { type: 'get', key }), { kind: 'get', node, key, version });
    }
  }

  /** Consumes the reply if it answers a probe (true). */
  onReply(requestId: RequestId, reply: ChordReply): boolean {
    const probe = this.pending.get(requestId);
    if (probe === undefined) return false;
    this.pending.delete(requestId);
    const where = `probe ${probe.kind} of ${probe.key} at ${probe.node}`;
    if (probe.kind === 'lookup') {
      if (reply.type !== 'owner' || reply.owner !== probe.owner) this.ledger.problems.push(`${where}: ${JSON.stringify(reply)}, the owner is ${probe.owner}`);
      else this.hops.push(reply.hops);
    } else if (reply.type !== 'value' || reply.version < probe.version) {
      this.ledger.problems.push(`${where}: ${JSON.stringify(reply)}, but ${probe.key}@${probe.version} was acknowledged`);
    } else {
      this.ledger.read(probe.key, reply.value, reply.version, where);
    }
    return true;
  }

  summary(nodes: number): string {
    if (this.hops.length === 0) return 'probe lookups: none completed';
    const sorted = [...this.hops].sort((a, b) => a - b);
    const mean = sorted.reduce((sum, hops) => sum + hops, 0) / sorted.length;
    return `probe lookups: ${sorted.length}, hops mean ${mean.toFixed(2)}, max ${sorted[sorted.length - 1]} (log2 n = ${Math.log2(nodes).toFixed(2)})`;
  }
}

/** Bound on probe hops: 2 × ⌈log2 n⌉ (Chord: O(log n) with high probability, ½ log2 n on average). */
export const hopBound = (nodes: number): number => 2 * Math.max(1, Math.ceil(Math.log2(nodes)));

interface RunParts {
  readonly sim: { current: Sim | null };
  readonly ledger: Ledger;
  readonly probes: Probes;
  readonly converged: ConvergedState;
  readonly replicas: number;
  readonly seed: number;
}

function ringProblem(view: View, run: RunParts): string | null {
  for (const id of view.nodeIds) {
    const core = view.core(id);
    if (view.status(id) !== 'up' || core === null) return `${id} is ${view.status(id)}`;
    if (!core.joined) return `${id} has not joined`;
    // Misses left over from the fault phase would drop a live neighbour after "converging".
    if (core.suspecting) return `${id} still suspects a neighbour`;
  }
  const ring = new IdealRing(view.nodeIds, run.replicas);
  for (const id of view.nodeIds) {
    const problem = ring.problem(view.core(id)!, true);
    if (problem !== null) return problem;
  }
  return missingData(view, ring, run.ledger);
}

function convergence(run: RunParts): LivenessSpec<Core, ChordRecord> {
  return {
    description: 'every node joined; successor lists, predecessors and fingers exact; acknowledged puts on their r holders; probe lookups right within the hop bound and probe gets current',
    begin: (view) => {
      const sim = run.sim.current!;
      const clients = sim.onReply;
      sim.onReply = (node, requestId, reply) => {
        if (!run.probes.onReply(requestId, reply)) clients?.(node, requestId, reply);
      };
      let lastCheckUs = -Infinity;
      return () => {
        // The whole-ring comparison is costly: at most once per virtual millisecond.
        if (view.now - lastCheckUs < 1000) return false;
        lastCheckUs = view.now;
        if (run.probes.issued) return run.probes.pending.size === 0 && Math.max(0, ...run.probes.hops) <= hopBound(view.nodeIds.length);
        if (ringProblem(view, run) !== null) return false;
        run.converged.ring = new IdealRing(view.nodeIds, run.replicas);
        run.probes.issue(sim, run.converged.ring, Rng.fromSeed(run.seed).split('chord-probes'));
        return false;
      };
    },
    diagnose: (view) => {
      if (!run.probes.issued) return ringProblem(view, run) ?? 'converged at the deadline';
      return `${run.probes.pending.size} probes unanswered; ${run.probes.summary(view.nodeIds.length)} (bound ${hopBound(view.nodeIds.length)})`;
    },
  };
}

/** At the end of the fault phase message loss stops (duplication and reordering stay). */
function endLossAtHeal(sim: Sim, settings: RunSettings): void {
  sim.at(settings.durationMs * 1000, () => {
    sim.network.setAllLinkFaults({ lossRatio: 0, duplicateRatio: settings.duplicateRatio, reorderRatio: settings.reorderRatio, delayFactor: 1 });
  });
}

export interface ChordScenarioOptions {
  readonly name?: string;
  readonly description?: string;
  readonly configOverrides?: Partial<ChordConfig>;
}

export function chordScenario(options: ChordScenarioOptions = {}): Scenario {
  return defineScenario<Core, ChordMessage, ChordRecord, ChordRequest, ChordReply>({
    name: options.name ?? 'chord',
    description:
      options.description ??
      'Chord DHT (join over time, stabilize/notify/fixFingers, successor lists, iterative lookups, r-way replicated keys) under crashes, partitions, loss, duplication, reordering, pauses and slow nodes; ring shape and stored values after every event, convergence, data placement and O(log n) lookups after healing',
    defaults: chordDefaults,
    build: (settings): Parts => {
      const config = chordConfig(options.configOverrides);
      const ledger = new Ledger();
      const run: RunParts = { sim: { current: null }, ledger, probes: new Probes(ledger), converged: { ring: null }, replicas: config.successorsMax, seed: settings.seed };
      return {
        factory: chordFactory(config, joinPlan(settings)),
        workload: chordWorkload(ledger),
        checkers: [chordSafetyChecker({ ledger, keys, replicas: config.successorsMax, converged: run.converged })],
        liveness: convergence(run),
        setup: (sim, runSettings) => {
          run.sim.current = sim;
          endLossAtHeal(sim, runSettings);
        },
        notes: () => [
          `r = ${config.successorsMax}, stabilize every ${config.stabilizeTicks} ticks, a finger every ${config.fixFingersTicks}, hop timeout ${config.hopTimeoutTicks} ticks, ${ledger.acknowledged.size} keys acknowledged` + bugNote(config.testingBugs),
          run.probes.summary(settings.nodes.length),
        ],
      };
    },
  });
}

export const chordScenarios: readonly Scenario[] = [
  chordScenario(),
  chordScenario({
    name: 'chord-bug-no-key-transfer',
    description: 'chord with the TEST-ONLY bug noKeyTransfer (a joining node and a new predecessor are not handed their keys): acknowledged puts must go missing at their owner',
    configOverrides: { testingBugs: { noKeyTransfer: true, singleSuccessor: false} },
  }),
  chordScenario({
    name: 'chord-bug-single-successor',
    description: 'chord with the TEST-ONLY bug singleSuccessor (a successor list of one): keys get one replica instead of r − 1 and the ring cannot converge to r successors',
    configOverrides: { testingBugs: { noKeyTransfer: false, singleSuccessor: true} },
  }),
];
