import { ConcordError, ErrorCode } from '../core/errors.js';
import type { NodeId } from '../core/ids.js';
import type { ProtocolCore } from '../core/protocol.js';
import { Rng } from '../core/rng.js';
import { createAdversary } from './adversary.js';
import { ClientDriver } from './clients.js';
import { applyAction, describeAction, drawSchedule, type NemesisTarget } from './nemesis.js';
import type { Network } from './network.js';
import {
  baseDefaults,
  type ProtocolParts,
  type RunPhase,
  type SafetyChecker,
  type Scenario,
  type ScenarioDefaults,
  type ScenarioResult,
  type ScenarioRunOptions,
  type SimView,
  type Violation,
} from './scenario.js';
import { deriveSettings, timingChoices, type RunSettings } from './settings.js';
import { Simulation } from './simulation.js';
import { Topology, topologyKinds } from './topology.js';

/** Most violations collected when not stopping at the first (the rest are dropped). */
const violationsMax = 100;
/** Largest cluster a scenario run accepts. */
export const nodesMax = 1000;

export interface ScenarioDefinition<C extends ProtocolCore<M, P, Req, Rep>, M, P, Req, Rep> {
  readonly name: string;
  readonly description: string;
  readonly defaults?: Partial<ScenarioDefaults>;
  /** Builds the protocol parts of one run from its settings (called once per run). */
  build(settings: RunSettings): ProtocolParts<C, M, P, Req, Rep>;
}

/** Turns a definition into a registrable `Scenario` run by `runProtocolScenario`. */
export function defineScenario<C extends ProtocolCore<M, P, Req, Rep>, M, P, Req, Rep>(
  definition: ScenarioDefinition<C, M, P, Req, Rep>,
): Scenario {
  const defaults: ScenarioDefaults = { ...baseDefaults, ...definition.defaults };
  return {
    name: definition.name,
    description: definition.description,
    defaults,
    run: (options) => runProtocolScenario(definition, defaults, options),
  };
}

/** Validates the options and resolves them against the defaults into settings. */
export function resolveSettings(name: string, defaults: ScenarioDefaults, options: ScenarioRunOptions): RunSettings {
  const invalid = (message: string): never => {
    throw new ConcordError(ErrorCode.InvalidArgument, message);
  };
  if (!Number.isSafeInteger(options.seed) || options.seed < 0) invalid(`seed must be a non-negative integer, got ${options.seed}`);
  const nodeCount = options.nodes ?? defaults.nodes;
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > nodesMax) invalid(`nodes must be an integer in [1, ${nodesMax}], got ${nodeCount}`);
  const durationMs = options.durationMs ?? defaults.durationMs;
  const livenessBoundMs = options.livenessBoundMs ?? defaults.livenessBoundMs;
  if (!Number.isInteger(durationMs) || durationMs < 1) invalid(`duration must be at least 1 ms, got ${durationMs}`);
  if (!Number.isInteger(livenessBoundMs) || livenessBoundMs < 1) invalid(`liveness bound must be at least 1 ms, got ${livenessBoundMs}`);
  const timing = options.timing ?? defaults.timing;
  if (!timingChoices.includes(timing)) invalid(`unknown timing model "${timing}" (known: ${timingChoices.join(', ')})`);
  const topology = options.topology ?? defaults.topology;
  if (!topologyKinds.includes(topology)) invalid(`unknown topology "${topology}" (known: ${topologyKinds.join(', ')})`);
  const faults = options.faults ?? defaults.faults;
  const maxByzantineNodes = defaults.maxByzantineNodes(nodeCount);
  if (faults.includes('byzantine') && maxByzantineNodes < 1) {
    invalid(`scenario ${name} does not tolerate Byzantine nodes with ${nodeCount} nodes; drop "byzantine" from --faults`);
  }
  const input = {
    scenario: name,
    seed: options.seed,
    nodeCount,
    faults,
    durationMs,
    livenessBoundMs,
    timing,
    topology,
    tickIntervalMs: defaults.tickIntervalMs,
    lossRatioMin: defaults.lossRatioMin,
    lossRatioMax: defaults.lossRatioMax,
    duplicateRatioMin: defaults.duplicateRatioMin,
    duplicateRatioMax: defaults.duplicateRatioMax,
    reorderRatioMax: defaults.reorderRatioMax,
    maxFaultyNodes: defaults.maxFaultyNodes(nodeCount),
    maxByzantineNodes,
  };
  return deriveSettings(input, Rng.fromSeed(options.seed).split('settings'));
}

/**
 * Runs one seeded scenario: fault phase (nemesis + workload), then heal phase (faults undone,
 * network synchronous, liveness must hold within the bound), then final checks.
 */
export function runProtocolScenario<C extends ProtocolCore<M, P, Req, Rep>, M, P, Req, Rep>(
  definition: ScenarioDefinition<C, M, P, Req, Rep>,
  defaults: ScenarioDefaults,
  options: ScenarioRunOptions,
): ScenarioResult {
  const settings = resolveSettings(definition.name, defaults, options);
  const parts = definition.build(settings);
  const root = Rng.fromSeed(options.seed);
  const sim = createSimulation(settings, parts);
  if (options.tracer !== undefined) sim.tracer = options.tracer;
  configureFaults(sim, settings, parts, root);
  const schedule = drawSchedule(settings, root.split('nemesis'));
  const target = nemesisTarget(sim);
  for (const scheduled of schedule) sim.at(scheduled.atUs, () => applyAction(target, scheduled.action));
  const driver = parts.workload === undefined ? null : new ClientDriver(parts.workload, sim, root.split('workload'));
  if (driver !== null) sim.onReply = (_node, requestId, reply) => driver.onReply(requestId, reply);

  const run = new RunState<C, P>(sim, driver, options.stopOnViolation ?? true);
  const checkers = parts.checkers ?? [];
  if (checkers.length > 0) sim.afterEvent = () => run.check(checkers);
  const livenessResult = run.guard(() => {
    sim.startAll();
    driver?.start();
    sim.run(settings.durationMs * 1000);
    if (sim.isStopped) return null;
    return healAndAwait(sim, settings, parts, driver, run);
  });
  if (!sim.isStopped) {
    run.phase = 'final';
    run.check(parts.finalCheckers ?? []);
  }
  return {
    scenario: definition.name,
    seed: options.seed,
    traceHash: sim.traceHash(),
    violations: run.violations,
    stats: sim.stats,
    settings,
    schedule: schedule.map(describeAction),
    notes: parts.notes?.() ?? [],
    liveness: {
      description: parts.liveness?.description ?? 'none',
      boundMs: settings.livenessBoundMs,
      held: livenessResult === null || livenessResult === undefined ? null : livenessResult.held,
      afterMs: livenessResult?.afterMs ?? null,
    },
    virtualTimeMs: sim.now / 1000,
    history: driver?.history() ?? [],
    clients: driver?.counts ?? { invoked: 0, ok: 0, fail: 0, info: 0 },
  };
}

function createSimulation<C extends ProtocolCore<M, P, Req, Rep>, M, P, Req, Rep>(
  settings: RunSettings,
  parts: ProtocolParts<C, M, P, Req, Rep>,
): Simulation<C, M, P, Req, Rep> {
  return new Simulation<C, M, P, Req, Rep>({
    seed: settings.seed,
    nodes: settings.nodes,
    factory: parts.factory,
    timing: settings.timing,
    topology: buildTopology(settings),
    tickIntervalMs: settings.tickIntervalMs,
    fsyncLatencyUs: settings.fsyncLatencyUs,
    crashKeepsUnsyncedPrefix: settings.crashKeepsUnsyncedPrefix,
    ...(parts.isCheckpoint !== undefined ? { isCheckpoint: parts.isCheckpoint } : {}),
    ...(parts.hashMessage !== undefined ? { hashMessage: parts.hashMessage } : {}),
    ...(parts.hashRequest !== undefined ? { hashRequest: parts.hashRequest } : {}),
    ...(parts.hashReply !== undefined ? { hashReply: parts.hashReply } : {}),
  });
}

/** The run's link set (a `random` topology is drawn from the seed's `topology` sub-generator). */
export function buildTopology(settings: RunSettings): Topology {
  return Topology.build(settings.topology, settings.nodes, Rng.fromSeed(settings.seed).split('topology'));
}

/** Static faults of the run: link faults (base + bad links), clock drift, Byzantine nodes. */
function configureFaults<C extends ProtocolCore<M, P, Req, Rep>, M, P, Req, Rep>(
  sim: Simulation<C, M, P, Req, Rep>,
  settings: RunSettings,
  parts: ProtocolParts<C, M, P, Req, Rep>,
  root: Rng,
): void {
  const base = { lossRatio: settings.lossRatio, duplicateRatio: settings.duplicateRatio, reorderRatio: settings.reorderRatio, delayFactor: 1 };
  sim.network.setAllLinkFaults(base);
  if (settings.badLinkShare > 0) configureBadLinks(sim.network, settings, root.split('links'));
  for (const [node, ratio] of Object.entries(settings.clockDrift)) sim.setClockDrift(node, ratio);
  for (const [node, mode] of Object.entries(settings.byzantine)) {
    const options = parts.mutateMessage === undefined ? { mode } : { mode, mutate: parts.mutateMessage };
    sim.setByzantine(node, createAdversary<M>(options, node, settings.nodes, root.split(`adversary:${node}`)));
  }
  parts.setup?.(sim, settings);
}

/** A share of the links is worse than the rest: twice the loss and duplication, slower. */
function configureBadLinks(network: Network, settings: RunSettings, rng: Rng): void {
  const n = settings.nodes.length;
  for (let from = 0; from < n; from += 1) {
    for (let to = 0; to < n; to += 1) {
      if (from === to || !rng.chance(settings.badLinkShare)) continue;
      network.setLinkFaults(from, to, {
        lossRatio: Math.min(0.9, settings.lossRatio * 2),
        duplicateRatio: Math.min(0.5, settings.duplicateRatio * 2),
        reorderRatio: settings.reorderRatio,
        delayFactor: 1 + rng.int(0, 3),
      });
    }
  }
}

function nemesisTarget<C extends ProtocolCore<M, P, Req, Rep>, M, P, Req, Rep>(sim: Simulation<C, M, P, Req, Rep>): NemesisTarget {
  return {
    crash: (node) => sim.crash(node),
    restart: (node) => sim.restart(node),
    pause: (node) => sim.pause(node),
    resume: (node) => sim.resume(node),
    setSendOmission: (node, ratio) => sim.setSendOmission(node, ratio),
    setReceiveOmission: (node, ratio) => sim.setReceiveOmission(node, ratio),
    setSlow: (node, extraUs) => sim.setSlow(node, extraUs),
    partition: (partition) => sim.network.setPartition(partition),
    heal: () => sim.network.heal(),
  };
}

/** Heal phase: undo every fault, make the network synchronous, then await liveness. */
function healAndAwait<C extends ProtocolCore<M, P, Req, Rep>, M, P, Req, Rep>(
  sim: Simulation<C, M, P, Req, Rep>,
  settings: RunSettings,
  parts: ProtocolParts<C, M, P, Req, Rep>,
  driver: ClientDriver<Req, Rep> | null,
  run: RunState<C, P>,
): { held: boolean; afterMs: number | null } {
  run.phase = 'heal';
  driver?.stop();
  sim.network.heal();
  sim.network.setTimingModel(settings.healTiming);
  for (const node of settings.nodes) {
    sim.setSendOmission(node, 0);
    sim.setReceiveOmission(node, 0);
    sim.setSlow(node, 0);
    sim.resume(node);
    sim.restart(node);
  }
  const healUs = sim.now;
  const deadlineUs = healUs + settings.livenessBoundMs * 1000;
  if (parts.liveness === undefined) {
    sim.run(deadlineUs);
    return { held: true, afterMs: null };
  }
  const condition = parts.liveness.begin(run.view);
  const held = sim.runUntil(condition, deadlineUs);
  if (sim.isStopped) return { held, afterMs: null };
  if (!held) {
    run.report({
      timeUs: sim.now,
      checker: 'liveness',
      message: `not within ${settings.livenessBoundMs}ms after healing: ${parts.liveness.description}${parts.liveness.diagnose === undefined ? '' : ` — ${parts.liveness.diagnose(run.view)}`}`,
      phase: 'heal',
    });
  }
  return { held, afterMs: held ? (sim.now - healUs) / 1000 : null };
}

/** Phase, violations and the checker view of one run. */
class RunState<C, P> {
  phase: RunPhase = 'faults';
  readonly violations: Violation[] = [];
  readonly view: SimView<C, P>;

  constructor(
    private readonly sim: Simulation<any, any, P, any, any>,
    driver: ClientDriver<any, any> | null,
    private readonly stopOnViolation: boolean,
  ) {
    const state = this as RunState<C, P>;
    this.view = {
      get now() {
        return sim.now;
      },
      get phase() {
        return state.phase;
      },
      nodeIds: sim.nodeIds,
      core: (id: NodeId) => sim.core(id) as C | null,
      disk: (id: NodeId) => sim.disk(id),
      status: (id: NodeId) => sim.status(id),
      incarnation: (id: NodeId) => sim.incarnation(id),
      isByzantine: (id: NodeId) => sim.isByzantine(id),
      linked: (a: NodeId, b: NodeId) => sim.network.links.linked(sim.nodeIndex(a), sim.nodeIndex(b)),
      honestNodes: () => sim.nodeIds.filter((id) => !sim.isByzantine(id)),
      history: () => driver?.history() ?? [],
      get lastEventNode() {
        const index = sim.lastEventNode;
        return index < 0 ? null : sim.nodeIds[index]!;
      },
    };
  }

  check(checkers: readonly SafetyChecker<C, P>[]): void {
    for (const checker of checkers) {
      const problem = checker.check(this.view);
      if (problem !== null) this.report({ timeUs: this.sim.now, checker: checker.name, message: problem, phase: this.phase });
    }
  }

  report(violation: Violation): void {
    if (this.violations.length < violationsMax) this.violations.push(violation);
    if (this.stopOnViolation || this.violations.length >= violationsMax) this.sim.stop();
  }

  /** Runs `body`; an exception thrown by a core or checker is a violation (a bug found), not a crash of the tool. */
  guard<T>(body: () => T): T | undefined {
    try {
      return body();
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      this.report({ timeUs: this.sim.now, checker: 'exception', message, phase: this.phase });
      this.sim.stop();
      return undefined;
    }
  }
}
