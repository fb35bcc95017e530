import type { Command } from 'commander';
import { registerSimCommand } from './sim.js';
import { registerSweepCommand } from './sweep.js';

/** Each CLI command lives in its own file and registers itself here (one line per command). */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerSimCommand, registerSweepCommand];
