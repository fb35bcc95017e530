import { describe, expect, it } from 'vitest';
import { getScenario } from '../../src/scenarios/index.js';
import { failed, runSweep } from '../../src/scenarios/sweep.js';

/** causal-broadcast in the simulator: the CI sweep and the two bug-flip variants, each caught. */
const replay = (scenario: string, seed: number): string => `replay: npx concord sim ${scenario} --seed ${seed}`;

describe('causal-broadcast', () => {
  it('a 300-seed sweep (2 workers) finds no violation, and every node delivers everything after healing', { timeout: 120_000 }, async () => {
    const outcomes = await runSweep({ scenario: 'causal-broadcast', fromSeed: 1, seeds: 300, workers: 2, options: {} });
    expect(outcomes.filter(failed).map((outcome) => ({ seed: outcome.seed, error: outcome.error, violations: outcome.violations }))).toEqual([]);
    expect(outcomes.filter((outcome) => outcome.livenessHeld !== true).map((outcome) => outcome.seed)).toEqual([]);
  });

  it('regression seed 292 (found by the first 300-seed sweep): anti-entropy does not starve an origin a lagging node waits on', () => {
    // n4 restarted far behind; digest answers spent their whole budget on the first origins,
    // which n4 already held buffered, and never sent n2/8 that everything else waited for.
    const result = getScenario('causal-broadcast').run({ seed: 292 });
    expect(result.violations).toEqual([]);
    expect(result.liveness.held).toBe(true);
  });

  it('is deterministic from its seed', () => {
    const result = getScenario('causal-broadcast').run({ seed: 4 });
    expect(result.clients.ok).toBeGreaterThan(100);
    expect(getScenario('causal-broadcast').run({ seed: 4 }).traceHash).toBe(result.traceHash);
  });
});

describe('causal-broadcast bug-flip variants are caught', () => {
  for (const name of ['causal-broadcast-bug-fifo-only', 'causal-broadcast-bug-on-arrival']) {
    it(`${name}: a 10-seed sweep catches it on most seeds`, async () => {
      const outcomes = await runSweep({ scenario: name, fromSeed: 1, seeds: 10, workers: 1, options: {} });
      const caught = outcomes.filter(failed);
      expect(caught.length, replay(name, 1)).toBeGreaterThanOrEqual(8);
      for (const outcome of caught) expect(outcome.violations[0]!.message, replay(name, outcome.seed)).toMatch(/^(causal|fifo): /);
    });
  }
});
