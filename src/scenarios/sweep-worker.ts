import { parentPort, workerData } from 'node:worker_threads';
import { runSeed, type SeedlessRunOptions } from './sweep.js';

/** A sweep worker thread: receives seeds, runs them, answers with each seed's outcome. */
const { scenario, options } = workerData as { scenario: string; options: SeedlessRunOptions };
parentPort!.on('message', (seed: number) => {
  parentPort!.postMessage(runSeed(scenario, seed, options));
});
