import { CausalDeliveryChecker, type Delivery } from '../check/causal-delivery.js';
import { compareVectors } from '../core/clocks.js';
import {
  type CausalBroadcastCore, causalBroadcastFactory, type CbConfig, cbConfig, type CbMessage, type CbRecord, type CbReply, type CbRequest,
} from '../protocols/causal-broadcast/index.js';
import type { WorkloadSpec } from '../sim/clients.js';
import { defineScenario } from '../sim/runner.js';
import type { LivenessSpec, ProtocolParts, SafetyChecker, Scenario, ScenarioDefaults } from '../sim/scenario.js';
import { bugNote } from './testing-bugs.js';

/**
 * Scenario `causal-broadcast`: clients ask random nodes to broadcast messages while the nemesis
 * crashes and restarts nodes, partitions them, loses, duplicates and reorders messages.
 *
 * - Safety, after every event: `src/check/causal-delivery.ts` over every node's durable delivery
 *   log (per-origin order, validity, causal order — causality taken from the logs themselves).
 * - Liveness, after healing: every node up, nothing buffered, and every node has delivered the
 *   same messages (anti-entropy repaired what was lost).
 */
type Core = CausalBroadcastCore;
type Parts = ProtocolParts<Core, CbMessage, CbRecord, CbRequest, CbReply>;

export const causalBroadcastDefaults: Partial<ScenarioDefaults> = {
  nodes: 5,
  durationMs: 10_000,
  livenessBoundMs: 20_000,
  faults: ['crash', 'partition', 'loss', 'dup', 'reorder', 'drift', 'pause', 'omission', 'slow'],
};

function broadcastWorkload(): WorkloadSpec<CbRequest, CbReply> {
  let counter = 0;
  return {
    clients: 4,
    thinkMsMax: 100,
    timeoutMs: 1_000,
    next: ({ rng, nodes }) => {
      if (nodes.length === 0) return null;
      counter += 1;
      const payload = `p${counter}`;
      return { node: rng.pick(nodes), f: 'broadcast', value: payload, request: { type: 'broadcast', payload } };
    },
    complete: (reply) => (reply.type === 'broadcast' ? { type: 'ok', value: `${reply.origin}/${reply.seq}` } : { type: 'fail', value: null, error: reply.code }),
  };
}

const toDelivery = (record: CbRecord): Delivery => record.message;

function causalChecker(): SafetyChecker<Core, CbRecord> {
  const checker = new CausalDeliveryChecker();
  return {
    name: 'causal delivery',
    check: (view) => {
      const logs = new Map<string, readonly CbRecord[]>();
      for (const id of view.nodeIds) logs.set(id, view.disk(id).written());
      const violations = checker.update(logs, toDelivery);
      return violations.length === 0 ? null : violations.map((violation) => `${violation.property}: ${violation.message}`).join('; ');
    },
  };
}

const allDelivered: LivenessSpec<Core, CbRecord> = {
  description: 'every node up, nothing buffered, every node delivered the same messages',
  begin: (view) => () => {
    const cores = view.nodeIds.map((id) => (view.status(id) === 'up' ? view.core(id) : null));
    if (cores.some((core) => core === null || core.bufferedCount() > 0)) return false;
    const first = cores[0]!.deliveredVector();
    return cores.every((core) => compareVectors(core!.deliveredVector(), first) === 'equal');
  },
  diagnose: (view) =>
    view.nodeIds
      .map((id) => `${id}: ${JSON.stringify(view.core(id)?.deliveredVector() ?? 'down')}, buffered ${view.core(id)?.bufferedCount() ?? '-'} [${view.core(id)?.waitingFor().join('; ') ?? ''}]`)
      .join('; '),
};

export interface CausalBroadcastScenarioOptions {
  readonly name?: string;
  readonly description?: string;
  readonly configOverrides?: Partial<CbConfig>;
}

export function causalBroadcastScenario(options: CausalBroadcastScenarioOptions = {}): Scenario {
  return defineScenario<Core, CbMessage, CbRecord, CbRequest, CbReply>({
    name: options.name ?? 'causal-broadcast',
    description:
      options.description ??
      'reliable causal broadcast with vector clocks and anti-entropy under crashes, partitions, loss, duplication and reordering; causal order checked after every event from the nodes\' own logs',
    defaults: causalBroadcastDefaults,
    build: (): Parts => {
      const config = cbConfig(options.configOverrides);
      return {
        factory: causalBroadcastFactory(config),
        workload: broadcastWorkload(),
        checkers: [causalChecker()],
        liveness: allDelivered,
        notes: () => [`gossip every ${config.gossipTicks} ticks, ≤ ${config.maxResendPerDigest} resent per digest` + bugNote(config.testingBugs)],
      };
    },
  });
}

export const causalBroadcastScenarios: readonly Scenario[] = [
  causalBroadcastScenario(),
  causalBroadcastScenario({
    name: 'causal-broadcast-bug-fifo-only',
    description: 'causal-broadcast with the TEST-ONLY bug ignoreDependencies (per-origin order only): causal order must fail',
    configOverrides: { testingBugs: { ignoreDependencies: true, deliverOnArrival: false } },
  }),
  causalBroadcastScenario({
    name: 'causal-broadcast-bug-on-arrival',
    description: 'causal-broadcast with the TEST-ONLY bug deliverOnArrival (no buffering at all): causal and per-origin order must fail',
    configOverrides: { testingBugs: { ignoreDependencies: false, deliverOnArrival: true } },
  }),
];
