import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultDevSecret, parsePeers, resolveNodeConfig } from '../../src/kv/config.js';
import { isConcordError } from '../../src/core/errors.js';

const invalidConfig = (error: unknown): boolean => isConcordError(error, 'INVALID_CONFIG');

describe('node config', () => {
  it('parses the documented flags and fills defaults', () => {
    const config = resolveNodeConfig({ id: 'n2', peers: 'n1=127.0.0.1:7101,n2=127.0.0.1:7102,n3=127.0.0.1:7103', http: '127.0.0.1:7002', data: '/tmp/x/n2' }, {});
    expect(config.id).toBe('n2');
    expect([...config.peers.keys()]).toEqual(['n1', 'n2', 'n3']);
    expect(config.peers.get('n3')).toEqual({ host: '127.0.0.1', port: 7103 });
    expect(config.http).toEqual({ host: '127.0.0.1', port: 7002 });
    expect(config.dataDir).toBe('/tmp/x/n2');
    expect(config.secret).toBe(defaultDevSecret);
    expect(config.secretIsDefault).toBe(true);
    expect(config.token).toBeUndefined();
    expect(config.electionTimeoutTicks).toBeGreaterThan(config.heartbeatIntervalTicks);
    expect(config.walIo).toBe('auto');
    expect(resolveNodeConfig({ id: 'n1', walIo: 'inline' }, {}).walIo).toBe('inline');
  });

  it('takes the secret and token from the environment, flags first', () => {
    const fromEnv = resolveNodeConfig({ id: 'n1' }, { CONCORD_SECRET: 'a-long-enough-secret', CONCORD_TOKEN: 't0ken' });
    expect(fromEnv.secret).toBe('a-long-enough-secret');
    expect(fromEnv.secretIsDefault).toBe(false);
    expect(fromEnv.token).toBe('t0ken');
    expect(resolveNodeConfig({ id: 'n1', secret: 'flag-secret-xxxxxxxx' }, { CONCORD_SECRET: 'env-secret-xxxxxxxxx' }).secret).toBe('flag-secret-xxxxxxxx');
  });

  it('reads a JSON config file, flags override it, unknown fields are refused', () => {
    const directory = mkdtempSync(path.join(os.tmpdir(), 'concord-config-'));
    try {
      const file = path.join(directory, 'n1.json');
      writeFileSync(file, JSON.stringify({ id: 'n1', peers: { n1: '127.0.0.1:9101', n2: '127.0.0.1:9102' }, http: '127.0.0.1:9001', requestTimeoutMs: 1234 }));
      const config = resolveNodeConfig({ config: file, http: '127.0.0.1:9005' }, {});
      expect(config.peers.size).toBe(2);
      expect(config.http.port).toBe(9005);
      expect(config.requestTimeoutMs).toBe(1234);
      writeFileSync(file, JSON.stringify({ id: 'n1', colour: 'blue' }));
      expect(() => resolveNodeConfig({ config: file }, {})).toThrow(/unknown field "colour"/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('refuses malformed input with INVALID_CONFIG', () => {
    const cases: Record<string, unknown>[] = [
      { id: 'bad id!' },
      { id: 'n1', peers: 'n2=127.0.0.1:7102' },
      { id: 'n1', peers: 'n1=127.0.0.1' },
      { id: 'n1', peers: 'n1=127.0.0.1:70000' },
      { id: 'n1', peers: 'n1=127.0.0.1:7101,n1=127.0.0.1:7102' },
      { id: 'n1', http: 'nope' },
      { id: 'n1', tlsCert: 'a.pem' },
      { id: 'n1', tickIntervalMs: '0' },
      { id: 'n1', secret: 'short' },
      { id: 'n1', peers: 'n1=10.0.0.1:7101' },
      { id: 'n1', walIo: 'sometimes' },
    ];
    for (const flags of cases) expect(() => resolveNodeConfig(flags, {}), JSON.stringify(flags)).toThrow(expect.toSatisfy(invalidConfig));
  });

  it('parses peers from an object', () => {
    expect(parsePeers({ a: '[::1]:1', b: 'host.example:2' }).get('a')).toEqual({ host: '::1', port: 1 });
  });
});
