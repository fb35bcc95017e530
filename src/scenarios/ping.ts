import type { NodeId } from '../core/ids.js';
import {
  defaultPingConfig,
  hashPingMessage,
  pingFactory,
  type PingCore,
  type PingMessage,
  type PingRecord,
  type PingReply,
  type PingRequest,
} from '../protocols/ping/index.js';
import type { WorkloadSpec } from '../sim/clients.js';
import { defineScenario } from '../sim/runner.js';
import type { LivenessSpec, ProtocolParts, SafetyChecker, SimView } from '../sim/scenario.js';

/**
 * Scenario `ping`: every node pings every peer each round; two clients ask random nodes to ping
 * random peers. Checks the simulator's crash/sync semantics through the protocol's durable epoch,
 * and — after healing — that every honest node hears an echo from every other honest node.
 */
type View = SimView<PingCore, PingRecord>;
type Parts = ProtocolParts<PingCore, PingMessage, PingRecord, PingRequest, PingReply>;

const config = defaultPingConfig;

const epochChecker: SafetyChecker<PingCore, PingRecord> = {
  name: 'durable-epoch',
  check: (view) => {
    for (const id of view.nodeIds) {
      const synced = view.disk(id).synced();
      for (let index = 1; index < synced.length; index += 1) {
        if (synced[index]!.epoch <= synced[index - 1]!.epoch) return `${id}: durable epochs not increasing (${synced.map((r) => r.epoch).join(',')})`;
      }
      const core = view.core(id);
      // Pings leave only after the epoch record is synced (contract order: sync, then timers).
      if (core !== null && core.pingsSent > 0 && synced.at(-1)?.epoch !== core.epoch) {
        return `${id}: pinging in epoch ${core.epoch} but the last durable epoch is ${synced.at(-1)?.epoch ?? 'none'}`;
      }
    }
    return null;
  },
};

const accountingChecker: SafetyChecker<PingCore, PingRecord> = {
  name: 'echo-accounting',
  check: (view) => {
    for (const id of view.honestNodes()) {
      const core = view.core(id);
      if (core === null) continue;
      if (core.outstandingCount > config.outstandingMax) return `${id}: ${core.outstandingCount} outstanding pings exceed the bound`;
      if (core.echoesAccepted > core.pingsSent) return `${id}: accepted ${core.echoesAccepted} echoes for ${core.pingsSent} pings`;
    }
    return null;
  },
};

/** After healing, every honest node accepts a fresh echo from every other honest node it has a link to. */
const allPairsLiveness: LivenessSpec<PingCore, PingRecord> = {
  description: 'every honest node hears an echo from every linked honest node',
  begin: (view: View) => {
    const honest = view.honestNodes();
    const baseline = new Map<string, number>();
    const incarnations = new Map<NodeId, number>(honest.map((id) => [id, view.incarnation(id)]));
    for (const a of honest) for (const b of honest) if (a !== b) baseline.set(`${a}>${b}`, view.core(a)?.echoesFrom(b) ?? 0);
    return () =>
      honest.every((a) => {
        const core = view.core(a);
        if (core === null) return false;
        const restarted = view.incarnation(a) !== incarnations.get(a);
        return honest.every((b) => a === b || !view.linked(a, b) || core.echoesFrom(b) > (restarted ? 0 : baseline.get(`${a}>${b}`)!));
      });
  },
};

const pingWorkload: WorkloadSpec<PingRequest, PingReply> = {
  clients: 2,
  thinkMsMax: 200,
  timeoutMs: 1000,
  next: ({ rng, nodes }) => {
    if (nodes.length < 2) return null; // a lone node has no one to ping
    const node = rng.pick(nodes);
    const to = rng.pick(nodes.filter((peer) => peer !== node));
    return { node, f: 'ping', value: to, request: { type: 'ping', to } };
  },
  complete: (reply) => (reply.type === 'pong' ? { type: 'ok', value: reply.from } : { type: 'fail', value: null, error: reply.reason }),
};

function pingParts(extraCheckers: readonly SafetyChecker<PingCore, PingRecord>[]): Parts {
  return {
    factory: pingFactory(config),
    hashMessage: hashPingMessage,
    workload: pingWorkload,
    checkers: [epochChecker, accountingChecker, ...extraCheckers],
    liveness: allPairsLiveness,
  };
}

const defaults = {
  nodes: 5,
  durationMs: 10_000,
  livenessBoundMs: 5_000,
  maxByzantineNodes: (nodes: number) => Math.max(1, Math.floor((nodes - 1) / 3)),
};

export const pingScenario = defineScenario({
  name: 'ping',
  description: 'ping/echo between all nodes under faults; durable epochs, echo accounting, all-pairs liveness after healing',
  defaults,
  build: () => pingParts([]),
});

/**
 * A canary proving that sweeps find and report violations: it adds a deliberately wrong
 * invariant — "no node ever receives an unexpected echo" — which duplication, crashes (stale
 * echoes of an old epoch) and Byzantine nodes break on many seeds.
 */
const noUnexpectedEcho: SafetyChecker<PingCore, PingRecord> = {
  name: 'no-unexpected-echo (deliberately wrong)',
  check: (view) => {
    for (const id of view.honestNodes()) {
      const core = view.core(id);
      if (core !== null && core.echoesUnexpected > 0) return `${id} received ${core.echoesUnexpected} unexpected echo(es)`;
    }
    return null;
  },
};

export const pingCanaryScenario = defineScenario({
  name: 'ping-canary',
  description: 'ping with a deliberately wrong invariant (no unexpected echoes) — a canary showing that sweeps catch violations',
  defaults,
  build: () => pingParts([noUnexpectedEcho]),
});
