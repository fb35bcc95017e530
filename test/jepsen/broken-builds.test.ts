import { describe, it } from 'vitest';
import { expectValid, expectViolation, seed } from './harness/expect.js';
import { runScenario } from './harness/run.js';

/**
 * The harness must catch deliberately broken builds (CONCORD_TESTING_BUGS, src/kv/testing-bugs.ts),
 * and the same schedule on the correct build must pass — so the detection is the bug's doing.
 */
/**
 * Kills of every node while inserts flow: mostly inserts (each acknowledged one is checked directly)
 * and a quiet gap long enough for the restarted cluster to serve again before the next kill, so
 * writes are acknowledged inside the unsynced window — with one lost insert in a run the
 * detection was too marginal.
 */
const killAll = { nodes: 3, durationMs: 0, nemeses: [], schedule: ['kill-all', 'kill-all', 'kill-all'], quietMs: [2_500, 3_500], mix: { read: 10, write: 20, cas: 10, insert: 60 } } as const;

describe('deliberately broken builds are caught (real processes)', () => {
  it('ack-before-fsync + kill -9 of every node: acknowledged writes are lost', async () => {
    expectViolation(await runScenario({ ...killAll, name: 'broken-ack-before-fsync', seed: seed(701), testingBugs: ['ack-before-fsync'], recoveryTimeoutMs: 15_000 }));
  });

  it('control: the same kills on the correct build lose nothing', async () => {
    expectValid(await runScenario({ ...killAll, name: 'control-kill-all', seed: seed(701) }));
  });

  it('stale-local-reads + an isolated leader: stale reads break linearizability', async () => {
    expectViolation(await runScenario({ name: 'broken-stale-local-reads', seed: seed(702), nodes: 3, durationMs: 0, nemeses: [], schedule: ['partition-leader', 'partition-leader', 'partition-leader'], testingBugs: ['stale-local-reads'], recoveryTimeoutMs: 15_000 }));
  });

  it('control: the same partitions on the correct build stay linearizable', async () => {
    expectValid(await runScenario({ name: 'control-partition-leader', seed: seed(702), nodes: 3, durationMs: 0, nemeses: [], schedule: ['partition-leader', 'partition-leader', 'partition-leader'] }));
  });
});
