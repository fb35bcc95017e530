import type { HistoryEvent } from '../core/history.js';
import type { NodeId } from '../core/ids.js';
import {
  type MultiPaxosCore, multiPaxosFactory, type PaxosConfig, paxosConfig, type PaxosMessage, type PaxosRecord, type PaxosReply, type PaxosRequest, type PaxosValue,
} from '../protocols/multi-paxos/index.js';
import type { WorkloadSpec } from '../sim/clients.js';
import { defineScenario } from '../sim/runner.js';
import type { LivenessSpec, ProtocolParts, SafetyChecker, Scenario, ScenarioDefaults, SimView } from '../sim/scenario.js';
import { InvocationReader } from './invocations.js';
import { bugNote } from './testing-bugs.js';

/**
 * Scenario `multi-paxos`: clients propose commands to random nodes (a node that is not the
 * leader names the one it follows and the client retries there) while the nemesis crashes,
 * restarts, pauses and partitions nodes and loses, duplicates and reorders messages.
 *
 * - Safety, after every event, over what every node learned: agreement (one value per slot),
 *   validity (a chosen command was proposed by a client), integrity (a command chosen in one
 *   slot only), and every command a client was told is chosen sits in the slot it was told.
 * - Liveness, after healing: some node leads and every node has learned every slot up to the
 *   highest one chosen anywhere.
 */
type Core = MultiPaxosCore;
type View = SimView<Core, PaxosRecord>;
type Parts = ProtocolParts<Core, PaxosMessage, PaxosRecord, PaxosRequest, PaxosReply>;

export const multiPaxosDefaults: Partial<ScenarioDefaults> = {
  nodes: 5,
  durationMs: 10_000,
  livenessBoundMs: 20_000,
  faults: ['crash', 'partition', 'loss', 'dup', 'reorder', 'drift', 'pause', 'omission', 'slow'],
};

function proposalWorkload(): WorkloadSpec<PaxosRequest, PaxosReply> {
  let counter = 0;
  return {
    clients: 4,
    thinkMsMax: 50,
    timeoutMs: 1_000,
    next: ({ rng, nodes }) => {
      if (nodes.length === 0) return null;
      counter += 1;
      const id = `c${counter}`;
      return { node: rng.pick(nodes), f: 'propose', value: id, request: { type: 'propose', id, command: `w${counter}` } };
    },
    complete: (reply, operation, { rng, nodes }) => {
      switch (reply.type) {
        case 'chosen':
          return { type: 'ok', value: reply.slot };
        case 'not-leader': {
          // Not proposed: safe to try elsewhere (the leader it names, or anyone).
          const node = reply.leader ?? (nodes.length > 0 ? rng.pick(nodes) : operation.node);
          return { type: 'retry', operation: { ...operation, node }, delayMs: reply.leader === null ? 20 : 0 };
        }
        case 'unknown':
          return { type: 'info', value: null, error: 'leadership lost' };
        case 'error':
          return { type: 'fail', value: null, error: reply.code };
      }
    },
  };
}

const describeValue = (value: PaxosValue): string => (value.type === 'noop' ? 'noop' : `${value.id}`);

/** Incremental safety over every node's learned slots (re-read from scratch after a restart). */
class LearnedObserver {
  private readonly seen = new Map<NodeId, { incarnation: number; count: number }>();
  private readonly slots = new Map<number, { value: string; node: NodeId }>();
  private readonly slotOfCommand = new Map<string, number>();
  private readonly proposed = new Set<string>();
  private readonly told = new Map<number, string>();
  private readonly invocations = new InvocationReader('propose');

  check(view: View): string | null {
    const told = this.readHistory(view.history());
    if (told !== null) return told;
    const nodes = view.lastEventNode === null ? view.nodeIds : [view.lastEventNode];
    for (const id of nodes) {
      const core = view.core(id);
      if (core === null) continue;
      let seen = this.seen.get(id);
      if (seen === undefined || seen.incarnation !== view.incarnation(id)) this.seen.set(id, (seen = { incarnation: view.incarnation(id), count: 0 }));
      for (; seen.count < core.learned.length; seen.count += 1) {
        const problem = this.checkLearned(id, core.learned[seen.count]!.slot, core.learned[seen.count]!.value);
        if (problem !== null) return problem;
      }
    }
    return null;
  }

  /** A client was told `id` is chosen in `slot`: does what the nodes learned there agree? */
  private checkTold(slot: number, id: string): string | null {
    const chosen = this.slots.get(slot);
    return chosen === undefined || chosen.value === id ? null : `client told ${id} was chosen in slot ${slot}, but ${chosen.node} learned ${chosen.value} there`;
  }

  private checkLearned(node: NodeId, slot: number, value: PaxosValue): string | null {
    const text = describeValue(value);
    const first = this.slots.get(slot);
    if (first === undefined) {
      this.slots.set(slot, { value: text, node });
      const told = this.told.get(slot);
      if (told !== undefined && told !== text) return this.checkTold(slot, told);
    } else if (first.value !== text) return `agreement: slot ${slot} is ${first.value} at ${first.node} but ${text} at ${node}`;
    if (value.type === 'noop') return null;
    if (!this.proposed.has(value.id)) return `validity: ${node} learned ${value.id} in slot ${slot}, which no client proposed`;
    const other = this.slotOfCommand.get(value.id);
    if (other === undefined) this.slotOfCommand.set(value.id, slot);
    else if (other !== slot) return `integrity: ${value.id} chosen in slots ${other} and ${slot}`;
    return null;
  }

  /** Reads new history events; checks each new "chosen" answer against what was learned. */
  private readHistory(history: readonly HistoryEvent[]): string | null {
    return this.invocations.read(history, {
      invoke: (value) => this.proposed.add(value as string),
      ok: (id, slot) => {
        this.told.set(slot as number, id as string);
        return this.checkTold(slot as number, id as string);
      },
    });
  }
}

function safetyChecker(): SafetyChecker<Core, PaxosRecord> {
  const observer = new LearnedObserver();
  return { name: 'paxos safety', check: (view) => observer.check(view) };
}

const everyoneLearned: LivenessSpec<Core, PaxosRecord> = {
  description: 'a leader, and every node has learned every slot up to the highest chosen anywhere',
  begin: (view) => () => {
    const cores = view.nodeIds.map((id) => (view.status(id) === 'up' ? view.core(id) : null));
    if (cores.some((core) => core === null) || !cores.some((core) => core!.isLeader)) return false;
    const top = Math.max(...cores.map((core) => core!.highestChosenSlot));
    return cores.every((core) => core!.chosenThrough === top);
  },
  diagnose: (view) =>
    view.nodeIds.map((id) => {
      const core = view.core(id);
      return core === null ? `${id} down` : `${id}: ${core.isLeader ? 'leader ' : ''}ballot ${core.currentBallot}, chosen through ${core.chosenThrough} of ${core.highestChosenSlot}`;
    }).join('; '),
};

export interface MultiPaxosScenarioOptions {
  readonly name?: string;
  readonly description?: string;
  readonly configOverrides?: Partial<PaxosConfig>;
}

export function multiPaxosScenario(options: MultiPaxosScenarioOptions = {}): Scenario {
  return defineScenario<Core, PaxosMessage, PaxosRecord, PaxosRequest, PaxosReply>({
    name: options.name ?? 'multi-paxos',
    description:
      options.description ??
      'Multi-Paxos replicated log (phase 1 once per leader, phase 2 per command, no-ops for gaps, catch-up) under crashes, pauses, partitions, loss, duplication and reordering; agreement, validity and integrity after every event',
    defaults: multiPaxosDefaults,
    build: (): Parts => {
      const config = paxosConfig(options.configOverrides);
      return {
        factory: multiPaxosFactory(config),
        workload: proposalWorkload(),
        checkers: [safetyChecker()],
        liveness: everyoneLearned,
        notes: () => [`election ${config.electionTicks}..${2 * config.electionTicks - 1} ticks, heartbeat ${config.heartbeatTicks}` + bugNote(config.testingBugs)],
      };
    },
  });
}

export const multiPaxosScenarios: readonly Scenario[] = [
  multiPaxosScenario(),
  multiPaxosScenario({
    name: 'multi-paxos-bug-ignore-promises',
    description: 'multi-paxos with the TEST-ONLY bug ignorePromisedValues (a new leader fills open slots with no-ops instead of the values promises reported): agreement must fail',
    configOverrides: { testingBugs: { ignorePromisedValues: true } },
  }),
];
