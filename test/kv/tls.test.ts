import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { RunningNode } from '../../src/kv/node.js';
import { runLoad, type LoadOptions } from '../../src/kv/load.js';
import { inProcessCluster, type InProcessCluster } from './in-process-cluster.js';

/**
 * TLS end to end: three nodes in this process with HTTPS on the API and mutual TLS between peers
 * (certificates from a throw-away CA made with openssl). A write through one node is read back
 * through another, so the peer links must have authenticated over TLS.
 */
function makeCertificates(directory: string): { ca: string; cert: string; key: string } {
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { cwd: directory, stdio: 'ignore', timeout: 30_000 });
  };
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=concord-test-ca']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'node.key', '-out', 'node.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(path.join(directory, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  run(['x509', '-req', '-in', 'node.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'node.pem', '-days', '1', '-extfile', 'ext.cnf']);
  return { ca: path.join(directory, 'ca.pem'), cert: path.join(directory, 'node.pem'), key: path.join(directory, 'node.key') };
}

function httpsRequest(url: string, method: string, ca: Buffer, body?: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const request = https.request(url, { method, ca, timeout: 5_000, headers: body === undefined ? {} : { 'content-length': Buffer.byteLength(body) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
    request.end(body);
  });
}

describe('TLS for the API and between peers', () => {
  let cluster: InProcessCluster | null = null;
  const nodes: RunningNode[] = [];
  let directory = '';
  let ca: Buffer;

  beforeAll(async () => {
    directory = mkdtempSync(path.join(os.tmpdir(), 'concord-tls-test-'));
    const files = makeCertificates(directory);
    ca = readFileSync(files.ca);
    cluster = await inProcessCluster({ tls: { certFile: files.cert, keyFile: files.key, caFile: files.ca } });
    for (const index of [0, 1, 2]) nodes.push(await cluster.start(index));
  }, 60_000);

  afterAll(async () => {
    await cluster?.cleanup();
    rmSync(directory, { recursive: true, force: true });
  });

  it('replicates a write made over HTTPS and refuses plain HTTP', async () => {
    const url = (node: RunningNode, pathname: string): string => `https://127.0.0.1:${node.httpAddress.port}${pathname}`;
    const deadline = Date.now() + 15_000;
    let put = { status: 0, json: null as any };
    while (put.status !== 200 && Date.now() < deadline) {
      put = await httpsRequest(url(nodes[0]!, '/v1/kv/secure'), 'PUT', ca, '{"value":"tls"}').catch(() => ({ status: 0, json: null }));
      if (put.status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(put.status).toBe(200);
    const read = await httpsRequest(url(nodes[2]!, '/v1/kv/secure'), 'GET', ca);
    expect(read.json).toMatchObject({ key: 'secure', value: 'tls' });
    const plain = await new Promise<string>((resolve) => {
      const request = http.get(`http://127.0.0.1:${nodes[1]!.httpAddress.port}/healthz`, { timeout: 3_000 }, (response) => resolve(`status ${response.statusCode}`));
      request.on('error', (error) => resolve(`error ${error.message}`));
      request.on('timeout', () => request.destroy(new Error('timeout')));
    });
    expect(plain).not.toBe('status 200');
  });

  it('runs the closed-loop bench (concord bench) over HTTPS with the cluster CA, and fails without it', async () => {
    const load = (extra: Partial<LoadOptions>): ReturnType<typeof runLoad> => runLoad({
      endpoints: nodes.map((node) => `https://127.0.0.1:${node.httpAddress.port}`),
      op: 'put', clients: 4, seconds: 0.5, warmupSeconds: 0, keyBytes: 16, valueBytes: 32, keyspace: 100,
      serializable: false, timeoutMs: 3_000, ...extra,
    });
    const trusted = await load({ ca });
    expect(trusted.errors).toBe(0);
    expect(trusted.ops).toBeGreaterThan(0);
    const untrusted = await load({});
    expect(untrusted.ops).toBe(0);
    expect(untrusted.firstError).toMatch(/certificate/i);
  }, 30_000);
});
