import type { NodeId } from '../core/ids.js';
import { type FailureDetectorCore, failureDetectorFactory, type FdConfig, fdConfig, type FdMessage, type FdReply, type FdRequest } from '../protocols/failure-detector/index.js';
import { defineScenario } from '../sim/runner.js';
import type { LivenessSpec, ProtocolParts, SafetyChecker, Scenario, ScenarioDefaults, SimView } from '../sim/scenario.js';
import type { Simulation } from '../sim/simulation.js';
import { bugNote } from './testing-bugs.js';

/**
 * Scenario `failure-detector`: the heartbeat detector with adaptive timeouts on every node while
 * the nemesis crashes, pauses, slows and partitions nodes and loses, duplicates and reorders
 * heartbeats, under drifting clocks.
 *
 * - Strong completeness, after every event: every node that is up and timely (not slowed by the
 *   nemesis: a slow node falls behind its own ticks) suspects every node that is down once the
 *   detection bound has passed since the latest of: the crash, the observer's start (or resume),
 *   the end of its slowness, and the last heartbeat it received from the crashed node (one sent
 *   before the crash may arrive late). Bound: the largest timeout plus two ticks of the
 *   observer's own clock, plus 50 ms.
 * - Eventual strong accuracy, after healing: every node up and no node suspecting another.
 */
type Core = FailureDetectorCore;
type Parts = ProtocolParts<Core, FdMessage, never, FdRequest, FdReply>;
type Sim = Simulation<Core, FdMessage, never, FdRequest, FdReply>;

export const failureDetectorDefaults: Partial<ScenarioDefaults> = {
  nodes: 5,
  durationMs: 10_000,
  livenessBoundMs: 5_000,
  faults: ['crash', 'partition', 'loss', 'dup', 'reorder', 'drift', 'pause', 'omission', 'slow'],
};

const slackUs = 50_000;

/**
 * Remembers since when each node has been down or up, and when each node last received a
 * heartbeat from each peer: status changes and deliveries happen only at events, and the checker
 * runs after every event, so the times are exact.
 */
class Observations {
  private readonly downSince = new Map<NodeId, number>();
  private readonly upSince = new Map<NodeId, number>();
  private readonly timelySince = new Map<NodeId, number>();
  private readonly heard = new Map<string, { count: number; atUs: number }>();

  update(view: SimView<Core, never>, simulation: Sim): void {
    for (const id of view.nodeIds) {
      const status = view.status(id);
      track(this.downSince, id, status === 'down', view.now);
      track(this.upSince, id, status === 'up', view.now);
      track(this.timelySince, id, simulation.slowness(id) === 0, view.now);
    }
    const observers = view.lastEventNode === null ? view.nodeIds : [view.lastEventNode];
    for (const observer of observers) {
      const core = view.core(observer);
      if (core === null) continue;
      for (const peer of view.nodeIds) {
        if (peer === observer) continue;
        const key = `${observer}>${peer}`;
        const count = core.heartbeatsFrom(peer);
        const last = this.heard.get(key);
        if (last === undefined || last.count !== count) this.heard.set(key, { count, atUs: view.now });
      }
    }
  }

  down(id: NodeId): number | undefined {
    return this.downSince.get(id);
  }

  /** Since when the node has been up and timely (undefined: it is not). */
  upAndTimely(id: NodeId): number | undefined {
    const up = this.upSince.get(id);
    const timely = this.timelySince.get(id);
    return up === undefined || timely === undefined ? undefined : Math.max(up, timely);
  }

  lastHeard(observer: NodeId, peer: NodeId): number {
    return this.heard.get(`${observer}>${peer}`)?.atUs ?? 0;
  }
}

function track(since: Map<NodeId, number>, id: NodeId, holds: boolean, now: number): void {
  if (!holds) since.delete(id);
  else if (!since.has(id)) since.set(id, now);
}

function completenessChecker(config: FdConfig, simulation: () => Sim): SafetyChecker<Core, never> {
  const times = new Observations();
  return {
    name: 'strong completeness',
    check: (view) => {
      times.update(view, simulation());
      for (const crashed of view.nodeIds) {
        const downAt = times.down(crashed);
        if (downAt === undefined) continue;
        for (const observer of view.nodeIds) {
          const upAt = times.upAndTimely(observer);
          const core = view.core(observer);
          if (upAt === undefined || core === null || core.isSuspected(crashed)) continue;
          const boundUs = (config.maxTimeoutTicks + 2) * simulation().tickPeriodUs(observer) + slackUs;
          const heardAt = times.lastHeard(observer, crashed);
          if (view.now - Math.max(downAt, upAt, heardAt) > boundUs) {
            const ms = (us: number): string => `${((view.now - us) / 1000).toFixed(1)} ms`;
            return `${observer} does not suspect ${crashed}, down for ${ms(downAt)} (observer up and timely for ${ms(upAt)}, last heartbeat from it ${ms(heardAt)} ago; bound ${(boundUs / 1000).toFixed(1)} ms)`;
          }
        }
      }
      return null;
    },
  };
}

const eventualAccuracy: LivenessSpec<Core, never> = {
  description: 'every node up and no node suspecting another',
  begin: (view) => () => view.nodeIds.every((id) => view.status(id) === 'up' && view.core(id)?.suspects().length === 0),
  diagnose: (view) => view.nodeIds.map((id) => `${id} suspects [${view.core(id)?.suspects().join(', ') ?? 'down'}]`).join('; '),
};

export interface FailureDetectorScenarioOptions {
  readonly name?: string;
  readonly description?: string;
  readonly configOverrides?: Partial<FdConfig>;
}

export function failureDetectorScenario(options: FailureDetectorScenarioOptions = {}): Scenario {
  return defineScenario<Core, FdMessage, never, FdRequest, FdReply>({
    name: options.name ?? 'failure-detector',
    description:
      options.description ??
      'heartbeat failure detector with adaptive timeouts (◇P) under crashes, pauses, slow nodes, partitions, loss, duplication, reordering and drift; strong completeness after every event, eventual strong accuracy after healing',
    defaults: failureDetectorDefaults,
    build: (): Parts => {
      const config = fdConfig(options.configOverrides);
      let simulation: Sim | null = null;
      return {
        factory: failureDetectorFactory(config),
        checkers: [completenessChecker(config, () => simulation!)],
        liveness: eventualAccuracy,
        setup: (sim) => {
          simulation = sim;
        },
        notes: () => [
          `heartbeat every ${config.heartbeatTicks} ticks, timeout ${config.initialTimeoutTicks}+${config.timeoutIncrementTicks} per false suspicion, at most ${config.maxTimeoutTicks}` + bugNote(config.testingBugs),
        ],
      };
    },
  });
}

/** The scenario and its bug-flip variants (each must fail a sweep; tests assert it). */
export const failureDetectorScenarios: readonly Scenario[] = [
  failureDetectorScenario(),
  failureDetectorScenario({
    name: 'failure-detector-bug-shared-heartbeat',
    description: 'failure-detector with the TEST-ONLY bug anyHeartbeatRefreshesAll (a heartbeat from anyone refreshes every peer): completeness must fail',
    configOverrides: { testingBugs: { anyHeartbeatRefreshesAll: true, neverTrustAgain: false } },
  }),
  failureDetectorScenario({
    name: 'failure-detector-bug-never-trust',
    description: 'failure-detector with the TEST-ONLY bug neverTrustAgain (suspicions never withdrawn): eventual accuracy must fail',
    configOverrides: { testingBugs: { anyHeartbeatRefreshesAll: false, neverTrustAgain: true } },
  }),
];
