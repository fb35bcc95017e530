import type { HistoryEvent } from '../core/history.js';

/**
 * Checkers for the three delivery semantics (pure functions over recorded data).
 *
 * Input: every message a client asked to deliver with the latest outcome its client saw, and how
 * many times each message's effect was durably applied (for reliable-delivery:
 * `countAppliedEffects` over every node's durable log — a crash cannot hide an applied effect, as
 * the receiver syncs it before acknowledging).
 *
 * Properties:
 * - always (every mode, checked after every event):
 *   - `ok-applied`: a message acknowledged `ok` has been applied at least once;
 *   - `fail-not-applied`: a message answered `fail` (definitely not done) was never applied;
 *   - `no-phantom`: every applied effect belongs to a requested message;
 *   - `unique-request`: each message id was requested once (a workload precondition).
 * - at-most-once and exactly-once, always: `at-most-once` — no message applied twice.
 * - at-least-once and exactly-once, once healed (`final`): `no-loss` — every message the sender
 *   accepted (see `DeliveryObservation.accepted`) was applied at least once. With at-most-once
 *   this is exactly what may fail, and with at-least-once a second application is allowed.
 */
export type DeliveryOutcome = 'pending' | 'ok' | 'fail' | 'info';

export interface DeliveryRequestRecord {
  readonly appId: string;
  readonly outcome: DeliveryOutcome;
}

export interface DeliveryObservation {
  readonly requests: readonly DeliveryRequestRecord[];
  /** Durable applications per appId; absent means 0. */
  readonly applied: ReadonlyMap<string, number>;
  /**
   * Messages the sending side durably accepted (for reliable-delivery: a synced `sent` record).
   * When given, `no-loss` covers accepted messages and those acknowledged `ok`: a request lost on
   * its way to a crashed sender (its client saw `info`) was never the protocol's to deliver.
   * When absent, `no-loss` covers every request not answered `fail`.
   */
  readonly accepted?: ReadonlySet<string>;
}

export type DeliveryProperty = 'ok-applied' | 'fail-not-applied' | 'no-phantom' | 'unique-request' | 'at-most-once' | 'no-loss';

export interface DeliveryViolation {
  readonly property: DeliveryProperty;
  readonly appId: string;
  readonly applied: number;
  readonly message: string;
}

export type DeliverySemantics = 'at-most-once' | 'at-least-once' | 'exactly-once';

export interface DeliveryCheckOptions {
  /** True once the network has healed and every message had its stated time to resolve. */
  readonly final: boolean;
  /** Stop after this many violations (bounded report). Default 20. */
  readonly maxViolations?: number;
}

/** Properties every mode must hold at all times. */
export function checkDeliveryBasics(observation: DeliveryObservation): DeliveryViolation[] {
  const violations: DeliveryViolation[] = [];
  const requested = new Set<string>();
  for (const { appId, outcome } of observation.requests) {
    const applied = observation.applied.get(appId) ?? 0;
    if (requested.has(appId)) violations.push({ property: 'unique-request', appId, applied, message: `${appId} requested more than once` });
    requested.add(appId);
    if (outcome === 'ok' && applied < 1) violations.push({ property: 'ok-applied', appId, applied, message: `${appId} acknowledged ok but never applied` });
    if (outcome === 'fail' && applied > 0) violations.push({ property: 'fail-not-applied', appId, applied, message: `${appId} answered fail but applied ${applied}×` });
  }
  for (const [appId, applied] of observation.applied) {
    if (applied > 0 && !requested.has(appId)) violations.push({ property: 'no-phantom', appId, applied, message: `${appId} applied ${applied}× but never requested` });
  }
  for (const appId of observation.accepted ?? []) {
    if (!requested.has(appId)) violations.push({ property: 'no-phantom', appId, applied: observation.applied.get(appId) ?? 0, message: `${appId} accepted by a sender but never requested` });
  }
  return violations;
}

/** No message's effect applied more than once. */
export function checkAtMostOnce(observation: DeliveryObservation): DeliveryViolation[] {
  const violations: DeliveryViolation[] = [];
  for (const [appId, applied] of observation.applied) {
    if (applied > 1) violations.push({ property: 'at-most-once', appId, applied, message: `${appId} applied ${applied}× (at most once allowed)` });
  }
  return violations;
}

/** Once healed: every accepted message applied at least once. Before that: nothing to judge. */
export function checkNoLoss(observation: DeliveryObservation, options: { final: boolean }): DeliveryViolation[] {
  if (!options.final) return [];
  const violations: DeliveryViolation[] = [];
  const accepted = observation.accepted;
  for (const { appId, outcome } of observation.requests) {
    const applied = observation.applied.get(appId) ?? 0;
    const owed = outcome === 'ok' || (outcome !== 'fail' && (accepted === undefined || accepted.has(appId)));
    if (owed && applied < 1) {
      violations.push({ property: 'no-loss', appId, applied, message: `${appId} (client saw ${outcome}) never applied after healing` });
    }
  }
  return violations;
}

export function checkAtLeastOnceDelivery(observation: DeliveryObservation, options: DeliveryCheckOptions): DeliveryViolation[] {
  return bounded([...checkDeliveryBasics(observation), ...checkNoLoss(observation, options)], options);
}

export function checkAtMostOnceDelivery(observation: DeliveryObservation, options: DeliveryCheckOptions): DeliveryViolation[] {
  return bounded([...checkDeliveryBasics(observation), ...checkAtMostOnce(observation)], options);
}

export function checkExactlyOnceDelivery(observation: DeliveryObservation, options: DeliveryCheckOptions): DeliveryViolation[] {
  return bounded(
    [...checkDeliveryBasics(observation), ...checkAtMostOnce(observation), ...checkNoLoss(observation, options)],
    options,
  );
}

/** The checker for a mode's guarantee. */
export function checkDelivery(semantics: DeliverySemantics, observation: DeliveryObservation, options: DeliveryCheckOptions): DeliveryViolation[] {
  switch (semantics) {
    case 'at-most-once':
      return checkAtMostOnceDelivery(observation, options);
    case 'at-least-once':
      return checkAtLeastOnceDelivery(observation, options);
    case 'exactly-once':
      return checkExactlyOnceDelivery(observation, options);
  }
}

/**
 * The per-message requests and their outcomes from a Jepsen-style history in which each delivery
 * is an operation `f: 'send'` whose invoke `value` carries `{ appId }` (or is the appId string).
 * A process's invoke without completion is `pending`.
 */
export function deliveryRequestsFromHistory(history: readonly HistoryEvent[], f = 'send'): DeliveryRequestRecord[] {
  const byProcess = new Map<number, number>();
  const requests: { appId: string; outcome: DeliveryOutcome }[] = [];
  for (const event of history) {
    if (event.f !== f) continue;
    if (event.type === 'invoke') {
      byProcess.set(event.process, requests.length);
      requests.push({ appId: appIdOf(event.value), outcome: 'pending' });
      continue;
    }
    const index = byProcess.get(event.process);
    if (index === undefined) continue;
    byProcess.delete(event.process);
    requests[index]!.outcome = event.type;
  }
  return requests;
}

function appIdOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as { appId?: unknown }).appId === 'string') {
    return (value as { appId: string }).appId;
  }
  throw new TypeError(`send operation without an appId: ${JSON.stringify(value)}`);
}

function bounded(violations: DeliveryViolation[], options: DeliveryCheckOptions): DeliveryViolation[] {
  const max = options.maxViolations ?? 20;
  return violations.length > max ? violations.slice(0, max) : violations;
}
