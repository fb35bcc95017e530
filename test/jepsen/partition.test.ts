import { describe, it } from 'vitest';
import { duration, expectValid, seed } from './harness/expect.js';
import { runScenario } from './harness/run.js';

/**
 * Network partitions: namespaces + iptables when available (root, ip, iptables), else the
 * transport's fault hook — each run prints which one ran; the last test forces the hook.
 */
describe('partition loops (real processes)', () => {
  it('3 nodes: isolate the leader, minority/majority, bridge', async () => {
    expectValid(await runScenario({ name: 'partition-3', seed: seed(301), nodes: 3, durationMs: duration(30_000), nemeses: ['partition-leader', 'partition-halves', 'partition-bridge'] }));
  });

  it('5 nodes: isolate the leader, 2|3 halves, bridge', async () => {
    expectValid(await runScenario({ name: 'partition-5', seed: seed(302), nodes: 5, durationMs: duration(30_000), nemeses: ['partition-leader', 'partition-halves', 'partition-bridge'] }));
  });

  it('3 nodes through the transport fault hook (the fallback mechanism)', async () => {
    expectValid(await runScenario({ name: 'partition-hook', seed: seed(303), nodes: 3, durationMs: duration(20_000), nemeses: ['partition-leader', 'partition-halves', 'partition-bridge'], partition: 'hook' }));
  });
});
