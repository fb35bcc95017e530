import { describe, expect, it } from 'vitest';
import type { NemesisKind } from './harness/nemesis.js';
import { runScenario } from './harness/run.js';

describe('smoke', () => {
  it('adhoc', async () => {
    const kinds = (process.env.KINDS ?? 'kill-leader').split(',') as NemesisKind[];
    const result = await runScenario({
      name: `smoke-${kinds.join('+')}`, seed: Number(process.env.SEED ?? 1), nodes: Number(process.env.NODES ?? 3), durationMs: Number(process.env.DUR ?? 12_000), nemeses: kinds,
      partition: process.env.PART === 'hook' ? 'hook' : 'auto', readMode: process.env.LEASE ? 'lease' : 'readIndex',
      testingBugs: process.env.BUGS ? (process.env.BUGS.split(',') as never) : [],
    });
    expect(result.valid).toBe(true);
  });
});
