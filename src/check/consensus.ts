/**
 * Consensus properties as pure functions over what a run recorded, for the simulator's checkers
 * (safety after every event, liveness and convergence at the end).
 *
 * Input shapes:
 * - `Decision`: node `n` decided `value` in consensus instance `instance` (a slot, a log index, a
 *   round). A replicated log gives one decision per committed index: see `decisionsFromLogs`.
 * - `Proposal`: `value` was proposed (for `instance`, or for any instance when it is absent).
 * - `ReplicaDigest`: a replica's state summary (a hash, or the state itself) after healing.
 *
 * Values are compared structurally (canonical JSON), so `{a: 1, b: 2}` equals `{b: 2, a: 1}`.
 */
import type { NodeId } from '../core/ids.js';
import { canonicalJson } from './values.js';

export type Instance = number | string;

export interface Decision {
  readonly node: NodeId;
  readonly instance: Instance;
  readonly value: unknown;
}

export interface Proposal {
  /** Absent: the value may be decided in any instance (e.g. a client command, whatever slot it lands in). */
  readonly instance?: Instance;
  readonly value: unknown;
}

export interface ReplicaDigest {
  readonly node: NodeId;
  /** A digest of the replica's state (a hash string, or the state itself). */
  readonly digest: unknown;
  /** Crashed-and-not-recovered or Byzantine replicas are not required to converge; default true. */
  readonly correct?: boolean;
}

export type PropertyName = 'agreement' | 'validity' | 'integrity' | 'termination' | 'convergence';

export interface PropertyViolation {
  readonly property: PropertyName;
  readonly instance?: Instance;
  readonly nodes: readonly NodeId[];
  readonly message: string;
}

export interface PropertyResult {
  readonly property: PropertyName;
  readonly ok: boolean;
  /** The first `MAX_REPORTED_VIOLATIONS` violations. */
  readonly violations: readonly PropertyViolation[];
  /** All violations, including those not listed. */
  readonly violationCount: number;
}

/** Bound on listed violations (the count is always exact). */
export const MAX_REPORTED_VIOLATIONS = 20;

/** Agreement: no two nodes decide different values in the same instance. */
export function checkAgreement(decisions: readonly Decision[]): PropertyResult {
  const violations: PropertyViolation[] = [];
  for (const [instance, group] of byInstance(decisions)) {
    const values = groupBy(group, (decision) => canonicalJson(decision.value));
    if (values.size <= 1) continue;
    const described = [...values].map(([value, deciders]) => `${unique(deciders.map((decision) => decision.node)).join(', ')} decided ${value}`);
    violations.push({ property: 'agreement', instance, nodes: unique(group.map((decision) => decision.node)), message: `instance ${String(instance)}: ${described.join('; ')}` });
  }
  return result('agreement', violations);
}

/** Validity: every decided value was proposed (for that instance, or for any instance). */
export function checkValidity(decisions: readonly Decision[], proposals: readonly Proposal[]): PropertyResult {
  const anywhere = new Set(proposals.filter((proposal) => proposal.instance === undefined).map((proposal) => canonicalJson(proposal.value)));
  const perInstance = new Set(proposals.filter((proposal) => proposal.instance !== undefined).map((proposal) => `${instanceKey(proposal.instance!)}\u0000${canonicalJson(proposal.value)}`));
  const violations: PropertyViolation[] = [];
  for (const decision of decisions) {
    const value = canonicalJson(decision.value);
    if (anywhere.has(value) || perInstance.has(`${instanceKey(decision.instance)}\u0000${value}`)) continue;
    violations.push({ property: 'validity', instance: decision.instance, nodes: [decision.node], message: `${decision.node} decided ${value} in instance ${String(decision.instance)}, which nobody proposed` });
  }
  return result('validity', violations);
}

/** Integrity: a node decides at most once per instance. */
export function checkIntegrity(decisions: readonly Decision[]): PropertyResult {
  const violations: PropertyViolation[] = [];
  for (const [instance, group] of byInstance(decisions)) {
    for (const [node, own] of groupBy(group, (decision) => decision.node)) {
      if (own.length < 2) continue;
      violations.push({ property: 'integrity', instance, nodes: [node], message: `${node} decided ${own.length} times in instance ${String(instance)}: ${own.map((decision) => canonicalJson(decision.value)).join(', ')}` });
    }
  }
  return result('integrity', violations);
}

export interface TerminationInput {
  readonly decisions: readonly Decision[];
  /** The nodes that must decide (correct and connected after healing). */
  readonly correctNodes: readonly NodeId[];
  /** The instances every correct node must decide; default: every instance anyone decided. */
  readonly instances?: readonly Instance[];
}

/** Termination: every correct node decided every required instance. */
export function checkTermination(input: TerminationInput): PropertyResult {
  const required = input.instances ?? unique(input.decisions.map((decision) => decision.instance));
  const decided = new Set(input.decisions.map((decision) => `${decision.node}\u0000${instanceKey(decision.instance)}`));
  const violations: PropertyViolation[] = [];
  for (const instance of required) {
    const missing = input.correctNodes.filter((node) => !decided.has(`${node}\u0000${instanceKey(instance)}`));
    if (missing.length > 0) violations.push({ property: 'termination', instance, nodes: missing, message: `instance ${String(instance)}: ${missing.join(', ')} never decided` });
  }
  return result('termination', violations);
}

/** Convergence: after healing, all correct replicas have equal state digests. */
export function checkConvergence(replicas: readonly ReplicaDigest[]): PropertyResult {
  const correct = replicas.filter((replica) => replica.correct !== false);
  const groups = groupBy(correct, (replica) => canonicalJson(replica.digest));
  if (groups.size <= 1) return result('convergence', []);
  const described = [...groups].map(([digest, members]) => `${members.map((replica) => replica.node).join(', ')} at ${digest.length > 80 ? `${digest.slice(0, 77)}...` : digest}`);
  return result('convergence', [{ property: 'convergence', nodes: correct.map((replica) => replica.node), message: `${groups.size} different states: ${described.join('; ')}` }]);
}

export interface ConsensusInput {
  readonly decisions: readonly Decision[];
  readonly proposals: readonly Proposal[];
  readonly correctNodes: readonly NodeId[];
  readonly instances?: readonly Instance[];
}

/** Agreement, validity, integrity and termination together. */
export function checkConsensus(input: ConsensusInput): PropertyResult[] {
  return [
    checkAgreement(input.decisions),
    checkValidity(input.decisions, input.proposals),
    checkIntegrity(input.decisions),
    checkTermination({ decisions: input.decisions, correctNodes: input.correctNodes, ...(input.instances !== undefined ? { instances: input.instances } : {}) }),
  ];
}

/**
 * Decisions from replicated logs: entry `k` of a node's committed log is its decision for instance
 * `firstIndex + k` (Raft's state-machine safety is agreement over these).
 */
export function decisionsFromLogs(committed: Readonly<Record<NodeId, readonly unknown[]>> | ReadonlyMap<NodeId, readonly unknown[]>, firstIndex = 1): Decision[] {
  const entries: [NodeId, readonly unknown[]][] = committed instanceof Map ? [...committed] : Object.entries(committed);
  return entries.flatMap(([node, log]) => log.map((value, offset): Decision => ({ node, instance: firstIndex + offset, value })));
}

function result(property: PropertyName, violations: PropertyViolation[]): PropertyResult {
  return { property, ok: violations.length === 0, violations: violations.slice(0, MAX_REPORTED_VIOLATIONS), violationCount: violations.length };
}

function instanceKey(instance: Instance): string {
  return typeof instance === 'number' ? `n${instance}` : `s${instance}`;
}

/** Decisions grouped by instance (Map keys keep instance 1 and instance "1" apart). */
function byInstance(decisions: readonly Decision[]): Map<Instance, Decision[]> {
  return groupBy(decisions, (decision) => decision.instance);
}

function groupBy<T, K>(items: readonly T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = []));
    group.push(item);
  }
  return groups;
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
