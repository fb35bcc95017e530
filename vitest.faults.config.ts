import { defineConfig } from 'vitest/config';

/**
 * `npm run test:faults`: the real-process fault suite (test/jepsen). Files run one at a time —
 * each starts a cluster of node processes and a nemesis, and they would disturb each other.
 * CONCORD_FAULTS_LONG=1 (or `npm run test:faults:long`) adds the ≥ 10-minute mixed-fault run.
 */
export default defineConfig({
  test: {
    include: ['test/jepsen/**/*.test.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    setupFiles: ['test/setup.ts'],
  },
});
