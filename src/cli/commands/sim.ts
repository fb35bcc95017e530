import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { historyToJsonLines } from '../../core/history.js';
import type { TraceRecord } from '../../sim/simulation.js';
import { getScenario, listScenarios } from '../../scenarios/index.js';
import { addSimOptions, parseSeed, parseSimOptions, replayCommand, usageErrorsExit2, withUsageErrors, type RawSimOptions } from '../sim-options.js';
import { formatResult, resultToJson } from '../sim-report.js';

interface RawSimCommandOptions extends RawSimOptions {
  seed?: string;
  history?: string;
  trace?: string;
}

/** JSON for trace details: typed arrays as arrays, Maps as entry lists, bigints as strings. */
function traceReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return Array.from(value);
  if (value instanceof Map) return [...value.entries()];
  if (value instanceof Set) return [...value.values()];
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** `concord sim <scenario>`: one seeded run; exit 1 on a violated property, 2 on bad options. */
export function registerSimCommand(program: Command): void {
  const command = program
    .command('sim')
    .description('run one deterministic simulation of a scenario (replayable from its seed)')
    .argument('<scenario>', `scenario name (${listScenarios().map((scenario) => scenario.name).join(', ')})`)
    .option('--seed <n>', 'root seed of the run (default: a random one, printed)')
    .option('--history <file>', 'write the client history as JSON lines to this file')
    .option('--trace <file>', 'write every processed event (time, kind, node, message …) as JSON lines to this file');
  addSimOptions(command);
  usageErrorsExit2(command);
  command.action((name: string, raw: RawSimCommandOptions) =>
    withUsageErrors(() => {
      const scenario = getScenario(name);
      const options = parseSimOptions(raw);
      const seed = raw.seed === undefined ? randomInt(0, 2 ** 31) : parseSeed(raw.seed);
      const replay = replayCommand(name, seed, options);
      const trace: string[] = [];
      const tracer = raw.trace === undefined ? undefined : (record: TraceRecord): void => void trace.push(JSON.stringify(record, traceReplacer));
      const started = performance.now();
      const result = scenario.run({ ...options, seed, ...(tracer !== undefined ? { tracer } : {}) });
      const wallMs = performance.now() - started;
      if (raw.history !== undefined) writeFileSync(raw.history, historyToJsonLines(result.history));
      if (raw.trace !== undefined) writeFileSync(raw.trace, trace.length === 0 ? '' : `${trace.join('\n')}\n`);
      process.stdout.write(raw.json === true ? `${JSON.stringify(resultToJson(result, replay))}\n` : `${formatResult(result, replay, wallMs)}\n`);
      if (result.violations.length > 0) process.exitCode = 1;
    }),
  );
}
