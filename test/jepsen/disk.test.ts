import { describe, it } from 'vitest';
import { expectValid, seed } from './harness/expect.js';
import { runScenario } from './harness/run.js';

/**
 * Disk faults on restart, under load: a torn final WAL record (a record cut at a random byte by the
 * crash, so never acknowledged: the
 * node must cut it, report it, and rejoin) and a flipped bit in a record (the node must refuse to
 * start, exit 3, naming the segment file and the record's offset; the operator restores the file).
 */
describe('disk faults (real processes)', () => {
  it('3 nodes: torn final records and flipped bits, between leader kills', async () => {
    expectValid(await runScenario({
      name: 'disk-3',
      seed: seed(401),
      nodes: 3,
      durationMs: 0,
      nemeses: [],
      schedule: ['torn-wal', 'corrupt-wal', 'torn-wal', 'kill-leader', 'corrupt-wal', 'torn-wal', 'corrupt-wal'],
      holdMs: [1_000, 2_000],
    }));
  });
});
