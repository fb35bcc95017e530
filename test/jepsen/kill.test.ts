import { describe, it } from 'vitest';
import { duration, expectValid, seed } from './harness/expect.js';
import { runScenario } from './harness/run.js';

/** kill -9 of the leader, of a follower, of a majority (restarted after a few seconds), over and over. */
describe('kill -9 loops (real processes)', () => {
  it('3 nodes: kill -9 leader / follower / majority every few seconds', async () => {
    expectValid(await runScenario({ name: 'kill-3', seed: seed(101), nodes: 3, durationMs: duration(30_000), nemeses: ['kill-leader', 'kill-follower', 'kill-majority'] }));
  });

  it('5 nodes: kill -9 leader / majority / all', async () => {
    expectValid(await runScenario({ name: 'kill-5', seed: seed(102), nodes: 5, durationMs: duration(30_000), nemeses: ['kill-leader', 'kill-majority', 'kill-all'] }));
  });
});
