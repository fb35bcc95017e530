import { describe, expect, it } from 'vitest';
import { getScenario } from '../../src/scenarios/index.js';
import { failed, runSweep } from '../../src/scenarios/sweep.js';

/** multi-paxos in the simulator: the CI sweep and the bug-flip variant, caught by agreement. */
const replay = (scenario: string, seed: number): string => `replay: npx concord sim ${scenario} --seed ${seed}`;

describe('multi-paxos', () => {
  it('a 300-seed sweep (2 workers) finds no violation, and every node learns everything after healing', { timeout: 120_000 }, async () => {
    const outcomes = await runSweep({ scenario: 'multi-paxos', fromSeed: 1, seeds: 300, workers: 2, options: {} });
    expect(outcomes.filter(failed).map((outcome) => ({ seed: outcome.seed, error: outcome.error, violations: outcome.violations }))).toEqual([]);
    expect(outcomes.filter((outcome) => outcome.livenessHeld !== true).map((outcome) => outcome.seed)).toEqual([]);
  });

  it('a run chooses hundreds of commands across crashes, deterministically from its seed', () => {
    const result = getScenario('multi-paxos').run({ seed: 1 });
    expect(result.violations).toEqual([]);
    expect(result.clients.ok).toBeGreaterThan(300);
    expect(getScenario('multi-paxos').run({ seed: 1 }).traceHash).toBe(result.traceHash);
  });
});

describe('multi-paxos-bug-ignore-promises (a new leader ignores the values its promises reported)', () => {
  it('regression seed 3: agreement breaks (a chosen command overwritten by a no-op)', () => {
    const result = getScenario('multi-paxos-bug-ignore-promises').run({ seed: 3 });
    expect(result.violations[0]?.message, replay('multi-paxos-bug-ignore-promises', 3)).toMatch(/^agreement: slot \d+ is /);
  });

  it('a 10-seed sweep catches it on several seeds', async () => {
    const outcomes = await runSweep({ scenario: 'multi-paxos-bug-ignore-promises', fromSeed: 1, seeds: 10, workers: 1, options: {} });
    const caught = outcomes.filter(failed);
    expect(caught.length).toBeGreaterThanOrEqual(4);
    for (const outcome of caught) expect(outcome.violations[0]!.message).toMatch(/^(agreement|integrity|client told)/);
  });
});
