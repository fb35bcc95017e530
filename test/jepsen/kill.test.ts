import { describe, it } from 'vitest';
import { duration, expectValid, seed } from './harness/expect.js';
import { runScenario } from './harness/run.js';

/** kill -9 of the leader, of a follower, of a majority (restarted after a few seconds), over and over. */
describe('kill -9 loops (real processes)', () => {
  it('3 nodes: kill -9 leader / follower / majority every few seconds', async () => {
    expectValid(await runScenario({ name: 'kill-3', seed: seed(101), nodes: 3, durationMs: duration(30_000), nemeses: ['kill-leader', 'kill-follower', 'kill-majority'] }));
  });

  it('3 nodes snapshotting every 200 entries: kill -9 lands while snapshot files and checkpoints are written', async () => {
    // Each node writes a snapshot file, then its checkpoint record, then deletes the old segments
    // and file, several times a second: kills hit every step of that sequence; every restart must
    // recover (never CORRUPT_RECORD) and lose no acknowledged write.
    expectValid(await runScenario({
      name: 'kill-snapshots', seed: seed(103), nodes: 3, durationMs: duration(30_000), nemeses: ['kill-leader', 'kill-follower', 'kill-all'],
      nodeArgs: ['--snapshot-threshold-entries', '200'],
    }));
  });

  it('5 nodes: kill -9 leader / majority / all', async () => {
    expectValid(await runScenario({ name: 'kill-5', seed: seed(102), nodes: 5, durationMs: duration(30_000), nemeses: ['kill-leader', 'kill-majority', 'kill-all'] }));
  });
});
