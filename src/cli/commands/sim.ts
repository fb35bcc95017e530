import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { historyToJsonLines } from '../../core/history.js';
import { getScenario, listScenarios } from '../../scenarios/index.js';
import { addSimOptions, parseSeed, parseSimOptions, replayCommand, usageErrorsExit2, withUsageErrors, type RawSimOptions } from '../sim-options.js';
import { formatResult, resultToJson } from '../sim-report.js';

interface RawSimCommandOptions extends RawSimOptions {
  seed?: string;
  history?: string;
}

/** `concord sim <scenario>`: one seeded run; exit 1 on a violated property, 2 on bad options. */
export function registerSimCommand(program: Command): void {
  const command = program
    .command('sim')
    .description('run one deterministic simulation of a scenario (replayable from its seed)')
    .argument('<scenario>', `scenario name (${listScenarios().map((scenario) => scenario.name).join(', ')})`)
    .option('--seed <n>', 'root seed of the run (default: a random one, printed)')
    .option('--history <file>', 'write the client history as JSON lines to this file');
  addSimOptions(command);
  usageErrorsExit2(command);
  command.action((name: string, raw: RawSimCommandOptions) =>
    withUsageErrors(() => {
      const scenario = getScenario(name);
      const options = parseSimOptions(raw);
      const seed = raw.seed === undefined ? randomInt(0, 2 ** 31) : parseSeed(raw.seed);
      const replay = replayCommand(name, seed, options);
      const started = performance.now();
      const result = scenario.run({ ...options, seed });
      const wallMs = performance.now() - started;
      if (raw.history !== undefined) writeFileSync(raw.history, historyToJsonLines(result.history));
      process.stdout.write(raw.json === true ? `${JSON.stringify(resultToJson(result, replay))}\n` : `${formatResult(result, replay, wallMs)}\n`);
      if (result.violations.length > 0) process.exitCode = 1;
    }),
  );
}
