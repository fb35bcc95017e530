import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { runLoad } from '../../kv/load.js';
import { endpointList, withClientOptions, type ClientFlags } from '../kv-options.js';

interface BenchFlags extends ClientFlags {
  op: string;
  clients: string;
  seconds: string;
  warmup: string;
  keyBytes: string;
  valueBytes: string;
  keyspace: string;
  serializable?: boolean;
  json?: boolean;
}

/** `concord bench`: closed-loop load with an HDR histogram and a progress bar on a terminal. */
export function registerBench(program: Command): void {
  withClientOptions(program.command('bench').description('closed-loop load against a running cluster: ops/s, p50, p99'))
    .option('--op <op>', 'put | get', 'put')
    .option('--clients <n>', 'concurrent closed-loop clients', '16')
    .option('--seconds <n>', 'measured duration', '10')
    .option('--warmup <n>', 'warm-up seconds (not measured)', '1')
    .option('--key-bytes <n>', 'key size', '16')
    .option('--value-bytes <n>', 'value size', '128')
    .option('--keyspace <n>', 'distinct keys', '10000')
    .option('--serializable', 'gets served by the contacted replica')
    .option('--json', 'print the result as JSON')
    .action(async (flags: BenchFlags) => {
      if (flags.op !== 'put' && flags.op !== 'get') throw new Error('--op must be put or get');
      const seconds = Number(flags.seconds);
      const clients = Number(flags.clients);
      if (!(seconds > 0 && seconds <= 3600) || !(clients >= 1 && clients <= 4096)) throw new Error('--seconds in (0, 3600], --clients in [1, 4096]');
      const bar = process.stderr.isTTY && flags.json !== true ? new cliProgress.SingleBar({ format: 'bench [{bar}] {percentage}% | {ops} ops', stream: process.stderr }, cliProgress.Presets.shades_classic) : null;
      bar?.start(100, 0, { ops: 0 });
      const result = await runLoad({
        endpoints: endpointList(flags),
        op: flags.op,
        clients,
        seconds,
        warmupSeconds: Number(flags.warmup),
        keyBytes: Number(flags.keyBytes),
        valueBytes: Number(flags.valueBytes),
        keyspace: Number(flags.keyspace),
        serializable: flags.serializable === true,
        token: flags.token,
        ...(flags.caFile === undefined ? {} : { ca: readFileSync(flags.caFile) }),
        timeoutMs: Number(flags.timeoutMs),
        onProgress: (done, ops) => bar?.update(Math.round(done * 100), { ops }),
      });
      bar?.stop();
      if (flags.json === true) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
      } else {
        process.stdout.write(`${result.op}, ${result.clients} clients, ${result.seconds} s: ${result.opsPerSecond} ops/s, p50 ${result.p50Ms} ms, p90 ${result.p90Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms, errors ${result.errors}${result.firstError === null ? '' : ` (first: ${result.firstError})`}\n`);
      }
      if (result.errors > 0) process.exitCode = 1;
    });
}
