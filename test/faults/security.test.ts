import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cliEntryPoint, freePorts } from '../../src/kv/local-cluster.js';
import { ensureBuilt } from '../kv/cluster-helpers.js';
import { sleep } from '../jepsen/harness/cluster.js';
import { callJson } from '../jepsen/harness/http.js';
import { onExitCleanup } from '../jepsen/harness/cleanup.js';
import { NetworkLab, namespacesAvailable } from '../jepsen/harness/netns.js';
import { run } from '../jepsen/harness/shell.js';

/**
 * Security defaults, verified on running `concord node` processes: loopback-only binding unless
 * told otherwise, the bearer token on every route but /healthz, fault injection and testing bugs
 * refused unless deliberately (and authenticatedly) enabled, and TLS for clients and peers when
 * certificate files are given — including the refusals (plain HTTP, an untrusted client, a peer
 * whose certificate another CA signed).
 */
const children: ChildProcess[] = [];
const directories: string[] = [];

function temporaryDirectory(): string {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'concord-security-'));
  directories.push(directory);
  return directory;
}

function startNodeProcess(args: readonly string[], options: { prefix?: readonly string[]; env?: Record<string, string>; logFile?: string } = {}): ChildProcess {
  const prefix = options.prefix ?? [];
  const command = prefix.length > 0 ? prefix[0]! : process.execPath;
  const fullArgs = [...prefix.slice(1), ...(prefix.length > 0 ? [process.execPath] : []), cliEntryPoint(), 'node', '--log-level', 'warn', ...args];
  const child = spawn(command, fullArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CONCORD_SECRET: 'security-test-secret-0123456789', ...options.env } });
  children.push(child);
  const unregister = onExitCleanup(() => child.kill('SIGKILL'));
  child.once('exit', unregister);
  return child;
}

function output(child: ChildProcess): Promise<{ code: number | null; text: string }> {
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, text })));
}

async function waitFor<T>(probe: () => Promise<T | null>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  }
});

afterAll(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe('security defaults of a running node', () => {
  ensureBuilt();

  it('binds the API and the peer port to 127.0.0.1 unless told otherwise (checked from outside a network namespace)', async (context) => {
    const available = await namespacesAvailable();
    if (!available.ok) {
      context.skip(`needs a network namespace (${available.reason}); the default itself is unit-tested in test/kv/config.test.ts`);
      return;
    }
    const lab = await NetworkLab.create();
    try {
      const node = await lab.addNode('n1');
      // No --http, no --peers: the defaults (127.0.0.1:7001 and 127.0.0.1:7101) inside the namespace.
      startNodeProcess(['--id', 'n1', '--data', path.join(temporaryDirectory(), 'n1')], { prefix: lab.spawnPrefix('n1') });
      const inside = async (): Promise<true | null> => {
        const probe = await run('ip', ['netns', 'exec', node.namespace, process.execPath, '-e', 'fetch("http://127.0.0.1:7001/healthz").then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))'], 5_000);
        return probe.code === 0 ? true : null;
      };
      await waitFor(inside, 20_000, 'the node to serve on its own loopback');
      expect(await connects(node.address, 7001)).toBe(false);
      expect(await connects(node.address, 7101)).toBe(false);
    } finally {
      for (const child of children.splice(0)) child.kill('SIGKILL');
      await sleep(200);
      await lab.destroy();
    }
  }, 60_000);

  it('requires the bearer token on every route but /healthz', async () => {
    const [httpPort, peerPort] = await freePorts(2);
    startNodeProcess(['--id', 'n1', '--peers', `n1=127.0.0.1:${peerPort}`, '--http', `127.0.0.1:${httpPort}`, '--data', path.join(temporaryDirectory(), 'n1'), '--token', 's3cret-token']);
    const base = `http://127.0.0.1:${httpPort}`;
    await waitFor(async () => {
      const reply = await callJson({ base, method: 'GET', path: '/healthz', timeoutMs: 1_000 });
      return reply.kind === 'response' && reply.status === 200 ? true : null;
    }, 20_000, 'healthz');
    for (const [method, route, body] of [['GET', '/v1/kv/a', undefined], ['PUT', '/v1/kv/a', { value: '1' }], ['GET', '/v1/cluster', undefined], ['GET', '/metrics', undefined], ['POST', '/v1/cluster/transfer-leader', {}], ['GET', '/v1/watch', undefined]] as const) {
      for (const token of [undefined, 'wrong-token']) {
        const reply = await callJson({ base, method, path: route, body, token, timeoutMs: 3_000 });
        expect(reply.kind === 'response' && [reply.status, reply.body?.error?.code], `${method} ${route} with ${token ?? 'no token'}`).toEqual([401, 'UNAUTHENTICATED']);
      }
    }
    const put = await callJson({ base, method: 'PUT', path: '/v1/kv/a', body: { value: '1' }, token: 's3cret-token', timeoutMs: 3_000 });
    expect(put.kind === 'response' && put.status).toBe(200);
    // Fault injection is not even routed without the flag.
    const faults = await callJson({ base, method: 'GET', path: '/v1/debug/faults', token: 's3cret-token', timeoutMs: 3_000 });
    expect(faults.kind === 'response' && faults.status).toBe(404);
  }, 60_000);

  it('refuses fault injection without a token, and testing bugs without fault injection', async () => {
    const [httpPort, peerPort] = await freePorts(2);
    const common = ['--id', 'n1', '--peers', `n1=127.0.0.1:${peerPort}`, '--http', `127.0.0.1:${httpPort}`, '--data', path.join(temporaryDirectory(), 'n1')];
    const noToken = await output(startNodeProcess([...common, '--enable-fault-injection']));
    expect(noToken.code).toBe(2);
    expect(noToken.text).toContain('--enable-fault-injection requires --token');
    const bugs = await output(startNodeProcess([...common, '--token', 't'], { env: { CONCORD_TESTING_BUGS: 'ack-before-fsync' } }));
    expect(bugs.code).toBe(2);
    expect(bugs.text).toContain('CONCORD_TESTING_BUGS is set but --enable-fault-injection is not');
    const unknown = await output(startNodeProcess([...common, '--token', 't', '--enable-fault-injection'], { env: { CONCORD_TESTING_BUGS: 'no-such-bug' } }));
    expect(unknown.code).toBe(2);
    expect(unknown.text).toContain('unknown bug "no-such-bug"');
  }, 60_000);

  it('serves HTTPS and peers over mutual TLS when given certificates; refuses plain HTTP, untrusted clients and a foreign peer', async () => {
    const directory = temporaryDirectory();
    const openssl = (args: string[]): void => {
      execFileSync('openssl', args, { cwd: directory, stdio: 'ignore', timeout: 30_000 });
    };
    writeFileSync(path.join(directory, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
    for (const ca of ['ca', 'rogue']) {
      openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '1', '-subj', `/CN=${ca}`]);
      openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${ca}-node.key`, '-out', `${ca}-node.csr`, '-subj', '/CN=127.0.0.1']);
      openssl(['x509', '-req', '-in', `${ca}-node.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${ca}-node.pem`, '-days', '1', '-extfile', 'ext.cnf']);
    }
    const file = (name: string): string => path.join(directory, name);
    const ports = await freePorts(8);
    const peers = [1, 2, 3].map((index) => `n${index}=127.0.0.1:${ports[index + 3]}`).join(',');
    const tls = (ca: string): string[] => ['--tls-cert', file(`${ca}-node.pem`), '--tls-key', file(`${ca}-node.key`), '--tls-ca', file('ca.pem')];
    for (const index of [1, 2]) {
      startNodeProcess(['--id', `n${index}`, '--peers', peers, '--http', `127.0.0.1:${ports[index - 1]}`, '--data', file(`n${index}`), ...tls('ca')]);
    }
    // n3 presents a certificate from another CA: the others must not accept it as a peer.
    const rogue = startNodeProcess(['--id', 'n3', '--peers', peers, '--http', `127.0.0.1:${ports[2]}`, '--data', file('n3'), ...tls('rogue')]);
    const ca = readFileSync(file('ca.pem'));
    const secure = (port: number, method: string, route: string, body?: string, trust: Buffer | undefined = ca): Promise<{ status: number; json: any }> => new Promise((resolve, reject) => {
      const request = https.request(`https://127.0.0.1:${port}${route}`, { method, ca: trust, timeout: 4_000, headers: body === undefined ? {} : { 'content-length': Buffer.byteLength(body) } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }));
      });
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', reject);
      request.end(body);
    });
    // n1 and n2 form a quorum over mutual TLS: a write through n1 is read back through n2.
    await waitFor(async () => ((await secure(ports[0]!, 'PUT', '/v1/kv/tls', '{"value":"over-tls"}')).status === 200 ? true : null), 30_000, 'a write over TLS');
    const read = await secure(ports[1]!, 'GET', '/v1/kv/tls');
    expect(read.json.value).toBe('over-tls');
    const status = await secure(ports[0]!, 'GET', '/v1/cluster');
    expect([status.json.leader === 'n1' || status.json.leader === 'n2']).toEqual([true]);
    // Plain HTTP to the HTTPS port gets no API answer.
    const plain = await callJson({ base: `http://127.0.0.1:${ports[0]}`, method: 'GET', path: '/v1/kv/tls', timeoutMs: 3_000 });
    expect(plain.kind === 'response' && plain.status === 200).toBe(false);
    // A client that does not trust the CA refuses the server (and gets nothing).
    await expect(secure(ports[0]!, 'GET', '/v1/kv/tls', undefined, readFileSync(file('rogue.pem')))).rejects.toThrow();
    // The rogue peer never caught up: nothing replicated reached it.
    const rogueView = await secure(ports[2]!, 'GET', '/v1/kv/tls?consistency=serializable', undefined, readFileSync(file('rogue.pem'))).catch(() => null);
    expect(rogueView === null || rogueView.status !== 200).toBe(true);
    expect(rogue.exitCode).toBe(null);
  }, 90_000);
});
