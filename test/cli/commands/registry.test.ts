import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { commands } from '../../../src/cli/commands/index.js';

/**
 * Regression: a merge listed sim/sweep/check twice, and commander throws on a duplicate, so
 * `concord` (and every `concord node` the fault harness starts) died before parsing anything.
 */
describe('CLI command registry', () => {
  it('registers every command once, under distinct names', () => {
    const program = new Command();
    for (const register of commands) register(program);
    const names = program.commands.map((command) => command.name());
    expect(new Set(names).size).toBe(names.length);
    for (const name of ['sim', 'sweep', 'check', 'node', 'kv', 'status', 'bench', 'cluster']) expect(names).toContain(name);
  });
});
