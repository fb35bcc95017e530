import { describe, expect, it } from 'vitest';
import { runScenario } from './harness/run.js';

describe('smoke', () => {
  it('kill loop', async () => {
    const result = await runScenario({ name: 'smoke-kill', seed: 1, nodes: 3, durationMs: 12_000, nemeses: ['kill-leader', 'kill-follower'] });
    expect(result.valid).toBe(true);
  });
});
