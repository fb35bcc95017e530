import { describe, expect, it } from 'vitest';
import { getScenario } from '../../src/scenarios/index.js';
import { failed, runSweep, type SeedOutcome } from '../../src/scenarios/sweep.js';

/** PBFT in the simulator: honest sweeps (n = 4 and 7, with and without Byzantine nodes) and the bug-flip variants. */
const replay = (scenario: string, seed: number): string => `replay: npx concord sim ${scenario} --seed ${seed}`;
const problems = (outcomes: readonly SeedOutcome[]): unknown[] => outcomes.filter(failed).map((outcome) => ({ seed: outcome.seed, error: outcome.error, violations: outcome.violations }));
const benignFaults = ['crash', 'partition', 'loss', 'dup', 'reorder', 'drift', 'pause', 'omission', 'slow'] as const;

describe('pbft', () => {
  it('a 150-seed sweep with a Byzantine replica (2 workers) finds no violation, and liveness holds after healing', { timeout: 120_000 }, async () => {
    const outcomes = await runSweep({ scenario: 'pbft', fromSeed: 1, seeds: 150, workers: 2, options: {} });
    expect(problems(outcomes)).toEqual([]);
    expect(outcomes.filter((outcome) => outcome.livenessHeld !== true).map((outcome) => outcome.seed)).toEqual([]);
  });

  it('n = 7 (f = 2) and crash-only runs (no Byzantine node, so crashes and pauses take the fault budget) pass too', { timeout: 120_000 }, async () => {
    const seven = await runSweep({ scenario: 'pbft', fromSeed: 1, seeds: 10, workers: 2, options: { nodes: 7 } });
    const benign = await runSweep({ scenario: 'pbft', fromSeed: 1, seeds: 30, workers: 2, options: { faults: benignFaults } });
    expect([...problems(seven), ...problems(benign)]).toEqual([]);
    expect([...seven, ...benign].every((outcome) => outcome.livenessHeld === true)).toBe(true);
  });

  it('a run answers its clients with f + 1 matching replies, drops the Byzantine lies, and replays from its seed', () => {
    const result = getScenario('pbft').run({ seed: 1 });
    expect(result.violations).toEqual([]);
    expect(result.settings.byzantine).not.toEqual({});
    expect(result.clients.ok).toBeGreaterThan(30);
    expect(result.stats.byzantineAltered).toBeGreaterThan(0);
    expect(getScenario('pbft').run({ seed: 1 }).traceHash).toBe(result.traceHash);
  });
});

describe('pbft bug-flip variants', () => {
  it('pbft-bug-ignore-prepared, regression seed 1: a committed request is replaced by a null request in the new view', () => {
    const result = getScenario('pbft-bug-ignore-prepared').run({ seed: 1 });
    expect(result.violations[0]?.message, replay('pbft-bug-ignore-prepared', 1)).toMatch(/^agreement: sequence number \d+ holds /);
  });

  it('pbft-bug-no-commit-phase, regression seed 1: executing when merely prepared breaks agreement across a view change', () => {
    const result = getScenario('pbft-bug-no-commit-phase').run({ seed: 1 });
    expect(result.violations[0]?.message, replay('pbft-bug-no-commit-phase', 1)).toMatch(/^agreement: sequence number \d+ holds /);
  });

  it('pbft-bug-first-reply, regression seed 1: a client trusts a Byzantine replica’s wrong result', () => {
    const result = getScenario('pbft-bug-first-reply').run({ seed: 1 });
    expect(result.violations[0]?.message, replay('pbft-bug-first-reply', 1)).toMatch(/^client accepted \S+ for c\d+@\d+, but honest replicas computed /);
  });

  it('bounded sweeps catch each variant on several seeds', { timeout: 120_000 }, async () => {
    const caught = async (scenario: string, seeds: number): Promise<number> => (await runSweep({ scenario, fromSeed: 1, seeds, workers: 2, options: {} })).filter(failed).length;
    expect(await caught('pbft-bug-ignore-prepared', 10)).toBeGreaterThanOrEqual(5);
    expect(await caught('pbft-bug-first-reply', 10)).toBeGreaterThanOrEqual(8);
    expect(await caught('pbft-bug-no-commit-phase', 20)).toBeGreaterThanOrEqual(2);
  });
});
