import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConcordError, ErrorCode } from '../core/errors.js';
import { resolveSettings } from '../sim/runner.js';
import type { ScenarioResult, ScenarioRunOptions, Violation } from '../sim/scenario.js';
import { getScenario } from './index.js';

/**
 * Sweeps: one scenario over a range of seeds, in parallel on worker threads (each seed is an
 * independent deterministic run, so the outcome does not depend on the number of workers).
 */
export type SeedlessRunOptions = Omit<ScenarioRunOptions, 'seed' | 'tracer'>;

/** What a sweep keeps of one seed's run. */
export interface SeedOutcome {
  readonly seed: number;
  readonly traceHash: string;
  readonly violations: readonly Violation[];
  readonly livenessHeld: boolean | null;
  readonly virtualTimeMs: number;
  readonly events: number;
  readonly deliveries: number;
  /** An unexpected error of the tool itself (not a property violation of the protocol). */
  readonly error?: string;
}

export interface SweepOptions {
  readonly scenario: string;
  readonly fromSeed: number;
  readonly seeds: number;
  /** Worker threads; 0 or 1 runs in-process. */
  readonly workers: number;
  readonly options: SeedlessRunOptions;
  readonly onProgress?: (outcome: SeedOutcome, done: number) => void;
}

export function outcomeOf(result: ScenarioResult): SeedOutcome {
  return {
    seed: result.seed,
    traceHash: result.traceHash,
    violations: result.violations,
    livenessHeld: result.liveness.held,
    virtualTimeMs: result.virtualTimeMs,
    events: result.stats.events,
    deliveries: result.stats.deliveries,
  };
}

export function runSeed(scenario: string, seed: number, options: SeedlessRunOptions): SeedOutcome {
  try {
    return outcomeOf(getScenario(scenario).run({ ...options, seed }));
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { seed, traceHash: '', violations: [], livenessHeld: null, virtualTimeMs: 0, events: 0, deliveries: 0, error: message };
  }
}

export function failed(outcome: SeedOutcome): boolean {
  return outcome.violations.length > 0 || outcome.error !== undefined;
}

export function defaultWorkers(seeds: number): number {
  return Math.max(1, Math.min(availableParallelism(), seeds));
}

/** Runs the sweep; outcomes are returned sorted by seed. */
export async function runSweep(sweep: SweepOptions): Promise<SeedOutcome[]> {
  // Bad options fail here with INVALID_ARGUMENT, before any worker starts.
  const scenario = getScenario(sweep.scenario);
  resolveSettings(scenario.name, scenario.defaults, { ...sweep.options, seed: sweep.fromSeed });
  if (!Number.isInteger(sweep.seeds) || sweep.seeds < 1) throw new ConcordError(ErrorCode.InvalidArgument, `--seeds must be ≥ 1, got ${sweep.seeds}`);
  const outcomes = sweep.workers <= 1 ? await sweepInProcess(sweep) : await sweepOnWorkers(sweep);
  return outcomes.sort((a, b) => a.seed - b.seed);
}

async function sweepInProcess(sweep: SweepOptions): Promise<SeedOutcome[]> {
  const outcomes: SeedOutcome[] = [];
  for (let offset = 0; offset < sweep.seeds; offset += 1) {
    const outcome = runSeed(sweep.scenario, sweep.fromSeed + offset, sweep.options);
    outcomes.push(outcome);
    sweep.onProgress?.(outcome, outcomes.length);
    // Let the event loop breathe (progress bar redraws) between seeds.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return outcomes;
}

/**
 * The compiled worker (`dist/scenarios/sweep-worker.js`) next to this module; when this module
 * runs from TypeScript sources (tests), the compiled one under `dist/` (run `npm run build`).
 */
export function workerUrl(): URL {
  const sibling = new URL('./sweep-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  const compiled = new URL('../../dist/scenarios/sweep-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return compiled;
  throw new ConcordError(ErrorCode.InvalidConfig, 'sweep worker not found: run `npm run build` first, or use --workers 1');
}

async function sweepOnWorkers(sweep: SweepOptions): Promise<SeedOutcome[]> {
  const url = workerUrl();
  const outcomes: SeedOutcome[] = [];
  let nextOffset = 0;
  const workerCount = Math.min(sweep.workers, sweep.seeds);
  const runWorker = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const worker = new Worker(url, { workerData: { scenario: sweep.scenario, options: sweep.options } });
      const feed = (): void => {
        if (nextOffset >= sweep.seeds) {
          void worker.terminate().then(() => resolve(), reject);
          return;
        }
        worker.postMessage(sweep.fromSeed + nextOffset++);
      };
      worker.on('message', (outcome: SeedOutcome) => {
        outcomes.push(outcome);
        sweep.onProgress?.(outcome, outcomes.length);
        feed();
      });
      worker.on('error', reject);
      feed();
    });
  await Promise.all(Array.from({ length: workerCount }, runWorker));
  return outcomes;
}
