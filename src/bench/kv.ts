#!/usr/bin/env node
/**
 * `npm run bench:kv`: concord's KV service side by side with etcd 3.4 in one run, on one machine,
 * with the shared workload generator (`load.mjs`): 16-byte keys, 128-byte values, closed-loop
 * clients C = 1, 16, 64; puts to the leader and to a follower; linearizable and serializable gets.
 * Scenarios alternate between the two systems so that background load hits both alike.
 *
 *   node dist/bench/kv.js [--seconds 6] [--warmup-seconds 3] [--clients 1,16,64] [--etcd-dir ../shared/bench/etcd]
 *                         [--only put-leader,...] [--node-args '--forward-writes http'] [--json out.jsonl] [--rounds 1]
 *
 * Prints a markdown table (ops/s, p50, p99, server CPU per operation, concord/etcd ratio) with the
 * command, the machine and its load average before and after; the default run takes ~4–5 minutes (7.5 with 8 s rows on a loaded machine).
 * `--rounds N` repeats the whole list N times on the same two clusters and adds a table of
 * per-scenario medians: on this noisy machine one round's ratio can move by ±15 %.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { LocalCluster, freePorts } from '../kv/local-cluster.js';
import { medianTable, ratioOf, type LoadLine, type Measured, type Scenario } from './kv-rounds.js';

const etcdEndpoints = ['http://127.0.0.1:2379', 'http://127.0.0.1:22379', 'http://127.0.0.1:32379'];

interface Options { seconds: number; warmupSeconds: number; clients: number[]; etcdDir: string; only: string[] | null; nodeArgs: string[]; json: string | null; rounds: number }

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { seconds: 6, warmupSeconds: 3, clients: [1, 16, 64], etcdDir: '', only: null, nodeArgs: [], json: null, rounds: 1 };
  for (let index = 0; index < argv.length; index += 1) {
    const value = (): string => {
      const next = argv[index + 1];
      if (next === undefined) throw new Error(`missing value for ${argv[index]}`);
      index += 1;
      return next;
    };
    switch (argv[index]) {
      case '--seconds': options.seconds = Number(value()); break;
      case '--warmup-seconds': options.warmupSeconds = Number(value()); break;
      case '--clients': options.clients = value().split(',').map(Number); break;
      case '--etcd-dir': options.etcdDir = value(); break;
      case '--only': options.only = value().split(','); break;
      case '--node-args': options.nodeArgs = value().split(/\s+/).filter(Boolean); break;
      case '--json': options.json = value(); break;
      case '--rounds': options.rounds = Number(value()); break;
      default: throw new Error(`unknown argument ${argv[index]}`);
    }
  }
  if (!(options.seconds > 0 && options.seconds <= 120)) throw new Error('--seconds must be in (0, 120]');
  if (!(Number.isInteger(options.rounds) && options.rounds >= 1 && options.rounds <= 20)) throw new Error('--rounds must be an integer in [1, 20]');
  if (options.etcdDir === '') {
    const candidates = [path.resolve('../shared/bench/etcd'), '/work/shared/bench/etcd'];
    options.etcdDir = candidates.find((candidate) => existsSync(path.join(candidate, 'load.mjs'))) ?? '';
    if (options.etcdDir === '') throw new Error('cannot find the shared etcd bench directory; pass --etcd-dir');
  }
  return options;
}

function scenarios(clientCounts: readonly number[]): Scenario[] {
  const list: Scenario[] = [];
  for (const clients of clientCounts) list.push({ name: 'put-leader', op: 'put', target: 'leader', serializable: false, clients });
  for (const clients of clientCounts) list.push({ name: 'put-follower', op: 'put', target: 'follower', serializable: false, clients });
  for (const clients of clientCounts) list.push({ name: 'get-linearizable-leader', op: 'get', target: 'leader', serializable: false, clients });
  for (const clients of clientCounts) list.push({ name: 'get-serializable-leader', op: 'get', target: 'leader', serializable: true, clients });
  list.push({ name: 'get-linearizable-follower', op: 'get', target: 'follower', serializable: false, clients: Math.max(...clientCounts) });
  return list;
}

function post(url: string, body: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', timeout: 2_000, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (error) {
          reject(error);
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
    request.end(body);
  });
}

async function etcdRoles(): Promise<{ leader: string; follower: string }> {
  const statuses = await Promise.all(etcdEndpoints.map((endpoint) => post(`${endpoint}/v3/maintenance/status`, '{}')));
  const leaderIndex = statuses.findIndex((status) => status.header?.member_id === status.leader);
  if (leaderIndex < 0) throw new Error('etcd has no leader');
  return { leader: etcdEndpoints[leaderIndex]!, follower: etcdEndpoints[(leaderIndex + 1) % 3]! };
}

async function concordRoles(cluster: LocalCluster): Promise<{ leader: string; follower: string }> {
  const leader = await cluster.waitForLeader(15_000);
  const follower = [...cluster.nodes.keys()].find((id) => id !== leader)!;
  return { leader: cluster.node(leader).httpUrl, follower: cluster.node(follower).httpUrl };
}

function etcdPids(): number[] {
  const file = '/tmp/etcd-anchor/pids';
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').map((line) => Number(line.split(' ')[0])).filter((pid) => pid > 0);
}

function runLoad(etcdDir: string, api: 'etcd' | 'concord', endpoint: string, scenario: Scenario, seconds: number, pids: readonly number[]): LoadLine {
  const args = [path.join(etcdDir, 'load.mjs'), '--api', api, '--endpoint', endpoint, '--op', scenario.op, '--clients', String(scenario.clients), '--seconds', String(seconds), '--watch-pids', pids.join(',')];
  if (scenario.serializable) args.push('--serializable');
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: (seconds + 180) * 1000 });
  const line = result.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as LoadLine;
  } catch {
    throw new Error(`load.mjs failed (${api}, ${scenario.name}): ${result.stderr.slice(0, 500)}`);
  }
}

const cpuPerOpMs = (line: LoadLine): string => (line.server_cpu_pct === undefined || line.ops_per_s === 0 ? '-' : ((line.server_cpu_pct / 100) * 1000 / line.ops_per_s).toFixed(3));

/** The anchor needs etcd 3.4 (Debian: etcd-server, etcd-client) and the shared cluster script. */
function requireEtcd(clusterScript: string): void {
  const missing = [process.env.ETCD ?? '/usr/bin/etcd', process.env.ETCDCTL ?? '/usr/bin/etcdctl', clusterScript].filter((file) => !existsSync(file));
  if (missing.length === 0) return;
  process.stderr.write(`bench:kv needs ${missing.join(', ')}: install etcd with \`apt-get install etcd-server etcd-client\` (or set ETCD/ETCDCTL), and pass --etcd-dir if ../shared/bench/etcd is elsewhere\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const list = scenarios(options.clients).filter((scenario) => options.only === null || options.only.includes(scenario.name));
  const clusterScript = path.join(options.etcdDir, 'cluster.sh');
  requireEtcd(clusterScript);
  const dataRoot = mkdtempSync(path.join(os.tmpdir(), 'concord-bench-'));
  const ports = await freePorts(6);
  const cluster = new LocalCluster({ size: 3, httpPorts: ports.slice(0, 3), peerPorts: ports.slice(3), dataRoot, extraArgs: ['--log-level', 'warn', ...options.nodeArgs] });
  const rows: string[] = [];
  const measured: Measured[] = [];
  const startedAt = new Date();
  const loadBefore = loadAverage();
  let walIo = 'concord WAL io: not read';
  let etcdStarted = false;
  const teardown = async (): Promise<void> => {
    await cluster.stopAll();
    rmSync(dataRoot, { recursive: true, force: true });
    if (etcdStarted) spawnSync('bash', [clusterScript, 'down'], { stdio: 'ignore', timeout: 30_000 });
  };
  // Interrupted (Ctrl-C or kill): stop both clusters before exiting.
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) process.on(signal, () => void teardown().then(() => process.exit(code)));
  try {
    execFileSync('bash', [clusterScript, 'up'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
    etcdStarted = true;
    cluster.startAll();
    await cluster.waitHealthy(30_000);
    const concordPids = [...cluster.nodes.values()].map((node) => node.process!.pid!);
    const etcdRole = await etcdRoles();
    const concordRole = await concordRoles(cluster);
    process.stderr.write(`etcd leader ${etcdRole.leader}; concord leader ${concordRole.leader}; ${list.length} scenarios × 2 systems × ${options.seconds} s\n`);
    // Warm-up, discarded: puts and gets on both systems (concord's JIT compiles its hot paths).
    for (const warm of [{ op: 'put', serializable: false }, { op: 'get', serializable: false }] as const) {
      const scenario: Scenario = { name: `warm-up-${warm.op}`, op: warm.op, target: 'leader', serializable: warm.serializable, clients: 16 };
      runLoad(options.etcdDir, 'etcd', etcdRole.leader, scenario, options.warmupSeconds, []);
      runLoad(options.etcdDir, 'concord', concordRole.leader, scenario, options.warmupSeconds, []);
    }
    for (let round = 1; round <= options.rounds; round += 1) {
      if (options.rounds > 1) rows.push(`| round ${round} of ${options.rounds} |||||||||||||`);
      for (const scenario of list) {
        const etcd = runLoad(options.etcdDir, 'etcd', etcdRole[scenario.target], scenario, options.seconds, etcdPids());
        const concord = runLoad(options.etcdDir, 'concord', concordRole[scenario.target], scenario, options.seconds, concordPids);
        if (options.json !== null) appendFileSync(options.json, `${JSON.stringify({ round, scenario, etcd, concord })}\n`);
        measured.push({ scenario, etcd, concord });
        const row = formatRow({ scenario, etcd, concord });
        rows.push(row);
        process.stderr.write(`${row}\n`);
      }
    }
    walIo = await walIoSummary(cluster);
  } finally {
    await teardown();
  }
  process.stdout.write([
    `command: node dist/bench/kv.js ${process.argv.slice(2).join(' ')}`.trimEnd() + `   (commit ${gitCommit()}, ${startedAt.toISOString().slice(0, 16)}Z, ${Math.round((Date.now() - startedAt.getTime()) / 1000)} s)`,
    `load average (1/5/15 min): ${loadBefore} before, ${loadAverage()} after; "other CPU %" = CPU used by everything but the servers and load.mjs during the row (200 % = 2 cores)`,
    walIo,
    `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}; ${options.seconds} s per run after 1 s warm-up; both systems warmed up first (${options.warmupSeconds} s of puts and of gets, C=16)`,
    '',
    '| scenario | C | etcd ops/s | etcd p50 ms | etcd p99 ms | etcd CPU ms/op | concord ops/s | concord p50 ms | concord p99 ms | concord CPU ms/op | concord/etcd ops | errors e/c | other CPU % e/c |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    ...(options.rounds > 1 ? medianTable(measured) : []),
  ].join('\n'));
}

/**
 * Whether `--wal-io auto` kept each node's group commits inline for the whole run: the share of
 * its fsyncs that ran inline, and the mode at the end (from each node's /metrics).
 */
async function walIoSummary(cluster: LocalCluster): Promise<string> {
  const parts: string[] = [];
  for (const node of cluster.nodes.values()) {
    try {
      const text = await (await fetch(`${node.httpUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
      const metric = (name: string): number => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
      const inline = metric('concord_wal_inline_batches_total');
      const syncs = metric('concord_wal_syncs_total');
      parts.push(`${node.id} ${metric('concord_wal_inline_io') === 1 ? 'inline' : 'thread pool'} at the end, ${inline} of ${syncs} syncs inline`);
    } catch (error) {
      parts.push(`${node.id} unreadable (${(error as Error).message})`);
    }
  }
  return `concord WAL io: ${parts.join('; ')}`;
}

function formatRow({ scenario, etcd, concord }: Measured): string {
  const ratio = ratioOf(etcd, concord)?.toFixed(2) ?? '-';
  return `| ${scenario.name} | ${scenario.clients} | ${etcd.ops_per_s} | ${etcd.p50_ms} | ${etcd.p99_ms} | ${cpuPerOpMs(etcd)} | ${concord.ops_per_s} | ${concord.p50_ms} | ${concord.p99_ms} | ${cpuPerOpMs(concord)} | ${ratio} | ${etcd.errors}/${concord.errors} | ${etcd.other_cpu_pct ?? '-'}/${concord.other_cpu_pct ?? '-'} |`;
}

function loadAverage(): string {
  return os.loadavg().map((value) => value.toFixed(2)).join('/');
}

function gitCommit(): string {
  const result = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', timeout: 5_000 });
  if (result.status !== 0) return 'unknown';
  // Say so when the measured build is not exactly the commit (uncommitted changes to tracked files).
  const changes = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', timeout: 5_000 });
  return `${result.stdout.trim()}${changes.status === 0 && changes.stdout.trim() !== '' ? ' + uncommitted changes' : ''}`;
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
