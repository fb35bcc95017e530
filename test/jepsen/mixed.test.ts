import { writeFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import { nemesisKinds } from './harness/nemesis.js';
import { duration, expectValid, seed } from './harness/expect.js';
import { runScenario } from './harness/run.js';

/**
 * Every nemesis, mixed at random (one at a time, healed in between). One minute normally, with
 * ReadIndex reads; with `npm run test:faults -- --long` (CONCORD_FAULTS_LONG=1) at least ten
 * minutes with lease reads (`--read-mode lease`, so the clock faults attack leases) — the run
 * recorded in BENCHMARKS.md; CONCORD_FAULTS_READ_MODE=readIndex|lease overrides the read mode.
 * CONCORD_FAULTS_SUMMARY=<file> writes the result as JSON.
 */
const long = process.env.CONCORD_FAULTS_LONG === '1';
const readModeOverride = process.env.CONCORD_FAULTS_READ_MODE;
const readMode = readModeOverride === 'lease' || readModeOverride === 'readIndex' ? readModeOverride : long ? 'lease' : 'readIndex';

describe('mixed faults (real processes)', () => {
  it(`${long ? '≥ 10 minutes' : '1 minute'} of mixed faults on 3 nodes (${readMode} reads)`, async () => {
    const result = await runScenario({
      name: long ? 'mixed-long' : 'mixed',
      seed: seed(801),
      nodes: 3,
      durationMs: long ? Number(process.env.CONCORD_FAULTS_LONG_MS ?? 630_000) : duration(60_000),
      nemeses: [...nemesisKinds],
      checkTimeoutMs: 300_000,
      readMode,
    });
    if (process.env.CONCORD_FAULTS_SUMMARY) writeFileSync(process.env.CONCORD_FAULTS_SUMMARY, JSON.stringify(result, null, 2));
    expectValid(result);
  });
});
