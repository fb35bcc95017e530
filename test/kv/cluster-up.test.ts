import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEntryPoint } from '../../src/kv/local-cluster.js';
import { ensureBuilt, request } from './cluster-helpers.js';

/**
 * The "done means" of the KV service through the real CLI, as a person runs it: `concord cluster up`
 * (what `npm start` runs) serves the API on consecutive ports; a put through n1 is read through n2;
 * a kill -9 of the leader process elects another and the cluster keeps serving; the dead node,
 * restarted with the command cluster up prints, catches up; a 64-client closed-loop put load
 * through the leader and through a follower has zero errors; Ctrl-C stops every node.
 */

const sharedLoad = ['/work/shared/bench/etcd/load.mjs', path.resolve('../shared/bench/etcd/load.mjs')].find((file) => existsSync(file));

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A base port with `count` consecutive free ports for HTTP and, 100 above, for peers. */
async function consecutivePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const ports = Array.from({ length: count }, (_, index) => [base + index, base + 100 + index]).flat();
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
  }
  throw new Error('no consecutive free ports');
}

/** The pid of the `concord node` process serving `dataDir` (from /proc; cluster up does not print pids). */
function nodePid(dataDir: string): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.includes('node') && args[args.indexOf('--data') + 1] === dataDir) return Number(entry);
    } catch {
      // The process exited meanwhile.
    }
  }
  return null;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | undefined> | T | null | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const value = await probe();
      if (value !== null && value !== undefined) return value;
    } catch (error) {
      lastError = error; // Not yet (connection refused, no leader, …).
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError === null ? '' : ` (last: ${String(lastError)})`}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('concord cluster up (npm start), real processes', () => {
  const dataRoot = mkdtempSync(path.join(os.tmpdir(), 'concord-cluster-up-'));
  let base = 0;
  let up: ChildProcess | null = null;
  let restarted: ChildProcess | null = null;
  let output = '';
  const endpoint = (index: number): string => `http://127.0.0.1:${base + index}`;
  const leaderOf = async (index: number): Promise<string | null> => {
    const status = await request(endpoint(index), 'GET', '/v1/cluster');
    return status.status === 200 ? (status.json.leader as string | null) : null;
  };

  beforeAll(async () => {
    ensureBuilt();
    base = await consecutivePorts(3);
    up = spawn(process.execPath, [cliEntryPoint(), 'cluster', 'up', '--http-port', String(base), '--peer-port', String(base + 100), '--data', dataRoot], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    up.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    up.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    await until('cluster up to report a leader', 30_000, () => (/cluster up, leader n\d/.test(output) ? true : up!.exitCode !== null ? Promise.reject(new Error(output)) : null));
  }, 60_000);

  afterAll(() => {
    // Whatever happened: no process of this test survives it.
    for (const child of [up, restarted]) {
      if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
    for (const id of ['n1', 'n2', 'n3']) {
      const pid = nodePid(path.join(dataRoot, id));
      if (pid !== null) process.kill(pid, 'SIGKILL');
    }
    rmSync(dataRoot, { recursive: true, force: true });
  });

  it('serves a put through n1 and a read through n2; survives a kill -9 of the leader; the restarted node catches up; loads with zero errors; Ctrl-C stops it', async () => {
    expect(output).toContain(`n1  http ${endpoint(0)}`);
    const put = await request(endpoint(0), 'PUT', '/v1/kv/a', '{"value":"1"}');
    expect(put.status).toBe(200);
    expect((await request(endpoint(1), 'GET', '/v1/kv/a')).json).toMatchObject({ key: 'a', value: '1' });

    const leader = await until('a leader', 10_000, () => leaderOf(0));
    const leaderIndex = Number(leader.slice(1)) - 1;
    const leaderPid = nodePid(path.join(dataRoot, leader));
    expect(leaderPid, output).not.toBeNull();
    process.kill(leaderPid!, 'SIGKILL');
    const survivor = (leaderIndex + 1) % 3;
    const newLeader = await until('a new leader', 15_000, async () => {
      const seen = await leaderOf(survivor);
      return seen !== null && seen !== leader ? seen : null;
    });
    expect(newLeader).not.toBe(leader);
    expect((await request(endpoint(survivor), 'PUT', '/v1/kv/b', '{"value":"2"}')).status).toBe(200);
    expect((await request(endpoint((leaderIndex + 2) % 3), 'GET', '/v1/kv/b')).json).toMatchObject({ value: '2' });

    // cluster up noticed and printed how to restart the node; run exactly that.
    const restartLine = await until('the restart hint', 5_000, () => output.split('\n').find((line) => line.startsWith('  node ') && line.includes(`--id ${leader} `)));
    const [, ...restartArgs] = restartLine.trim().split(/\s+/);
    restarted = spawn(process.execPath, restartArgs, { detached: true, stdio: 'ignore' });
    await until('the restarted node to catch up', 20_000, async () => {
      const read = await request(endpoint(leaderIndex), 'GET', '/v1/kv/b?consistency=serializable');
      return read.status === 200 && read.json.value === '2' ? true : null;
    });

    const followerIndex = [0, 1, 2].find((index) => `n${index + 1}` !== newLeader)!;
    for (const target of [endpoint(Number(newLeader.slice(1)) - 1), endpoint(followerIndex)]) {
      const result = loadRun(target);
      expect(result.errors, `errors through ${target}: ${result.detail}`).toBe(0);
      expect(result.ops, `ops through ${target}`).toBeGreaterThan(0);
    }

    up!.kill('SIGINT');
    await until('cluster up to exit', 15_000, () => (up!.exitCode !== null ? true : null));
    expect(output).toContain('all nodes stopped');
    for (const id of ['n1', 'n2', 'n3'].filter((id) => id !== leader)) expect(nodePid(path.join(dataRoot, id)), id).toBeNull();
    restarted.kill('SIGTERM');
    await until('the restarted node to exit', 10_000, () => (restarted!.exitCode !== null || restarted!.signalCode !== null ? true : null));
  }, 120_000);
});

/** 64 closed-loop put clients for 2 s: the shared load generator when present, else `concord bench`. */
function loadRun(target: string): { ops: number; errors: number; detail: string } {
  const args = sharedLoad !== undefined
    ? [sharedLoad, '--api', 'concord', '--endpoint', target, '--op', 'put', '--clients', '64', '--seconds', '2']
    : [cliEntryPoint(), 'bench', '--endpoints', target, '--op', 'put', '--clients', '64', '--seconds', '2', '--json'];
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 30_000 });
  const detail = `status ${result.status}, stdout ${result.stdout.slice(-400)}, stderr ${result.stderr.slice(-400)}`;
  try {
    const line = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as { ops?: number; errors?: number };
    return { ops: line.ops ?? 0, errors: line.errors ?? -1, detail };
  } catch {
    return { ops: 0, errors: -1, detail };
  }
}
