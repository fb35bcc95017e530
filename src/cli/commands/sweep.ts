import { performance } from 'node:perf_hooks';
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { listScenarios } from '../../scenarios/index.js';
import { defaultWorkers, failed, runSweep, type SeedOutcome } from '../../scenarios/sweep.js';
import { addSimOptions, parseSeed, parseSimOptions, replayCommand, usageErrorsExit2, withUsageErrors, type RawSimOptions } from '../sim-options.js';

interface RawSweepOptions extends RawSimOptions {
  seeds?: string;
  from?: string;
  workers?: string;
}

/** `concord sweep <scenario> --seeds N`: many seeds in parallel; exit 1 if any seed violates a property. */
export function registerSweepCommand(program: Command): void {
  const command = program
    .command('sweep')
    .description('run a scenario over many seeds in parallel and list the failing seeds with their replay commands')
    .argument('<scenario>', `scenario name (${listScenarios().map((scenario) => scenario.name).join(', ')})`)
    .option('--seeds <n>', 'number of seeds to run', '100')
    .option('--from <seed>', 'first seed', '1')
    .option('--workers <n>', 'worker threads (0 or 1: in-process; default: one per core)');
  addSimOptions(command);
  usageErrorsExit2(command);
  command.action((name: string, raw: RawSweepOptions) => withUsageErrors(() => sweepAction(name, raw)));
}

async function sweepAction(name: string, raw: RawSweepOptions): Promise<void> {
  const options = parseSimOptions(raw);
  const seeds = parseSeed(raw.seeds ?? '100', '--seeds');
  const fromSeed = parseSeed(raw.from ?? '1', '--from');
  const workers = raw.workers === undefined ? defaultWorkers(seeds) : parseSeed(raw.workers, '--workers');
  const bar = process.stderr.isTTY ? new SingleBar({ stream: process.stderr, format: ' {bar} {value}/{total} seeds | {failures} failing | {eta_formatted} left' }, Presets.shades_classic) : null;
  let failures = 0;
  bar?.start(seeds, 0, { failures });
  const started = performance.now();
  let outcomes: SeedOutcome[];
  try {
    outcomes = await runSweep({
      scenario: name,
      fromSeed,
      seeds,
      workers,
      options,
      onProgress: (outcome, done) => {
        if (failed(outcome)) failures += 1;
        bar?.update(done, { failures });
      },
    });
  } finally {
    bar?.stop();
  }
  const wallMs = performance.now() - started;
  const failing = outcomes.filter(failed);
  const replay = (seed: number): string => replayCommand(name, seed, options);
  if (raw.json === true) {
    const report = {
      scenario: name,
      fromSeed,
      seeds,
      workers,
      passed: outcomes.length - failing.length,
      failed: failing.length,
      failures: failing.map((outcome) => ({ ...outcome, replay: replay(outcome.seed) })),
      results: outcomes.map((outcome) => ({ seed: outcome.seed, traceHash: outcome.traceHash, ok: !failed(outcome) })),
      events: outcomes.reduce((sum, outcome) => sum + outcome.events, 0),
      wallMs: Math.round(wallMs),
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    process.stdout.write(`${formatSweep(name, outcomes, failing, { fromSeed, seeds, workers, wallMs }, replay)}\n`);
  }
  if (failing.length > 0) process.exitCode = 1;
}

function formatSweep(
  name: string,
  outcomes: readonly SeedOutcome[],
  failing: readonly SeedOutcome[],
  run: { fromSeed: number; seeds: number; workers: number; wallMs: number },
  replay: (seed: number) => string,
): string {
  const events = outcomes.reduce((sum, outcome) => sum + outcome.events, 0);
  const lines = [
    `concord sweep ${name}: seeds ${run.fromSeed}…${run.fromSeed + run.seeds - 1} on ${Math.max(1, run.workers)} worker(s)`,
    `  ${outcomes.length - failing.length} passed, ${failing.length} failed; ${events} events in ${(run.wallMs / 1000).toFixed(1)}s wall time`,
  ];
  for (const outcome of failing) {
    const first = outcome.violations[0];
    const what = outcome.error ?? (first === undefined ? 'violation' : `${first.checker}: ${first.message} (at ${(first.timeUs / 1000).toFixed(1)}ms)`);
    lines.push(`  ✗ seed ${outcome.seed}: ${what}`, `      replay: ${replay(outcome.seed)}`);
  }
  return lines.join('\n');
}
