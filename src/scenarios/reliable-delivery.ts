import { checkDelivery, type DeliveryObservation, type DeliveryOutcome, type DeliveryRequestRecord } from '../check/delivery.js';
import type { HistoryEvent } from '../core/history.js';
import {
  type DeliveryConfig,
  deliveryConfig,
  type DeliveryMessage,
  type DeliveryMode,
  type DeliveryRecord,
  type DeliveryReply,
  type DeliveryRequest,
  EffectTally,
  type ReliableDeliveryCore,
  reliableDeliveryFactory,
} from '../protocols/reliable-delivery/index.js';
import type { WorkloadSpec } from '../sim/clients.js';
import { defineScenario } from '../sim/runner.js';
import type { LivenessSpec, ProtocolParts, SafetyChecker, Scenario, ScenarioDefaults, SimView } from '../sim/scenario.js';
import type { RunSettings } from '../sim/settings.js';
import type { Simulation } from '../sim/simulation.js';

/**
 * Scenarios `reliable-delivery` (exactly-once effect), `reliable-delivery-at-least-once` and
 * `reliable-delivery-at-most-once`: four clients ask random nodes to deliver uniquely named
 * messages to random peers while the nemesis draws from loss (≤ 30 % per link, bad links up to
 * twice that), duplication (≤ 10 %), reordering, crash/restart (every node is a receiver), pauses,
 * partitions, omission, slowness and clock drift.
 *
 * - Safety, after every event: the mode's checker (`src/check/delivery.ts`) over the client
 *   history and the effects counted in every node's durable log; plus the core's bounds.
 * - Liveness, after healing (partitions healed, nodes restarted; lossy links stay lossy): every
 *   node is up and every message is resolved (acknowledged, or given up) within the bound.
 * - Final: the mode's checker once healed (at-least-once and exactly-once: nothing accepted lost).
 */
type Core = ReliableDeliveryCore;
type View = SimView<Core, DeliveryRecord>;
type Parts = ProtocolParts<Core, DeliveryMessage, DeliveryRecord, DeliveryRequest, DeliveryReply>;

export const reliableDeliveryDefaults: Partial<ScenarioDefaults> = {
  nodes: 5,
  durationMs: 10_000,
  livenessBoundMs: 20_000,
  lossRatioMax: 0.3,
  duplicateRatioMax: 0.1,
};

/** Protocol knobs for a run: the give-up horizon always outlasts the fault phase plus the heal bound. */
export function scenarioDeliveryConfig(mode: DeliveryMode, settings: Pick<RunSettings, 'durationMs' | 'livenessBoundMs' | 'tickIntervalMs'>): DeliveryConfig {
  const retransmitBaseTicks = 5;
  const runTicks = Math.ceil((settings.durationMs + settings.livenessBoundMs) / settings.tickIntervalMs);
  return deliveryConfig({
    mode,
    retransmitBaseTicks,
    retransmitMaxTicks: 32,
    retransmitJitterTicks: 3,
    // Why: backoff resets can make every wait as short as the base timeout.
    maxAttempts: Math.max(100, Math.ceil(runTicks / retransmitBaseTicks) + 1),
    ackTimeoutTicks: 50,
    maxInflightPerPeer: 32,
    dedupWindowMax: 64,
  });
}

/** Clients: each asks a random node to deliver a fresh message to a random other node. */
function deliveryWorkload(): WorkloadSpec<DeliveryRequest, DeliveryReply> {
  let counter = 0;
  return {
    clients: 8,
    thinkMsMax: 100,
    // The core keeps retrying after this (durable modes); the client just stops waiting (info).
    timeoutMs: 1_000,
    next: ({ rng, nodes }) => {
      if (nodes.length < 2) return null;
      const from = rng.pick(nodes);
      const to = rng.pick(nodes.filter((node) => node !== from));
      counter += 1;
      const appId = `m${counter}`;
      return { node: from, f: 'send', value: { appId, from, to }, request: { type: 'send', to, appId, payload: `payload-${counter}` } };
    },
    complete: (reply) => {
      switch (reply.type) {
        case 'ok':
          return { type: 'ok', value: reply.appId };
        case 'fail':
          return { type: 'fail', value: null, error: reply.code };
        case 'info':
          return { type: 'info', value: null, error: reply.code };
      }
    },
  };
}

/**
 * Keeps the checker's observation up to date incrementally: new history events and new durable
 * records since the last event (a full rescan only for a log a crash truncated). Every per-event
 * property is about one message id, so after each event only the ids that changed are checked
 * (`changedObservation`) — linear overall instead of quadratic in the number of messages.
 */
export class DeliveryObserver {
  private readonly tally = new EffectTally();
  private readonly requests: { appId: string; outcome: DeliveryOutcome }[] = [];
  private readonly requestsById = new Map<string, { appId: string; outcome: DeliveryOutcome }[]>();
  private readonly openByProcess = new Map<number, number>();
  private readonly changed = new Set<string>();
  private historySeen = 0;

  update(view: View): void {
    for (const id of view.nodeIds) this.tally.update(id, view.disk(id).written(), view.incarnation(id));
    for (const appId of this.tally.drainChanged()) this.changed.add(appId);
    this.readHistory(view.history());
  }

  /** The observation restricted to the message ids that changed since the last call (null: none). */
  changedObservation(): DeliveryObservation | null {
    if (this.changed.size === 0) return null;
    const requests: DeliveryRequestRecord[] = [];
    const applied = new Map<string, number>();
    const accepted = new Set<string>();
    for (const appId of this.changed) {
      requests.push(...(this.requestsById.get(appId) ?? []));
      const count = this.tally.counts.get(appId);
      if (count !== undefined) applied.set(appId, count);
      if (this.tally.isAccepted(appId)) accepted.add(appId);
    }
    this.changed.clear();
    return { requests, applied, accepted };
  }

  /** Everything observed so far. */
  observation(): DeliveryObservation {
    return { requests: this.requests, applied: this.tally.counts, accepted: this.tally.accepted };
  }

  private readHistory(history: readonly HistoryEvent[]): void {
    for (; this.historySeen < history.length; this.historySeen += 1) {
      const event = history[this.historySeen]!;
      if (event.f !== 'send') continue;
      if (event.type === 'invoke') {
        const request = { appId: (event.value as { appId: string }).appId, outcome: 'pending' as DeliveryOutcome };
        this.openByProcess.set(event.process, this.requests.length);
        this.requests.push(request);
        const sameId = this.requestsById.get(request.appId);
        if (sameId === undefined) this.requestsById.set(request.appId, [request]);
        else sameId.push(request);
        this.changed.add(request.appId);
        continue;
      }
      const index = this.openByProcess.get(event.process);
      if (index === undefined) continue;
      this.openByProcess.delete(event.process);
      this.requests[index]!.outcome = event.type;
      this.changed.add(this.requests[index]!.appId);
    }
  }
}

function semanticsChecker(mode: DeliveryMode, observer: DeliveryObserver, final: boolean): SafetyChecker<Core, DeliveryRecord> {
  return {
    name: final ? `${mode} (after healing)` : mode,
    check: (view) => {
      observer.update(view);
      const observation = final ? observer.observation() : observer.changedObservation();
      if (observation === null) return null;
      const violations = checkDelivery(mode, observation, { final, maxViolations: 3 });
      return violations.length === 0 ? null : violations.map((violation) => `${violation.property}: ${violation.message}`).join('; ');
    },
  };
}

function boundsChecker(config: DeliveryConfig): SafetyChecker<Core, DeliveryRecord> {
  return {
    name: 'delivery-bounds',
    check: (view) => {
      for (const id of view.nodeIds) {
        const core = view.core(id);
        if (core === null) continue;
        for (const peer of view.nodeIds) {
          if (core.inflight(peer) > config.maxInflightPerPeer) return `${id}: ${core.inflight(peer)} unresolved to ${peer} > ${config.maxInflightPerPeer}`;
          const dedup = core.dedupState(peer);
          if (dedup !== null && dedup.aboveCount > config.dedupWindowMax) return `${id}: dedup set for ${peer} holds ${dedup.aboveCount} > ${config.dedupWindowMax}`;
        }
      }
      return null;
    },
  };
}

const allResolved: LivenessSpec<Core, DeliveryRecord> = {
  description: 'every node up and every message acknowledged or given up',
  begin: (view) => () =>
    view.nodeIds.every((id) => {
      const core = view.core(id);
      return core !== null && view.status(id) === 'up' && core.unresolvedCount() === 0;
    }),
};

export interface ReliableDeliveryScenarioOptions {
  readonly name: string;
  readonly mode: DeliveryMode;
  readonly description?: string;
  readonly defaults?: Partial<ScenarioDefaults>;
  /**
   * Judge the run with another mode's checker (default: `mode`'s own). A canary: checking an
   * at-least-once run for exactly-once must find violations, or the checker proves nothing.
   */
  readonly checkAs?: DeliveryMode;
  /** Protocol knobs over the scenario's (canaries break the give-up horizon through it). */
  readonly configOverrides?: Partial<DeliveryConfig>;
  /** Extra setup (tests pin fault intensities or script a crash through it). */
  readonly setup?: (simulation: Simulation<Core, DeliveryMessage, DeliveryRecord, DeliveryRequest, DeliveryReply>, settings: RunSettings) => void;
}

export function reliableDeliveryScenario(options: ReliableDeliveryScenarioOptions): Scenario {
  const { mode } = options;
  const checkAs = options.checkAs ?? mode;
  return defineScenario<Core, DeliveryMessage, DeliveryRecord, DeliveryRequest, DeliveryReply>({
    name: options.name,
    description:
      options.description ??
      `reliable delivery, ${mode} mode: clients send messages between nodes under loss, duplication, reordering, crashes and partitions; the ${mode} checker after every event`,
    defaults: { ...reliableDeliveryDefaults, ...options.defaults },
    build: (settings): Parts => {
      const config = deliveryConfig({ ...scenarioDeliveryConfig(mode, settings), ...options.configOverrides });
      const observer = new DeliveryObserver();
      return {
        factory: reliableDeliveryFactory(config),
        workload: deliveryWorkload(),
        checkers: [semanticsChecker(checkAs, observer, false), boundsChecker(config)],
        finalCheckers: [semanticsChecker(checkAs, observer, true)],
        liveness: allResolved,
        ...(options.setup !== undefined ? { setup: options.setup } : {}),
      };
    },
  });
}

export const reliableDeliveryScenarios: readonly Scenario[] = [
  reliableDeliveryScenario({ name: 'reliable-delivery', mode: 'exactly-once' }),
  reliableDeliveryScenario({ name: 'reliable-delivery-at-least-once', mode: 'at-least-once' }),
  reliableDeliveryScenario({ name: 'reliable-delivery-at-most-once', mode: 'at-most-once' }),
];
