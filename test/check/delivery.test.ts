import { describe, expect, it } from 'vitest';
import {
  checkAtLeastOnceDelivery,
  checkAtMostOnceDelivery,
  checkDelivery,
  checkExactlyOnceDelivery,
  type DeliveryObservation,
  type DeliveryOutcome,
  deliveryRequestsFromHistory,
} from '../../src/check/delivery.js';
import { HistoryRecorder } from '../../src/core/history.js';

function observation(requests: [string, DeliveryOutcome][], applied: [string, number][]): DeliveryObservation {
  return { requests: requests.map(([appId, outcome]) => ({ appId, outcome })), applied: new Map(applied) };
}

function properties(violations: { property: string; appId: string }[]): string[] {
  return violations.map((violation) => `${violation.property}:${violation.appId}`);
}

const final = { final: true };
const during = { final: false };

describe('delivery checkers', () => {
  it('accept a clean exactly-once run', () => {
    const clean = observation([['a', 'ok'], ['b', 'info'], ['c', 'fail'], ['d', 'pending']], [['a', 1], ['b', 1], ['d', 1]]);
    expect(checkExactlyOnceDelivery(clean, final)).toEqual([]);
    expect(checkAtLeastOnceDelivery(clean, final)).toEqual([]);
    expect(checkAtMostOnceDelivery(clean, final)).toEqual([]);
  });

  it('at-most-once: reports a message applied twice, and tolerates loss', () => {
    const twice = observation([['a', 'ok'], ['b', 'info']], [['a', 2]]);
    expect(properties(checkAtMostOnceDelivery(twice, final))).toEqual(['at-most-once:a']);
    // b was lost: allowed for at-most-once, a violation for the other two once healed.
    expect(properties(checkAtLeastOnceDelivery(twice, final))).toEqual(['no-loss:b']);
    expect(properties(checkExactlyOnceDelivery(twice, final))).toEqual(['at-most-once:a', 'no-loss:b']);
  });

  it('at-least-once: reports a lost message only once healed, and tolerates duplicates', () => {
    const lost = observation([['a', 'ok'], ['b', 'info'], ['c', 'pending']], [['a', 3]]);
    expect(checkAtLeastOnceDelivery(lost, during)).toEqual([]);
    expect(properties(checkAtLeastOnceDelivery(lost, final))).toEqual(['no-loss:b', 'no-loss:c']);
  });

  it('no-loss covers accepted messages and ok ones, not requests that never reached a sender', () => {
    const base = observation([['a', 'info'], ['b', 'info'], ['c', 'ok'], ['d', 'pending']], [['b', 1]]);
    const withAccepted = { ...base, accepted: new Set(['b', 'd']) };
    expect(properties(checkExactlyOnceDelivery(withAccepted, final))).toEqual(['ok-applied:c', 'no-loss:c', 'no-loss:d']);
    expect(properties(checkAtLeastOnceDelivery({ ...base, accepted: new Set(['x']) }, during))).toEqual(['ok-applied:c', 'no-phantom:x']);
  });

  it('exactly-once: a duplicate is a violation even before healing', () => {
    const duplicated = observation([['a', 'pending']], [['a', 2]]);
    expect(properties(checkExactlyOnceDelivery(duplicated, during))).toEqual(['at-most-once:a']);
  });

  it('every mode: ok without effect, fail with effect, phantom effects, reused ids', () => {
    const bad = observation([['a', 'ok'], ['b', 'fail'], ['c', 'info'], ['c', 'ok']], [['b', 1], ['c', 1], ['ghost', 1]]);
    for (const semantics of ['at-most-once', 'at-least-once', 'exactly-once'] as const) {
      expect(properties(checkDelivery(semantics, bad, during))).toEqual([
        'ok-applied:a',
        'fail-not-applied:b',
        'unique-request:c',
        'no-phantom:ghost',
      ]);
    }
  });

  it('bounds the report', () => {
    const many = observation(
      Array.from({ length: 50 }, (_, index): [string, DeliveryOutcome] => [`m${index}`, 'ok']),
      [],
    );
    expect(checkExactlyOnceDelivery(many, { final: true, maxViolations: 5 })).toHaveLength(5);
  });

  it('reads requests and outcomes from a Jepsen-style history', () => {
    const recorder = new HistoryRecorder();
    recorder.invoke({ process: 1, f: 'send', value: { appId: 'a', to: 'n2' }, time: 1 });
    recorder.invoke({ process: 2, f: 'send', value: 'b', time: 2 });
    recorder.complete({ process: 1, type: 'ok', value: null, time: 3 });
    recorder.invoke({ process: 1, f: 'send', value: { appId: 'c' }, time: 4 });
    recorder.complete({ process: 1, type: 'info', value: null, time: 5, error: 'TIMEOUT' });
    recorder.invoke({ process: 3, f: 'read', value: null, time: 6 });
    expect(deliveryRequestsFromHistory(recorder.history())).toEqual([
      { appId: 'a', outcome: 'ok' },
      { appId: 'b', outcome: 'pending' },
      { appId: 'c', outcome: 'info' },
    ]);
  });
});
