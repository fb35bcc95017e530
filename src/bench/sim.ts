import { performance } from 'node:perf_hooks';
import { cpus, loadavg } from 'node:os';
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

interface Measurement {
  readonly deliveries: number;
  readonly events: number;
  readonly wallMs: number;
  /** CPU time of this process (user + system); less sensitive than wall time to other load. */
  readonly cpuMs: number;
}

/** Runs until `deliveries` more messages were delivered. */
function measure(sim: Simulation<PingCore, PingMessage, PingRecord, PingRequest, PingReply>, deliveries: number): Measurement {
  const startDeliveries = sim.stats.deliveries;
  const startEvents = sim.stats.events;
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  while (sim.stats.deliveries - startDeliveries < deliveries) sim.run(sim.now + 100_000);
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  return { deliveries: sim.stats.deliveries - startDeliveries, events: sim.stats.events - startEvents, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

const format = (rate: number): string => Math.round(rate).toLocaleString('en-US');
const wallRates: number[] = [];
const cpuRates: number[] = [];
let lastHash = '';
for (let run = 0; run < runs; run += 1) {
  const sim = createSimulation(run + 1);
  sim.startAll();
  measure(sim, Math.min(1_000_000, deliveriesTarget)); // warm-up: JIT, heap growth
  const result = measure(sim, deliveriesTarget);
  const wallRate = result.deliveries / (result.wallMs / 1000);
  const cpuRate = result.deliveries / (result.cpuMs / 1000);
  wallRates.push(wallRate);
  cpuRates.push(cpuRate);
  lastHash = sim.traceHash();
  process.stdout.write(
    `run ${run + 1}: ${result.deliveries} deliveries (${result.events} events) in ${result.wallMs.toFixed(0)} ms wall / ${result.cpuMs.toFixed(0)} ms CPU → ` +
      `${format(wallRate)} deliveries/s (wall), ${format(cpuRate)}/s (CPU); virtual ${(sim.now / 1e6).toFixed(2)} s\n`,
  );
}
const median = (values: number[]): number => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const best = (values: number[]): number => Math.max(...values);
process.stdout.write(
  `\nbench:sim ${nodes}-node ping: median ${format(median(wallRates))} deliveries per wall-clock second (best ${format(best(wallRates))}; ` +
    `per CPU-second median ${format(median(cpuRates))}) — goal 1,000,000\n` +
    `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, load average ${loadavg().map((load) => load.toFixed(2)).join(' ')}, trace ${lastHash}\n`,
);
process.stdout.write(
  `${JSON.stringify({ benchmark: 'sim', nodes, medianDeliveriesPerSecond: Math.round(median(wallRates)), bestDeliveriesPerSecond: Math.round(best(wallRates)), medianDeliveriesPerCpuSecond: Math.round(median(cpuRates)) })}\n`,
);
