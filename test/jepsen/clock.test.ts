import { describe, it } from 'vitest';
import { duration, expectValid, seed } from './harness/expect.js';
import { runScenario } from './harness/run.js';

/**
 * Clock faults on one node with lease reads on (`--read-mode lease`): forward jumps (a burst of
 * ticks), backward jumps (the source steps back), a backward jump of the leader's clock followed
 * by its isolation, and a leader clock running up to 9 % slow (within the lease's drift bound)
 * while isolated. Regression: the backward jump + isolation used to give stale lease reads.
 */
describe('clock faults with lease reads (real processes)', () => {
  it('3 nodes: jumps both ways, a jumped-back or slowed leader isolated', async () => {
    expectValid(await runScenario({
      name: 'clock-lease-3',
      seed: seed(601),
      nodes: 3,
      durationMs: duration(30_000),
      nemeses: ['clock-jump', 'clock-jump-back', 'clock-back-partition', 'clock-slow-partition', 'partition-leader'],
      readMode: 'lease',
    }));
  });
});
