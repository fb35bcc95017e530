#!/usr/bin/env node
import { Command } from 'commander';
import { commands } from './commands/index.js';

const program = new Command();
program.name('concord').description('Build, test and run distributed systems.').version('0.1.0');
for (const register of commands) register(program);
await program.parseAsync();
