import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { commands } from '../../../src/cli/commands/index.js';

describe('CLI command registry', () => {
  // A merge once registered sim/sweep/check twice: commander throws at start-up, so `npm start` died.
  it('registers every command exactly once', () => {
    const program = new Command();
    for (const register of commands) register(program);
    const names = program.commands.map((command) => command.name());
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['node', 'cluster', 'kv', 'status', 'bench', 'sim', 'sweep', 'check']));
  });
});
