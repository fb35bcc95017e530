import { describe, it } from 'vitest';
import { expectValid, seed } from './harness/expect.js';
import { runScenario } from './harness/run.js';

/**
 * Membership changes under load: a fresh node joins as a learner, is promoted, and another member
 * (sometimes the leader) is removed and stopped; leadership transfers in between.
 */
describe('membership change and leadership transfer under load (real processes)', () => {
  it('3 nodes: add learner → promote → remove, transfer leadership, kill the leader', async () => {
    expectValid(await runScenario({
      name: 'membership-3',
      seed: seed(501),
      nodes: 3,
      durationMs: 0,
      nemeses: [],
      schedule: ['membership', 'transfer-leader', 'membership', 'transfer-leader', 'kill-leader', 'membership', 'transfer-leader'],
      holdMs: [1_000, 2_000],
    }));
  });
});
