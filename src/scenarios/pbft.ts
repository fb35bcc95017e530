import type { HistoryEvent } from '../core/history.js';
import type { NodeId } from '../core/ids.js';
import {
  type ClientRequest, defaultPbftConfig, type ExecutedEntry, type PbftConfig, pbftConfig, pbftFactory, type PbftMessage, type PbftRecord, type PbftReplica, type PbftReply, type PbftRequest,
  requestPayload, signPayload,
} from '../protocols/pbft/index.js';
import type { WorkloadSpec } from '../sim/clients.js';
import { defineScenario } from '../sim/runner.js';
import type { LivenessSpec, ProtocolParts, SafetyChecker, Scenario, ScenarioDefaults, SimView } from '../sim/scenario.js';
import { InvocationReader } from './invocations.js';
import { lieToClient, pbftMutator } from './pbft-adversary.js';
import { bugNote } from './testing-bugs.js';

/**
 * Scenario `pbft`: n = 3f + 1 replicas (4 by default) order counter updates from clients while
 * up to f of them are Byzantine (their messages corrupted, equivocated or withheld, with
 * PBFT-specific lies from `pbftMutator`, and their replies to clients sometimes wrong), and the
 * nemesis partitions the network, loses, duplicates and reorders messages, drifts clocks — and,
 * within the budget of f faulty nodes that Byzantine ones share, crashes, pauses, slows nodes.
 *
 * - Safety, after every event, over honest replicas: agreement (one request per sequence
 *   number), total order (each replica executes consecutive sequence numbers, state transfers
 *   land on agreed checkpoint digests), validity (every executed request was issued), integrity
 *   (a request applied at one sequence number only), and every result a client accepted (f + 1
 *   matching replies) is the one honest replicas computed.
 * - Liveness, after healing: every operation still open completes, and every honest replica
 *   has executed as far as the furthest one.
 */
type Core = PbftReplica;
type View = SimView<Core, PbftRecord>;
type Parts = ProtocolParts<Core, PbftMessage, PbftRecord, PbftRequest, PbftReply>;

const faultsOf = (nodes: number): number => Math.floor((nodes - 1) / 3);

export const pbftDefaults: Partial<ScenarioDefaults> = {
  nodes: 4,
  durationMs: 6_000,
  livenessBoundMs: 20_000,
  faults: ['byzantine', 'crash', 'partition', 'loss', 'dup', 'reorder', 'drift', 'pause', 'omission', 'slow'],
  maxByzantineNodes: faultsOf,
  // Byzantine nodes count against the same budget: at most f faulty at once, so 2f + 1 honest
  // replicas can always form quorums once the network heals.
  maxFaultyNodes: (nodes) => Math.max(1, faultsOf(nodes)),
};

const keyOf = (request: { readonly client: string; readonly timestamp: number }): string => `${request.client}@${request.timestamp}`;

interface ClientOptions {
  readonly keySeed: string;
  readonly f: number;
  readonly byzantine: ReadonlySet<NodeId>;
  /** TEST-ONLY bug: accept the first reply instead of f + 1 matching ones. */
  readonly acceptFirstReply: boolean;
}

/** Clients sign requests and accept a result once f + 1 distinct replicas report it (§4.1). */
function clientWorkload(options: ClientOptions): WorkloadSpec<PbftRequest, PbftReply> {
  const timestamps: number[] = [];
  const tallies = new Map<string, Map<NodeId, string>>();
  /** The next replica after `current` (in ring order) not heard from yet for `request`. */
  const nextNode = (request: ClientRequest, nodes: readonly NodeId[], current: NodeId): NodeId => {
    const heard = tallies.get(keyOf(request));
    const start = nodes.indexOf(current);
    for (let step = 1; step <= nodes.length; step += 1) {
      const node = nodes[(start + step) % nodes.length]!;
      if (heard === undefined || !heard.has(node)) return node;
    }
    return nodes[(start + 1) % nodes.length] ?? current;
  };
  return {
    clients: 3,
    thinkMsMax: 250,
    timeoutMs: 8_000,
    attemptTimeoutMs: 400,
    healTimeoutMs: 20_000,
    next: ({ rng, nodes, client }) => {
      if (nodes.length === 0) return null;
      timestamps[client] = (timestamps[client] ?? 0) + 1;
      const fields = { client: `c${client}`, timestamp: timestamps[client]!, operation: `add:k${rng.int(0, 3)}:${rng.int(1, 9)}` };
      const request: ClientRequest = { ...fields, signature: signPayload(options.keySeed, fields.client, requestPayload(fields)) };
      tallies.set(keyOf(request), new Map());
      return { node: rng.pick(nodes), f: 'add', value: keyOf(request), request: { type: 'submit', request } };
    },
    complete: (received, operation, { rng, nodes }) => {
      const request = operation.request.request;
      const reply = options.byzantine.has(received.type === 'result' ? received.replica : '') ? lieToClient(received, rng) : received;
      if (reply.type === 'error' || reply.client !== request.client || reply.timestamp !== request.timestamp) {
        return { type: 'retry', operation: { ...operation, node: nextNode(request, nodes, operation.node) }, delayMs: 50 };
      }
      const tally = tallies.get(keyOf(request)) ?? new Map<NodeId, string>();
      tally.set(reply.replica, reply.result);
      const matching = [...tally.values()].filter((result) => result === reply.result).length;
      if (options.acceptFirstReply || matching >= options.f + 1) {
        tallies.delete(keyOf(request));
        return { type: 'ok', value: reply.result };
      }
      return { type: 'retry', operation: { ...operation, node: nextNode(request, nodes, operation.node) }, delayMs: 0 };
    },
    retryAfterSilence: (operation, { nodes }) => ({ ...operation, node: nextNode(operation.request.request, nodes, operation.node) }),
  };
}

/** Incremental safety over what honest replicas executed (re-read from scratch after a restart). */
class ExecutionObserver {
  private readonly seen = new Map<NodeId, { incarnation: number; count: number; lastSeq: number }>();
  private readonly bySeq = new Map<number, { digest: string; node: NodeId }>();
  private readonly checkpoints = new Map<number, { digest: string; node: NodeId }>();
  private readonly appliedAt = new Map<string, number>();
  private readonly results = new Map<string, string>();
  private readonly issued = new Set<string>();
  private readonly accepted = new Map<string, string>();
  private readonly invocations = new InvocationReader();

  check(view: View): string | null {
    const told = this.readHistory(view.history());
    if (told !== null) return told;
    const nodes = view.lastEventNode === null ? view.nodeIds : [view.lastEventNode];
    for (const id of nodes) {
      const core = view.core(id);
      if (core === null || view.isByzantine(id)) continue;
      let seen = this.seen.get(id);
      if (seen === undefined || seen.incarnation !== view.incarnation(id)) this.seen.set(id, (seen = { incarnation: view.incarnation(id), count: 0, lastSeq: 0 }));
      for (; seen.count < core.executed.length; seen.count += 1) {
        const entry = core.executed[seen.count]!;
        const problem = this.checkEntry(id, entry, seen.lastSeq);
        if (problem !== null) return problem;
        seen.lastSeq = entry.seq;
      }
    }
    return null;
  }

  private checkEntry(node: NodeId, entry: ExecutedEntry, lastSeq: number): string | null {
    if (entry.stateDigest !== null) {
      const known = this.checkpoints.get(entry.seq);
      if (known === undefined) this.checkpoints.set(entry.seq, { digest: entry.stateDigest, node });
      else if (known.digest !== entry.stateDigest) return `agreement: state at checkpoint ${entry.seq} differs between ${known.node} and ${node}`;
    }
    if (entry.transferred) return entry.seq > lastSeq ? null : `total order: ${node} transferred state back to ${entry.seq} after executing ${lastSeq}`;
    if (entry.seq !== lastSeq + 1) return `total order: ${node} executed ${entry.seq} right after ${lastSeq}`;
    const first = this.bySeq.get(entry.seq);
    if (first === undefined) this.bySeq.set(entry.seq, { digest: entry.digest, node });
    else if (first.digest !== entry.digest) return `agreement: sequence number ${entry.seq} holds ${first.digest.slice(0, 12)} at ${first.node} but ${entry.digest.slice(0, 12)} at ${node}`;
    if (entry.request === null) return null;
    const key = keyOf(entry.request);
    if (!this.issued.has(key)) return `validity: ${node} executed ${key}, which no client issued`;
    if (entry.result === null) return null;
    const other = this.appliedAt.get(key);
    if (other === undefined) this.appliedAt.set(key, entry.seq);
    else if (other !== entry.seq) return `integrity: ${key} applied at sequence numbers ${other} and ${entry.seq}`;
    this.results.set(key, entry.result);
    return this.compare(key);
  }

  private compare(key: string): string | null {
    const accepted = this.accepted.get(key);
    const result = this.results.get(key);
    return accepted === undefined || result === undefined || accepted === result ? null : `client accepted ${accepted} for ${key}, but honest replicas computed ${result}`;
  }

  private readHistory(history: readonly HistoryEvent[]): string | null {
    return this.invocations.read(history, {
      invoke: (key) => this.issued.add(key as string),
      ok: (key, result) => {
        this.accepted.set(key as string, result as string);
        return this.compare(key as string);
      },
    });
  }
}

function safetyChecker(): SafetyChecker<Core, PbftRecord> {
  const observer = new ExecutionObserver();
  return { name: 'pbft safety', check: (view) => observer.check(view) };
}

/** Processes whose operation was open when healing began must end ok; honest replicas converge. */
const everyoneExecuted: LivenessSpec<Core, PbftRecord> = {
  description: 'every open operation completes with f + 1 matching replies, and every honest replica executed as far as the furthest',
  begin: (view) => {
    const open = new Set<number>();
    for (const event of view.history()) {
      if (event.type === 'invoke') open.add(event.process);
      else open.delete(event.process);
    }
    let historySeen = 0;
    const completed = new Set<number>();
    return () => {
      const history = view.history();
      for (; historySeen < history.length; historySeen += 1) {
        const event = history[historySeen]!;
        if (event.type === 'ok' && open.has(event.process)) completed.add(event.process);
      }
      if (completed.size < open.size) return false;
      const cores = view.honestNodes().map((id) => (view.status(id) === 'up' ? view.core(id) : null));
      if (cores.some((core) => core === null)) return false;
      const furthest = Math.max(...cores.map((core) => core!.lastExecuted));
      return cores.every((core) => core!.lastExecuted === furthest);
    };
  },
  diagnose: (view) =>
    view.nodeIds.map((id) => {
      const core = view.core(id);
      if (core === null) return `${id} down`;
      const role = `${view.isByzantine(id) ? 'byzantine ' : ''}${core.isPrimary ? 'primary ' : ''}`;
      return `${id}: ${role}view ${core.view}${core.changing ? ' (changing)' : ''}, executed ${core.lastExecuted}, stable ${core.stableSeq}, waiting ${core.waiting.size}`;
    }).join('; '),
};

export interface PbftScenarioOptions {
  readonly name?: string;
  readonly description?: string;
  readonly configOverrides?: Partial<PbftConfig>;
  /** TEST-ONLY bug: clients accept the first reply. */
  readonly clientAcceptsFirstReply?: boolean;
}

export function pbftScenario(options: PbftScenarioOptions = {}): Scenario {
  return defineScenario<Core, PbftMessage, PbftRecord, PbftRequest, PbftReply>({
    name: options.name ?? 'pbft',
    description:
      options.description ??
      'PBFT (Castro & Liskov 1999) with signatures: normal case, checkpoints and water marks, view changes, state transfer, under f Byzantine replicas plus partitions, loss, duplication, reordering and crashes; agreement, total order, validity and f + 1-reply results after every event',
    defaults: pbftDefaults,
    build: (settings): Parts => {
      const keySeed = `pbft-sim-${settings.seed}`;
      const config = pbftConfig({ ...options.configOverrides, keySeed });
      const byzantine = new Set(Object.keys(settings.byzantine));
      const acceptFirstReply = options.clientAcceptsFirstReply ?? false;
      return {
        factory: pbftFactory(config),
        workload: clientWorkload({ keySeed, f: faultsOf(settings.nodes.length), byzantine, acceptFirstReply }),
        mutateMessage: pbftMutator(keySeed, byzantine),
        checkers: [safetyChecker()],
        liveness: everyoneExecuted,
        notes: () => [
          `f ${faultsOf(settings.nodes.length)}, checkpoint every ${config.checkpointInterval}, window ${config.windowSeqs}, view-change ${config.viewChangeTicks}..${config.viewChangeTicksMax} ticks` +
            bugNote({ ...config.testingBugs, clientAcceptsFirstReply: acceptFirstReply }),
        ],
      };
    },
  });
}

export const pbftScenarios: readonly Scenario[] = [
  pbftScenario(),
  pbftScenario({
    name: 'pbft-bug-ignore-prepared',
    description: 'pbft with the TEST-ONLY bug ignorePreparedCertificates (a new primary re-issues null requests instead of the prepared ones): agreement must fail',
    configOverrides: { testingBugs: { ...defaultPbftConfig.testingBugs, ignorePreparedCertificates: true } },
  }),
  pbftScenario({
    name: 'pbft-bug-no-commit-phase',
    description: 'pbft with the TEST-ONLY bug executeWhenPrepared (execute once prepared, skipping the commit phase): agreement must fail',
    configOverrides: { testingBugs: { ...defaultPbftConfig.testingBugs, executeWhenPrepared: true } },
  }),
  pbftScenario({
    name: 'pbft-bug-first-reply',
    description: 'pbft with the TEST-ONLY client bug clientAcceptsFirstReply (one reply, not f + 1 matching): a Byzantine reply must be caught',
    clientAcceptsFirstReply: true,
  }),
];
