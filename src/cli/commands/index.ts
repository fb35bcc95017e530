import type { Command } from 'commander';
import { registerBench } from './bench.js';
import { registerCheckCommand } from './check.js';
import { registerCluster } from './cluster.js';
import { registerKv } from './kv.js';
import { registerNode } from './node.js';
import { registerSimCommand } from './sim.js';
import { registerStatus } from './status.js';
import { registerSweepCommand } from './sweep.js';

/** Each CLI command lives in its own file and registers itself here (one line per command). */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  registerSimCommand,
  registerSweepCommand,
  registerCheckCommand,
  registerNode,
  registerCluster,
  registerKv,
  registerStatus,
  registerBench,
];
