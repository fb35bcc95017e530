/**
 * `npm run bench:check`: single-threaded checking time on Porcupine's test histories, parsing
 * and encoding excluded, minimum (and median) of several runs, beside Porcupine's reference
 * figures (Go, GOMAXPROCS=1, same machine kind, from ../shared/porcupine/README.md).
 *
 * Usage: node dist/bench/check.js [--runs N] [--only SUBSTRING] [--json]
 */
import { cpus, loadavg } from 'node:os';
import { checkOperations, encodeHistory, type CheckResult } from '../check/index.js';
import { findPorcupineData, modelFor, readCase, readExpectedVerdicts, type PorcupineCase } from '../check/porcupine-data.js';

interface Target {
  readonly name: string;
  readonly cases: readonly PorcupineCase[];
  readonly porcupineMs: number | undefined;
}

interface Measurement {
  readonly name: string;
  readonly minMs: number;
  /** Minimum process CPU time (user + system) over the runs: less sensitive to other load. */
  readonly minCpuMs: number;
  readonly medianMs: number;
  readonly firstMs: number;
  readonly runs: number;
  readonly porcupineMs: number | undefined;
}

function main(): void {
  const args = process.argv.slice(2);
  const runsIndex = args.indexOf('--runs');
  const runs = runsIndex >= 0 ? Number(args[runsIndex + 1]) : 7;
  const json = args.includes('--json');
  const onlyIndex = args.indexOf('--only');
  const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;
  const directory = findPorcupineData();
  if (directory === undefined) {
    console.error('Porcupine test data not found: set CONCORD_PORCUPINE_DIR to the directory holding expected-verdicts.tsv');
    process.exit(2);
  }
  const all = readExpectedVerdicts(directory);
  const pick = (file: string, variant: PorcupineCase['variant']): PorcupineCase[] => all.filter((row) => row.file === file && row.variant === variant);
  const targets: Target[] = [
    { name: 'all 103 etcd logs (sum)', cases: all.filter((row) => row.variant === 'etcd'), porcupineMs: 458 },
    { name: 'etcd_002', cases: pick('jepsen/etcd_002.log', 'etcd'), porcupineMs: 178 },
    { name: 'etcd_007', cases: pick('jepsen/etcd_007.log', 'etcd'), porcupineMs: 121 },
    { name: 'etcd_057 (not linearizable)', cases: pick('jepsen/etcd_057.log', 'etcd'), porcupineMs: 54 },
    { name: 'kv c50-ok, per-key partitions', cases: pick('kv/c50-ok.txt', 'kv'), porcupineMs: 182 },
    { name: 'kv c50-bad, per-key partitions', cases: pick('kv/c50-bad.txt', 'kv'), porcupineMs: 7.5 },
    { name: 'kv c10-ok, no partitioning', cases: pick('kv/c10-ok.txt', 'kvnp'), porcupineMs: 2541 },
    { name: 'kv c10-bad, no partitioning', cases: pick('kv/c10-bad.txt', 'kvnp'), porcupineMs: 3026 },
  ];
  const parsed = new Map(all.map((row) => [row.file, readCase(directory, row)]));
  const chosen = targets.filter((target) => only === undefined || target.name.includes(only));
  const measurements = chosen.map((target) => measure(target, runs, parsed));
  if (json) {
    console.log(JSON.stringify({ node: process.version, cpu: cpus()[0]?.model, cpus: cpus().length, loadAverage: loadavg(), runs, measurements }, null, 2));
    return;
  }
  const load = loadavg().map((value) => value.toFixed(2)).join(' ');
  console.log(`concord check benchmark — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load average ${load}, ${runs} runs, checking only`);
  console.log(['history'.padEnd(32), 'min ms'.padStart(9), 'cpu ms'.padStart(9), 'median'.padStart(9), 'first'.padStart(9), 'Porcupine'.padStart(10), 'ratio'.padStart(7)].join(''));
  for (const m of measurements) {
    const ratio = m.porcupineMs === undefined ? '' : (m.minMs / m.porcupineMs).toFixed(2);
    const cells = [m.minMs, m.minCpuMs, m.medianMs, m.firstMs].map((value) => value.toFixed(1).padStart(9));
    console.log([m.name.padEnd(32), ...cells, String(m.porcupineMs ?? '').padStart(10), ratio.padStart(7)].join(''));
  }
  console.log('ratio = min ms / Porcupine ms (Porcupine: Go, GOMAXPROCS=1, from ../shared/porcupine/README.md, not measured in this run)');
}

function measure(target: Target, runs: number, parsed: ReadonlyMap<string, ReturnType<typeof readCase>>): Measurement {
  const times: number[] = [];
  let minCpuMs = Infinity;
  for (let run = 0; run < runs; run++) {
    let total = 0;
    let cpu = 0;
    for (const testCase of target.cases) {
      // A fresh model per run: its value table and append memo start empty, as on a first check.
      const model = modelFor(testCase);
      const history = parsed.get(testCase.file)!;
      const { operations } = encodeHistory(model, history.events, history);
      const cpuStarted = process.cpuUsage();
      const started = performance.now();
      const result: CheckResult = checkOperations(model, operations);
      total += performance.now() - started;
      const used = process.cpuUsage(cpuStarted);
      cpu += (used.user + used.system) / 1000;
      const expected = testCase.expectedLinearizable ? 'linearizable' : 'not-linearizable';
      if (result.verdict !== expected) throw new Error(`${testCase.file} (${testCase.variant}): got ${result.verdict}, expected ${expected}`);
    }
    times.push(total);
    minCpuMs = Math.min(minCpuMs, cpu);
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { name: target.name, minMs: sorted[0]!, minCpuMs, medianMs: sorted[Math.floor(sorted.length / 2)]!, firstMs: times[0]!, runs, porcupineMs: target.porcupineMs };
}

main();
