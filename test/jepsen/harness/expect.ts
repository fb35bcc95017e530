import { expect } from 'vitest';
import { summarize, type ScenarioResult } from './run.js';

/** A run must be valid: linearizable, nothing acknowledged lost, replicas equal, no anomaly. */
export function expectValid(result: ScenarioResult): void {
  expect(result.valid, summarize(result)).toBe(true);
  expect(result.acknowledgedWrites, 'some writes were acknowledged').toBeGreaterThan(0);
  expect(Object.values(result.faults).reduce((sum, count) => sum + count, 0), 'faults were injected').toBeGreaterThan(0);
}

/** A deliberately broken build must be caught: a non-linearizable history or a lost acknowledged write. */
export function expectViolation(result: ScenarioResult): void {
  const caught = result.linearizability.verdict === 'not-linearizable' || result.durability.lost.length > 0;
  expect(caught, `expected the harness to report a violation\n${summarize(result)}`).toBe(true);
}

/** How long each nemesis runs: `base` normally, scaled by CONCORD_FAULTS_SCALE (e.g. 2 = twice as long). */
export function duration(baseMs: number): number {
  return Math.round(baseMs * Number(process.env.CONCORD_FAULTS_SCALE ?? 1));
}

/** The seed of a run: fixed per test unless CONCORD_FAULTS_SEED asks for another. */
export function seed(fixed: number): number {
  return process.env.CONCORD_FAULTS_SEED === undefined ? fixed : Number(process.env.CONCORD_FAULTS_SEED);
}
