import type { Command } from 'commander';
import { registerCheckCommand } from './check.js';

/** Each CLI command lives in its own file and registers itself here (one line per command). */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerCheckCommand];
