import { Buffer } from 'node:buffer';
import { cpus, loadavg } from 'node:os';
import { constants, performance, PerformanceObserver } from 'node:perf_hooks';
import { IncrementalSnapshot } from '../protocols/raft/incremental-snapshot.js';
import { KvStateMachine } from '../protocols/raft/kv.js';
import { SessionTable } from '../protocols/raft/sessions.js';
import { frameBytes } from '../protocols/raft/state-machine.js';
import type { SnapshotMeta } from '../protocols/raft/types.js';
import { percentile } from './stats.js';

/**
 * `npm run bench:snapshot`: what one Raft snapshot of a KvStateMachine costs the event loop, the
 * synchronous path (`frameBytes(header, machine.snapshot())`, what the core did in one step
 * before incremental snapshots and still does for a state machine without `beginSnapshot`)
 * against the incremental one (`IncrementalSnapshot` over `beginSnapshot()`, advanced
 * `--step-bytes` per step, as the core does once per input). Keys are 16 bytes, values 128
 * bytes, the recent-changes ring full (10 000 changes), the session table empty.
 *
 * Per run: the longest single synchronous step (ms), the longest step during which no major
 * (mark-compact) GC ran, the major GCs (from a `PerformanceObserver`) and the snapshot's total
 * CPU (user + system of the process, GC threads included). Incremental runs apply one put to an
 * existing key between steps (the copy-on-write path; the put is not timed as part of a step,
 * but its CPU is in the total); a run without puts first checks that both paths give the same
 * bytes. The steps run back to back (a busy node): V8's concurrent marker gets no idle time.
 *
 * Options: --keys 10000,1000000  --runs 3  --step-bytes 65536
 */
function argument(name: string): string | undefined {
  const position = process.argv.indexOf(`--${name}`);
  return position >= 0 ? process.argv[position + 1] : undefined;
}

const keyCounts = (argument('keys') ?? '10000,1000000').split(',').map(Number);
const runs = Number(argument('runs') ?? 3);
const stepBytes = Number(argument('step-bytes') ?? 1 << 16);
const header = { sessions: new SessionTable(10_000).snapshot() };

function keyOf(index: number): string {
  return `key${index.toString(16).padStart(13, '0')}`;
}

function buildMachine(keys: number): KvStateMachine {
  const machine = new KvStateMachine();
  for (let index = 0; index < keys; index += 1) machine.apply({ op: 'put', key: keyOf(index), value: `${index}:`.padEnd(128, 'v') });
  return machine;
}

function metaOf(machine: KvStateMachine): SnapshotMeta {
  return { index: machine.revision, term: 1, membership: { voters: ['n1'], outgoingVoters: [], learners: [], learnersNext: [], autoLeave: false } };
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

/** Major (mark-compact) GC pauses seen by a `PerformanceObserver`; delivered asynchronously. */
const majorGcs: { start: number; end: number }[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if ((entry as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorGcs.push({ start: entry.startTime, end: entry.startTime + entry.duration });
  }
}).observe({ entryTypes: ['gc'] });

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

interface Row {
  readonly path: 'synchronous' | 'incremental';
  readonly keys: number;
  readonly imageBytes: number;
  readonly steps: number;
  /** The step that starts the snapshot (captures the record list, encodes the header, first piece). */
  readonly firstStepMs: number;
  readonly longestStepMs: number;
  /** The longest step during which no major GC ran. */
  readonly longestStepWithoutMajorGcMs: number;
  readonly p99StepMs: number;
  readonly totalStepMs: number;
  readonly cpuMs: number;
  readonly majorGcs: number;
  readonly majorGcMs: number;
}

type Step = { start: number; end: number };

/** Summarizes timed steps once the GC entries of the run have arrived. */
async function summarize(path: Row['path'], keys: number, imageBytes: number, steps: readonly Step[], cpu: number): Promise<Row> {
  await settle();
  const first = steps[0]!.start;
  const last = steps[steps.length - 1]!.end;
  const gcs = majorGcs.filter((gc) => gc.end > first && gc.start < last);
  const overlapsGc = (step: Step): boolean => gcs.some((gc) => gc.end > step.start && gc.start < step.end);
  const durations = steps.map((step) => step.end - step.start);
  const sorted = [...durations].sort((a, b) => a - b);
  const withoutGc = steps.filter((step) => !overlapsGc(step)).map((step) => step.end - step.start);
  return {
    path,
    keys,
    imageBytes,
    steps: steps.length,
    firstStepMs: durations[0]!,
    longestStepMs: sorted[sorted.length - 1]!,
    longestStepWithoutMajorGcMs: withoutGc.length === 0 ? Number.NaN : Math.max(...withoutGc),
    p99StepMs: percentile(sorted, 99),
    totalStepMs: durations.reduce((sum, ms) => sum + ms, 0),
    cpuMs: cpu,
    majorGcs: gcs.length,
    majorGcMs: gcs.reduce((sum, gc) => sum + (gc.end - gc.start), 0),
  };
}

async function synchronousRun(machine: KvStateMachine): Promise<Row> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const data = frameBytes(header, machine.snapshot());
  const end = performance.now();
  return summarize('synchronous', machine.size, data.length, [{ start, end }], cpuMs(cpu));
}

async function incrementalRun(machine: KvStateMachine, putsBetweenSteps: boolean): Promise<{ row: Row; data: Uint8Array }> {
  const keys = machine.size;
  const steps: Step[] = [];
  let put = 0;
  let data: Uint8Array | null = null;
  const cpu = process.cpuUsage();
  let start = performance.now();
  const snapshot = new IncrementalSnapshot(metaOf(machine), header, machine.beginSnapshot());
  for (;;) {
    data = snapshot.advance(stepBytes);
    steps.push({ start, end: performance.now() });
    if (data !== null) break;
    if (putsBetweenSteps) {
      put += 1;
      machine.apply({ op: 'put', key: keyOf((put * 7919) % keys), value: `${put}:`.padEnd(128, 'w') });
    }
    start = performance.now();
  }
  const cpuUsed = cpuMs(cpu);
  return { row: await summarize('incremental', keys, data.length, steps, cpuUsed), data };
}

function print(row: Row, run: number): void {
  const fixed = (ms: number): string => ms.toFixed(ms < 10 ? 2 : 1);
  process.stdout.write(
    `  ${row.keys.toLocaleString('en-US')} keys, ${row.path.padEnd(11)} run ${run}: image ${(row.imageBytes / 1e6).toFixed(1)} MB, ${row.steps} step(s), ` +
      `first ${fixed(row.firstStepMs)} ms, longest ${fixed(row.longestStepMs)} ms (without a major GC: ${fixed(row.longestStepWithoutMajorGcMs)} ms), ` +
      `p99 ${fixed(row.p99StepMs)} ms, steps total ${fixed(row.totalStepMs)} ms, CPU ${fixed(row.cpuMs)} ms, ${row.majorGcs} major GC(s) ${fixed(row.majorGcMs)} ms\n`,
  );
  process.stdout.write(`  ${JSON.stringify({ benchmark: 'raft-snapshot', stepBytes, run, ...row })}\n`);
}

async function main(): Promise<void> {
  const started = performance.now();
  process.stdout.write(
    `bench:snapshot — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, load average ${loadavg().map((load) => load.toFixed(2)).join(' ')}; ` +
      `16 B keys, 128 B values, step budget ${stepBytes} B\n`,
  );
  for (const keys of keyCounts) {
    const machine = buildMachine(keys);
    const expected = frameBytes(header, machine.snapshot());
    const check = await incrementalRun(machine, false);
    const same = Buffer.compare(Buffer.from(expected.buffer, expected.byteOffset, expected.length), Buffer.from(check.data.buffer, check.data.byteOffset, check.data.length)) === 0;
    process.stdout.write(`  ${keys.toLocaleString('en-US')} keys: incremental image identical to the synchronous one: ${same} (${expected.length} bytes)\n`);
    if (!same) throw new Error('incremental snapshot differs from the synchronous one');
    for (let run = 1; run <= runs; run += 1) {
      print(await synchronousRun(machine), run);
      print((await incrementalRun(machine, true)).row, run);
    }
  }
  process.stdout.write(`done in ${((performance.now() - started) / 1000).toFixed(1)} s; load average now ${loadavg().map((load) => load.toFixed(2)).join(' ')}\n`);
}

await main();
