import {
  type QkvConfig, qkvConfig, type QkvMessage, type QkvRecord, type QkvReply, type QkvRequest, type QuorumKvCore, quorumKvFactory,
} from '../protocols/quorum-kv/index.js';
import type { WorkloadSpec } from '../sim/clients.js';
import { defineScenario } from '../sim/runner.js';
import type { LivenessSpec, ProtocolParts, Scenario, ScenarioDefaults } from '../sim/scenario.js';
import { kvLinearizabilityChecker } from './kv-linearizability.js';
import { bugNote } from './testing-bugs.js';

/**
 * Scenario `quorum-kv`: clients get and put a few keys at random nodes of a quorum-replicated
 * store (each key on 3 replicas chosen by consistent hashing) while the nemesis crashes and
 * restarts nodes, partitions them, loses, duplicates and reorders messages.
 *
 * - Final: the client history is linearizable (the kv model, per key).
 * - Liveness, after healing: every node up and no operation left in progress.
 */
type Core = QuorumKvCore;
type Parts = ProtocolParts<Core, QkvMessage, QkvRecord, QkvRequest, QkvReply>;

export const quorumKvDefaults: Partial<ScenarioDefaults> = {
  nodes: 5,
  durationMs: 10_000,
  livenessBoundMs: 10_000,
  faults: ['crash', 'partition', 'loss', 'dup', 'reorder', 'drift', 'pause', 'omission', 'slow'],
};

const keys = ['k0', 'k1', 'k2', 'k3'];

function kvWorkload(): WorkloadSpec<QkvRequest, QkvReply> {
  let counter = 0;
  return {
    clients: 6,
    thinkMsMax: 40,
    timeoutMs: 1_000,
    next: ({ rng, nodes }) => {
      if (nodes.length === 0) return null;
      const key = rng.pick(keys);
      const node = rng.pick(nodes);
      if (rng.chance(0.4)) return { node, f: 'get', key, value: null, request: { type: 'get', key } };
      counter += 1;
      const value = `v${counter}`;
      return { node, f: 'put', key, value, request: { type: 'put', key, value } };
    },
    complete: (reply) => {
      switch (reply.type) {
        case 'value':
          return { type: 'ok', value: reply.value };
        case 'ok':
          return { type: 'ok', value: null };
        case 'error':
          // Refused before anything was sent (bad input, overloaded): definitely not done.
          return { type: 'fail', value: null, error: reply.code };
      }
    },
  };
}

const nothingInProgress: LivenessSpec<Core, QkvRecord> = {
  description: 'every node up and no operation in progress',
  begin: (view) => () => view.nodeIds.every((id) => view.status(id) === 'up' && view.core(id)?.activeOperations === 0),
  diagnose: (view) => view.nodeIds.map((id) => `${id}: ${view.core(id)?.activeOperations ?? 'down'} in progress`).join('; '),
};

export interface QuorumKvScenarioOptions {
  readonly name?: string;
  readonly description?: string;
  readonly configOverrides?: Partial<QkvConfig>;
}

export function quorumKvScenario(options: QuorumKvScenarioOptions = {}): Scenario {
  return defineScenario<Core, QkvMessage, QkvRecord, QkvRequest, QkvReply>({
    name: options.name ?? 'quorum-kv',
    description:
      options.description ??
      'quorum-replicated KV (ABD register per key, 3 replicas per key by consistent hashing) under crashes, partitions, loss, duplication and reordering; the client history must be linearizable',
    defaults: quorumKvDefaults,
    build: (): Parts => {
      const config = qkvConfig(options.configOverrides);
      return {
        factory: quorumKvFactory(config),
        workload: kvWorkload(),
        finalCheckers: [kvLinearizabilityChecker<Core, QkvRecord>(20_000)],
        liveness: nothingInProgress,
        notes: () => [`${config.replicas} replicas per key, resend every ${config.resendTicks} ticks` + bugNote(config.testingBugs)],
      };
    },
  });
}

export const quorumKvScenarios: readonly Scenario[] = [
  quorumKvScenario(),
  quorumKvScenario({
    name: 'quorum-kv-bug-quorum-of-one',
    description: 'quorum-kv with the TEST-ONLY bug quorumOfOne (each phase waits for one replica): the history must not be linearizable',
    configOverrides: { testingBugs: { quorumOfOne: true, skipWriteBack: false } },
  }),
  quorumKvScenario({
    name: 'quorum-kv-bug-skip-write-back',
    description: 'quorum-kv with the TEST-ONLY bug skipWriteBack (a get answers without writing back what it read): the history must not be linearizable on some seeds',
    configOverrides: { testingBugs: { quorumOfOne: false, skipWriteBack: true } },
  }),
];
