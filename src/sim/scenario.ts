import { ConcordError, ErrorCode } from '../core/errors.js';
import type { HistoryEvent } from '../core/history.js';
import type { NodeId } from '../core/ids.js';
import type { CoreContext, ProtocolCore } from '../core/protocol.js';
import type { DurableLogView } from '../core/storage.js';
import type { MessageMutator } from './adversary.js';
import type { WorkloadSpec } from './clients.js';
import type { FaultName, LinkFaultRanges, RunSettings, TimingChoice } from './settings.js';
import type { NodeStatus, Simulation, TraceRecord } from './simulation.js';
import type { SimStats } from './stats.js';
import type { TopologyKind } from './topology.js';

/**
 * Scenarios: a named, seeded simulation of one protocol under faults, with checkers. The CLI
 * (`concord sim <name>`, `concord sweep <name>`) runs them by name from the registry.
 *
 * ## Adding a scenario (a few lines)
 *
 * ```ts
 * // src/scenarios/my-protocol.ts
 * export const myScenario = defineScenario({
 *   name: 'my-protocol',
 *   description: 'what it exercises',
 *   defaults: { nodes: 5, faults: ['crash', 'partition', 'loss'], durationMs: 10_000 },
 *   build: (settings) => ({
 *     factory: (context) => new MyCore(context),              // a CoreFactory
 *     workload: myWorkload,                                   // clients → history (optional)
 *     checkers: [{ name: 'agreement', check: (view) => … }],  // after every event; null = ok
 *     liveness: { description: 'all commit', begin: (view) => () => … },  // heal phase
 *   }),
 * });
 * // src/scenarios/index.ts: add `registerScenario(myScenario);`
 * ```
 *
 * `build` runs once per run, so checkers and workloads may keep state in closures. Checkers read
 * every node's core and disk through the `SimView` (`view.core(id)` is the concrete core type
 * the factory returns, or null while the node is down).
 */

/** A broken property: when (virtual µs), which checker, what. */
export interface Violation {
  readonly timeUs: number;
  readonly checker: string;
  readonly message: string;
  readonly phase: RunPhase;
}

export type RunPhase = 'faults' | 'heal' | 'final';

/** Read access to a running simulation for checkers and liveness conditions. */
export interface SimView<C, P> {
  readonly now: number;
  readonly phase: RunPhase;
  readonly nodeIds: readonly NodeId[];
  core(id: NodeId): C | null;
  disk(id: NodeId): DurableLogView<P>;
  status(id: NodeId): NodeStatus;
  incarnation(id: NodeId): number;
  isByzantine(id: NodeId): boolean;
  /** True when the topology has a link between `a` and `b` (partitions aside). */
  linked(a: NodeId, b: NodeId): boolean;
  /** Nodes without a Byzantine adversary. */
  honestNodes(): readonly NodeId[];
  /** The client history so far. */
  history(): readonly HistoryEvent[];
  /**
   * The node the last event was addressed to, or null after a control event (nemesis action,
   * scripted callback) that may have changed any node. Only that node's core can have changed,
   * so incremental checkers may re-examine it alone.
   */
  readonly lastEventNode: NodeId | null;
}

/** A safety property, checked after every event: returns null when it holds, else what broke. */
export interface SafetyChecker<C, P> {
  readonly name: string;
  check(view: SimView<C, P>): string | null;
}

/**
 * A liveness property for the heal phase: `begin` is called when the faults stop (it may take a
 * baseline) and returns the condition, which must become true within `livenessBoundMs`.
 */
export interface LivenessSpec<C, P> {
  readonly description: string;
  begin(view: SimView<C, P>): () => boolean;
  /** When the bound passes without the condition: what was still missing (appended to the violation). */
  diagnose?(view: SimView<C, P>): string;
}

/** What a scenario supplies for one run. */
export interface ProtocolParts<C extends ProtocolCore<M, P, Req, Rep>, M, P, Req, Rep> {
  readonly factory: (context: CoreContext<P>) => C;
  readonly hashMessage?: (message: M) => number;
  readonly hashRequest?: (request: Req) => number;
  readonly hashReply?: (reply: Rep) => number;
  readonly isCheckpoint?: (record: P) => boolean;
  /** How a Byzantine node alters messages (default: `structuralMutate`). */
  readonly mutateMessage?: MessageMutator<M>;
  readonly workload?: WorkloadSpec<Req, Rep>;
  readonly checkers?: readonly SafetyChecker<C, P>[];
  /** Checked once at the end of the run (convergence, history properties). */
  readonly finalCheckers?: readonly SafetyChecker<C, P>[];
  readonly liveness?: LivenessSpec<C, P>;
  /** Extra setup once the simulation exists (scripted actions via `simulation.at`, topology …). */
  readonly setup?: (simulation: Simulation<C, M, P, Req, Rep>, settings: RunSettings) => void;
  /** Lines for the run report: knobs the scenario drew from the seed, actions it took (read at the end). */
  readonly notes?: () => readonly string[];
}

/** A scenario's defaults; each seed draws its link-fault ratios uniformly from the `LinkFaultRanges`. */
export interface ScenarioDefaults extends LinkFaultRanges {
  readonly nodes: number;
  readonly faults: readonly FaultName[];
  /** Fault phase length (virtual ms). */
  readonly durationMs: number;
  /** Heal-phase liveness bound (virtual ms). */
  readonly livenessBoundMs: number;
  readonly timing: TimingChoice;
  /** Which links exist (default full mesh). */
  readonly topology: TopologyKind;
  readonly tickIntervalMs: number;
  /** Most nodes faulty at once (default: a minority, ⌊(n-1)/2⌋, at least 1). */
  readonly maxFaultyNodes: (nodes: number) => number;
  /** Most Byzantine nodes; 0 means the scenario does not tolerate Byzantine faults. */
  readonly maxByzantineNodes: (nodes: number) => number;
}

export const baseDefaults: ScenarioDefaults = {
  nodes: 5,
  faults: ['crash', 'partition', 'loss', 'dup', 'reorder', 'drift', 'pause', 'omission', 'slow'],
  durationMs: 10_000,
  livenessBoundMs: 10_000,
  timing: 'random',
  topology: 'full',
  tickIntervalMs: 10,
  lossRatioMin: 0,
  lossRatioMax: 0.3,
  duplicateRatioMin: 0,
  duplicateRatioMax: 0.1,
  reorderRatioMax: 0.5,
  maxFaultyNodes: (nodes) => Math.max(1, Math.floor((nodes - 1) / 2)),
  maxByzantineNodes: () => 0,
};

/** Options of one run (from the CLI); unset fields take the scenario's defaults. */
export interface ScenarioRunOptions {
  readonly seed: number;
  readonly nodes?: number;
  readonly faults?: readonly FaultName[];
  readonly durationMs?: number;
  readonly livenessBoundMs?: number;
  readonly timing?: TimingChoice;
  readonly topology?: TopologyKind;
  /** Stop at the first violation (default true); otherwise collect up to 100. */
  readonly stopOnViolation?: boolean;
  readonly tracer?: (record: TraceRecord) => void;
}

export interface LivenessOutcome {
  readonly description: string;
  readonly boundMs: number;
  /** Null when the run stopped before the heal phase (a safety violation) or has no condition. */
  readonly held: boolean | null;
  /** Virtual ms after healing when the condition first held. */
  readonly afterMs: number | null;
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly seed: number;
  readonly traceHash: string;
  readonly violations: readonly Violation[];
  readonly stats: SimStats;
  readonly settings: RunSettings;
  /** The nemesis schedule, one line per action. */
  readonly schedule: readonly string[];
  /** The scenario's own report lines (`ProtocolParts.notes`), e.g. protocol knobs drawn from the seed. */
  readonly notes: readonly string[];
  readonly liveness: LivenessOutcome;
  readonly virtualTimeMs: number;
  readonly history: readonly HistoryEvent[];
  readonly clients: { readonly invoked: number; readonly ok: number; readonly fail: number; readonly info: number };
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly defaults: ScenarioDefaults;
  run(options: ScenarioRunOptions): ScenarioResult;
}

// ── registry ──────────────────────────────────────────────────────────────────────────────────

const registry = new Map<string, Scenario>();

export function registerScenario(scenario: Scenario): void {
  if (registry.has(scenario.name)) throw new ConcordError(ErrorCode.InvalidConfig, `scenario ${scenario.name} is already registered`);
  registry.set(scenario.name, scenario);
}

/** The scenario named `name`; throws `INVALID_ARGUMENT` listing the known ones. */
export function getScenario(name: string): Scenario {
  const scenario = registry.get(name);
  if (scenario === undefined) {
    throw new ConcordError(ErrorCode.InvalidArgument, `unknown scenario "${name}" (known: ${listScenarios().map((s) => s.name).join(', ')})`);
  }
  return scenario;
}

export function listScenarios(): Scenario[] {
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name));
}
