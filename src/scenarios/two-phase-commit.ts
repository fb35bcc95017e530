import { type AtomicCommitViolation, checkAtomicCommit, type CommitOutcome, type TransactionFacts } from '../check/atomic-commit.js';
import type { HistoryEvent } from '../core/history.js';
import type { NodeId } from '../core/ids.js';
import {
  defaultTpcConfig, type TpcConfig, tpcConfig, type TpcMessage, type TpcRecord, type TpcReply, type TpcRequest, twoPhaseCommitFactory, type TwoPhaseCommitCore, type Writes,
} from '../protocols/two-phase-commit/index.js';
import type { WorkloadSpec } from '../sim/clients.js';
import { defineScenario } from '../sim/runner.js';
import type { LivenessSpec, ProtocolParts, SafetyChecker, Scenario, ScenarioDefaults, SimView } from '../sim/scenario.js';
import type { RunSettings } from '../sim/settings.js';
import type { Simulation } from '../sim/simulation.js';
import { bugNote } from './testing-bugs.js';

/**
 * Scenario `two-phase-commit`: clients ask random nodes to run transactions writing a few keys on
 * two or three participants (a small key space, so transactions collide on locks and some vote
 * no) while the nemesis crashes and restarts nodes — coordinators too, so prepared participants
 * block until theirs is back — partitions, loses, duplicates and reorders messages.
 *
 * - Safety, after every event: `src/check/atomic-commit.ts` over the client history and every
 *   node's durable records (agreement, commit only after every yes vote, client outcomes true).
 * - Liveness, after healing (every node restarted, partitions healed): nothing in doubt, every
 *   coordinator done, no key locked.
 * - Final: the same checker once healed (termination, every commit everywhere).
 */
type Core = TwoPhaseCommitCore;
type View = SimView<Core, TpcRecord>;
type Parts = ProtocolParts<Core, TpcMessage, TpcRecord, TpcRequest, TpcReply>;

export const twoPhaseCommitDefaults: Partial<ScenarioDefaults> = {
  nodes: 5,
  durationMs: 10_000,
  livenessBoundMs: 20_000,
  faults: ['crash', 'partition', 'loss', 'dup', 'reorder', 'drift', 'pause', 'omission', 'slow'],
};

const keySpace = 8;

function transactionWorkload(): WorkloadSpec<TpcRequest, TpcReply> {
  let counter = 0;
  return {
    clients: 6,
    thinkMsMax: 50,
    timeoutMs: 1_000,
    next: ({ rng, nodes }) => {
      if (nodes.length === 0) return null;
      counter += 1;
      const txId = `t${counter}`;
      // Participants may be down: their coordinator must then time out and abort.
      const all = [...nodes].sort();
      const participants = rng.shuffle(all).slice(0, Math.min(all.length, rng.int(2, 3)));
      const writes: Record<NodeId, Writes> = {};
      for (const participant of participants) writes[participant] = { [`k${rng.int(0, keySpace - 1)}`]: `${txId}@${participant}` };
      return { node: rng.pick(nodes), f: 'transact', value: { txId, participants: Object.keys(writes).sort() }, request: { type: 'transact', txId, writes } };
    },
    complete: (reply) => {
      switch (reply.type) {
        case 'committed':
          return { type: 'ok', value: reply.txId };
        case 'aborted':
          return { type: 'fail', value: null, error: reply.reason };
        case 'error':
          return { type: 'fail', value: null, error: reply.code };
        case 'value':
          return { type: 'info', value: null, error: 'unexpected reply' };
      }
    },
  };
}

interface NodeFacts {
  seen: number;
  readonly prepared: Set<string>;
  readonly decided: Map<string, boolean>;
  readonly commitLogged: Set<string>;
}

const freshFacts = (): NodeFacts => ({ seen: 0, prepared: new Set(), decided: new Map(), commitLogged: new Set() });

/**
 * Keeps the checker's facts up to date incrementally: new records of each node and new history
 * events since the last event, and which transactions they touched, so that each event checks
 * only those (linear overall). A log a crash shortened is re-read from the start.
 */
export class AtomicCommitObserver {
  private readonly nodes = new Map<NodeId, NodeFacts>();
  private readonly requests = new Map<string, { participants: readonly string[]; outcome: CommitOutcome }>();
  private readonly openByProcess = new Map<number, string>();
  private readonly known = new Set<string>();
  private readonly changed = new Set<string>();
  private historySeen = 0;

  update(view: View): void {
    for (const id of view.nodeIds) this.readRecords(id, view.disk(id).written());
    this.readHistory(view.history());
  }

  check(final: boolean): AtomicCommitViolation[] {
    const txIds = final ? [...this.known] : [...this.changed];
    this.changed.clear();
    return checkAtomicCommit(txIds.map((txId) => this.facts(txId)), { final, maxViolations: 3 });
  }

  private facts(txId: string): TransactionFacts {
    const prepared = new Set<string>();
    const decidedCommit = new Set<string>();
    const decidedAbort = new Set<string>();
    let commitLogged = false;
    for (const [id, node] of this.nodes) {
      if (node.prepared.has(txId)) prepared.add(id);
      const decision = node.decided.get(txId);
      if (decision === true) decidedCommit.add(id);
      if (decision === false) decidedAbort.add(id);
      if (node.commitLogged.has(txId)) commitLogged = true;
    }
    const request = this.requests.get(txId);
    return { txId, participants: request?.participants ?? null, outcome: request?.outcome ?? 'pending', prepared, decidedCommit, decidedAbort, commitLogged };
  }

  private readRecords(id: NodeId, records: readonly TpcRecord[]): void {
    let node = this.nodes.get(id);
    if (node === undefined || records.length < node.seen) {
      node = freshFacts();
      this.nodes.set(id, node);
    }
    for (; node.seen < records.length; node.seen += 1) {
      const record = records[node.seen]!;
      if (record.type === 'prepared') node.prepared.add(record.txId);
      else if (record.type === 'decided') node.decided.set(record.txId, record.commit);
      else if (record.type === 'commit') node.commitLogged.add(record.txId);
      else continue;
      this.touch(record.txId);
    }
  }

  private readHistory(history: readonly HistoryEvent[]): void {
    for (; this.historySeen < history.length; this.historySeen += 1) {
      const event = history[this.historySeen]!;
      if (event.f !== 'transact') continue;
      if (event.type === 'invoke') {
        const { txId, participants } = event.value as { txId: string; participants: string[] };
        this.requests.set(txId, { participants, outcome: 'pending' });
        this.openByProcess.set(event.process, txId);
        this.touch(txId);
        continue;
      }
      const txId = this.openByProcess.get(event.process);
      if (txId === undefined) continue;
      this.openByProcess.delete(event.process);
      this.requests.get(txId)!.outcome = event.type;
      this.touch(txId);
    }
  }

  private touch(txId: string): void {
    this.known.add(txId);
    this.changed.add(txId);
  }
}

function atomicityChecker(observer: AtomicCommitObserver, final: boolean): SafetyChecker<Core, TpcRecord> {
  return {
    name: final ? 'atomic commit (after healing)' : 'atomic commit',
    check: (view) => {
      observer.update(view);
      const violations = observer.check(final);
      return violations.length === 0 ? null : violations.map((violation) => `${violation.property}: ${violation.message}`).join('; ');
    },
  };
}

/** A node never acknowledges a commit it did not prepare: a correct run has none. */
const noUnexpectedCommits: SafetyChecker<Core, TpcRecord> = {
  name: 'no-unexpected-commits',
  check: (view) => {
    for (const id of view.nodeIds) {
      const count = view.core(id)?.unexpectedCommits ?? 0;
      if (count > 0) return `${id} received ${count} commit decision(s) for transactions it never prepared`;
    }
    return null;
  },
};

const allResolved: LivenessSpec<Core, TpcRecord> = {
  description: 'every node up, nothing in doubt, every coordinator done, no key locked',
  begin: (view) => () =>
    view.nodeIds.every((id) => {
      const core = view.core(id);
      return core !== null && view.status(id) === 'up' && core.inDoubt().length === 0 && core.coordinating() === 0 && core.lockedKeys() === 0;
    }),
  diagnose: (view) =>
    view.nodeIds
      .map((id) => {
        const core = view.core(id);
        return core === null ? `${id} down` : `${id}: in doubt [${core.inDoubt().slice(0, 5).join(', ')}], coordinating ${core.coordinating()}, locked keys ${core.lockedKeys()}`;
      })
      .join('; '),
};

export interface TwoPhaseCommitScenarioOptions {
  readonly name?: string;
  readonly description?: string;
  readonly defaults?: Partial<ScenarioDefaults>;
  readonly configOverrides?: Partial<TpcConfig>;
  /** Extra setup (tests script crashes through it). */
  readonly setup?: (simulation: Simulation<Core, TpcMessage, TpcRecord, TpcRequest, TpcReply>, settings: RunSettings) => void;
}

export function twoPhaseCommitScenario(options: TwoPhaseCommitScenarioOptions = {}): Scenario {
  return defineScenario<Core, TpcMessage, TpcRecord, TpcRequest, TpcReply>({
    name: options.name ?? 'two-phase-commit',
    description:
      options.description ??
      'two-phase commit (presumed abort): clients run multi-participant transactions under crashes (coordinators too), partitions, loss, duplication and reordering; atomicity checked after every event',
    defaults: { ...twoPhaseCommitDefaults, ...options.defaults },
    build: (): Parts => {
      const config = tpcConfig(options.configOverrides);
      const observer = new AtomicCommitObserver();
      return {
        factory: twoPhaseCommitFactory(config),
        workload: transactionWorkload(),
        checkers: [atomicityChecker(observer, false), noUnexpectedCommits],
        finalCheckers: [atomicityChecker(observer, true)],
        liveness: allResolved,
        notes: () => [
          `vote timeout ${config.voteTimeoutTicks} ticks, resend ${config.resendTicks}..${config.resendMaxTicks}, inquire ${config.inquireBaseTicks}..${config.inquireMaxTicks}` +
            bugNote(config.testingBugs),
        ],
        ...(options.setup !== undefined ? { setup: options.setup } : {}),
      };
    },
  });
}

const noBugs = defaultTpcConfig.testingBugs;

/**
 * Bug-flip variants: the core with a test-only bug switched on. A sweep must report violations on
 * them (tests assert it) — evidence that the atomic-commit checker catches what it targets.
 */
export const twoPhaseCommitScenarios: readonly Scenario[] = [
  twoPhaseCommitScenario(),
  twoPhaseCommitScenario({
    name: 'two-phase-commit-bug-timeout',
    description: 'two-phase-commit with the TEST-ONLY bug commitOnTimeout (a vote timeout commits): the sweep must find violations',
    configOverrides: { testingBugs: { ...noBugs, commitOnTimeout: true } },
  }),
  twoPhaseCommitScenario({
    name: 'two-phase-commit-bug-unlogged',
    description: 'two-phase-commit with the TEST-ONLY bug unloggedCommit (the commit point is not durable): the sweep must find violations',
    configOverrides: { testingBugs: { ...noBugs, unloggedCommit: true } },
  }),
  twoPhaseCommitScenario({
    name: 'two-phase-commit-bug-presume-commit',
    description: 'two-phase-commit with the TEST-ONLY bug presumeCommit (inquiries about unknown transactions answered commit): the sweep must find violations',
    configOverrides: { testingBugs: { ...noBugs, presumeCommit: true } },
  }),
];
