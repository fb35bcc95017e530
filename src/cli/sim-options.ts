import type { Command } from 'commander';
import { ConcordError, ErrorCode } from '../core/errors.js';
import { nodesMax } from '../sim/runner.js';
import type { ScenarioRunOptions } from '../sim/scenario.js';
import { topologyKinds, type TopologyKind } from '../sim/topology.js';
import { faultNames, parseDurationMs, parseFaults, timingChoices, type TimingChoice } from '../sim/settings.js';

/**
 * Options shared by `concord sim` and `concord sweep`, their parsing (bad input → a
 * `ConcordError(INVALID_ARGUMENT)`, which the commands turn into exit code 2) and the replay
 * command line that reproduces a run.
 */
export interface RawSimOptions {
  nodes?: string;
  faults?: string;
  duration?: string;
  timing?: string;
  topology?: string;
  livenessBound?: string;
  json?: boolean;
}

/** Run options without the seed. */
export type SeedlessOptions = Omit<ScenarioRunOptions, 'seed' | 'tracer'>;

export function addSimOptions(command: Command): Command {
  return command
    .option('--nodes <n>', `number of nodes (1-${nodesMax}; default: the scenario's)`)
    .option('--faults <list>', `faults to inject: comma-separated of ${faultNames.join(',')}; or all, none (default: the scenario's)`)
    .option('--duration <time>', "virtual length of the fault phase, e.g. 500ms, 30s, 2m (default: the scenario's)")
    .option('--timing <model>', `network timing model: ${timingChoices.join(', ')} (default: the scenario's)`)
    .option('--topology <kind>', `which links exist: ${topologyKinds.join(', ')} (default: the scenario's)`)
    .option('--liveness-bound <time>', "how long the heal phase may take to reach liveness (default: the scenario's)")
    .option('--json', 'print one JSON object instead of the human summary');
}

export function parseSeed(text: string, what = 'seed'): number {
  if (!/^\d+$/.test(text.trim())) throw new ConcordError(ErrorCode.InvalidArgument, `${what} must be a non-negative integer, got "${text}"`);
  const value = Number(text.trim());
  if (!Number.isSafeInteger(value)) throw new ConcordError(ErrorCode.InvalidArgument, `${what} is too large: ${text}`);
  return value;
}

export function parseSimOptions(raw: RawSimOptions): SeedlessOptions {
  const options: { -readonly [K in keyof SeedlessOptions]: SeedlessOptions[K] } = {};
  if (raw.nodes !== undefined) {
    const nodes = parseSeed(raw.nodes, '--nodes');
    if (nodes < 1 || nodes > nodesMax) throw new ConcordError(ErrorCode.InvalidArgument, `--nodes must be in [1, ${nodesMax}], got ${nodes}`);
    options.nodes = nodes;
  }
  if (raw.faults !== undefined) options.faults = parseFaults(raw.faults);
  if (raw.duration !== undefined) options.durationMs = parseDurationMs(raw.duration);
  if (raw.livenessBound !== undefined) options.livenessBoundMs = parseDurationMs(raw.livenessBound);
  if (raw.timing !== undefined) {
    if (!(timingChoices as readonly string[]).includes(raw.timing)) {
      throw new ConcordError(ErrorCode.InvalidArgument, `unknown --timing "${raw.timing}" (known: ${timingChoices.join(', ')})`);
    }
    options.timing = raw.timing as TimingChoice;
  }
  if (raw.topology !== undefined) {
    if (!(topologyKinds as readonly string[]).includes(raw.topology)) {
      throw new ConcordError(ErrorCode.InvalidArgument, `unknown --topology "${raw.topology}" (known: ${topologyKinds.join(', ')})`);
    }
    options.topology = raw.topology as TopologyKind;
  }
  return options;
}

/** The exact command that replays `seed` with these options. */
export function replayCommand(scenario: string, seed: number, options: SeedlessOptions): string {
  const parts = ['npx concord sim', scenario, '--seed', String(seed)];
  if (options.nodes !== undefined) parts.push('--nodes', String(options.nodes));
  if (options.faults !== undefined) parts.push('--faults', options.faults.length === 0 ? 'none' : options.faults.join(','));
  if (options.durationMs !== undefined) parts.push('--duration', `${options.durationMs}ms`);
  if (options.livenessBoundMs !== undefined) parts.push('--liveness-bound', `${options.livenessBoundMs}ms`);
  if (options.timing !== undefined) parts.push('--timing', options.timing);
  if (options.topology !== undefined) parts.push('--topology', options.topology);
  return parts.join(' ');
}

/** Makes a command exit with code 2 on usage errors (commander's default is 1). */
export function usageErrorsExit2(command: Command): Command {
  return command.exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : 2);
  });
}

/** Runs a command body; a `ConcordError` of bad input prints a clear message and exits 2. */
export async function withUsageErrors(body: () => Promise<void> | void): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (error instanceof ConcordError && (error.code === ErrorCode.InvalidArgument || error.code === ErrorCode.InvalidConfig)) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}
