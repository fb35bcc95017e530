import { performance } from 'node:perf_hooks';
import { cpus } from 'node:os';
import { hashPingMessage, pingFactory, type PingCore, type PingMessage, type PingRecord, type PingReply, type PingRequest } from '../protocols/ping/index.js';
import { Simulation } from '../sim/simulation.js';

/**
 * `npm run bench:sim`: simulated message deliveries per wall-clock second on one core, for a
 * 100-node ping workload (every node pings all 99 peers every tick; peers echo). Synchronous
 * network, no faults, trace hash on (as in every run). Options: `--nodes N`, `--deliveries N`
 * (measured deliveries after warm-up), `--runs N` (best and median are reported).
 */
function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const nodes = argument('nodes', 100);
const deliveriesTarget = argument('deliveries', 5_000_000);
const runs = argument('runs', 3);

function createSimulation(seed: number): Simulation<PingCore, PingMessage, PingRecord, PingRequest, PingReply> {
  const ids = Array.from({ length: nodes }, (_, index) => `n${index + 1}`);
  return new Simulation({
    seed,
    nodes: ids,
    factory: pingFactory({ pingIntervalTicks: 1, fanout: null, outstandingMax: 4096 }),
    timing: { kind: 'synchronous', delayUsMin: 100, deltaUs: 2000 },
    tickIntervalMs: 10,
    fsyncLatencyUs: 100,
    hashMessage: hashPingMessage,
  });
}

/** Runs until `deliveries` more messages were delivered; returns [deliveries, wall ms, events]. */
function measure(sim: Simulation<PingCore, PingMessage, PingRecord, PingRequest, PingReply>, deliveries: number): [number, number, number] {
  const startDeliveries = sim.stats.deliveries;
  const startEvents = sim.stats.events;
  const started = performance.now();
  while (sim.stats.deliveries - startDeliveries < deliveries) sim.run(sim.now + 100_000);
  const wallMs = performance.now() - started;
  return [sim.stats.deliveries - startDeliveries, wallMs, sim.stats.events - startEvents];
}

const rates: number[] = [];
let lastHash = '';
for (let run = 0; run < runs; run += 1) {
  const sim = createSimulation(run + 1);
  sim.startAll();
  measure(sim, Math.min(1_000_000, deliveriesTarget)); // warm-up: JIT, heap growth
  const [deliveries, wallMs, events] = measure(sim, deliveriesTarget);
  const rate = deliveries / (wallMs / 1000);
  rates.push(rate);
  lastHash = sim.traceHash();
  process.stdout.write(
    `run ${run + 1}: ${deliveries} deliveries (${events} events) in ${wallMs.toFixed(0)} ms → ${Math.round(rate).toLocaleString('en-US')} deliveries/s, virtual ${(sim.now / 1e6).toFixed(2)} s\n`,
  );
}
rates.sort((a, b) => a - b);
const median = rates[Math.floor(rates.length / 2)]!;
const best = rates.at(-1)!;
process.stdout.write(
  `\nbench:sim ${nodes}-node ping: median ${Math.round(median).toLocaleString('en-US')} deliveries/s, best ${Math.round(best).toLocaleString('en-US')} deliveries/s ` +
    `(goal 1,000,000) — node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, last trace ${lastHash}\n`,
);
process.stdout.write(`${JSON.stringify({ benchmark: 'sim', nodes, medianDeliveriesPerSecond: Math.round(median), bestDeliveriesPerSecond: Math.round(best) })}\n`);
