import { describe, it } from 'vitest';
import { duration, expectValid, seed } from './harness/expect.js';
import { runScenario } from './harness/run.js';

/** SIGSTOP / SIGCONT: a paused leader wakes up believing it still leads (the classic stale-leader case). */
describe('pause loops (real processes)', () => {
  it('3 nodes: SIGSTOP the leader or a follower, SIGCONT after a few seconds', async () => {
    expectValid(await runScenario({ name: 'pause-3', seed: seed(201), nodes: 3, durationMs: duration(30_000), nemeses: ['pause-leader', 'pause-follower'] }));
  });
});
