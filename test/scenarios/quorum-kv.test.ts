import { describe, expect, it } from 'vitest';
import { getScenario } from '../../src/scenarios/index.js';
import { failed, runSweep } from '../../src/scenarios/sweep.js';

/** quorum-kv in the simulator: linearizable histories under faults; two bug-flip variants caught. */
const replay = (scenario: string, seed: number): string => `replay: npx concord sim ${scenario} --seed ${seed}`;

describe('quorum-kv', () => {
  it('a 300-seed sweep (2 workers): every history linearizable, nothing left in progress after healing', { timeout: 120_000 }, async () => {
    const outcomes = await runSweep({ scenario: 'quorum-kv', fromSeed: 1, seeds: 300, workers: 2, options: {} });
    expect(outcomes.filter(failed).map((outcome) => ({ seed: outcome.seed, error: outcome.error, violations: outcome.violations }))).toEqual([]);
    expect(outcomes.filter((outcome) => outcome.livenessHeld !== true).map((outcome) => outcome.seed)).toEqual([]);
  });

  it('regression seeds 189 and 190 (found by the first sweep): two concurrent puts of one coordinator shared a timestamp', () => {
    // Replicas then kept different values under one timestamp, and reads disagreed.
    for (const seed of [189, 190]) expect(getScenario('quorum-kv').run({ seed }).violations, replay('quorum-kv', seed)).toEqual([]);
  });

  it('is deterministic from its seed', () => {
    const result = getScenario('quorum-kv').run({ seed: 1 });
    expect(result.clients.ok).toBeGreaterThan(500);
    expect(getScenario('quorum-kv').run({ seed: 1 }).traceHash).toBe(result.traceHash);
  });
});

describe('quorum-kv bug-flip variants are caught by the linearizability checker', () => {
  it('quorum of one: a 10-seed sweep finds non-linearizable histories on most seeds', async () => {
    const outcomes = await runSweep({ scenario: 'quorum-kv-bug-quorum-of-one', fromSeed: 1, seeds: 10, workers: 1, options: {} });
    const caught = outcomes.filter(failed);
    expect(caught.length).toBeGreaterThanOrEqual(8);
    for (const outcome of caught) expect(outcome.violations[0]!.message).toMatch(/^not linearizable: key "k\d"/);
  });

  it('skipped write-back: regression seeds 26 and 36 (new-old inversion between two reads)', () => {
    for (const seed of [26, 36]) {
      expect(getScenario('quorum-kv-bug-skip-write-back').run({ seed }).violations[0]?.message, replay('quorum-kv-bug-skip-write-back', seed)).toMatch(/^not linearizable: /);
    }
  });
});
