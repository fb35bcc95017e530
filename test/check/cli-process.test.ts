import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findPorcupineData } from '../../src/check/porcupine-data.js';
import { concord } from '../cli/run-concord.js';

// The "done" commands, run as a real process through the compiled CLI (`npm test` builds
// first through `pretest`): exit codes come from the process, not from `runCheckCommand`, so a
// broken CLI entry point (e.g. a command registered twice) fails here.

const data = findPorcupineData();
const scratch = mkdtempSync(join(tmpdir(), 'concord-check-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('concord check as a process', () => {
  it('finds the shared Porcupine data', () => expect(data).toBeDefined());
  if (data === undefined) return;
  const etcd = (number: string) => join(data, 'test_data', 'jepsen', `etcd_${number}.log`);

  it('etcd_002 exits 0, etcd_000 exits 1 (and --html writes the page)', () => {
    const ok = concord('check', etcd('002'), '--format', 'etcd-log', '--model', 'register');
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/: linearizable/);
    const html = join(scratch, 'etcd_000.html');
    const bad = concord('check', etcd('000'), '--format', 'etcd-log', '--model', 'register', '--html', html);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/not-linearizable/);
    expect(readFileSync(html, 'utf8')).toMatch(/^<!DOCTYPE html>/);
  });

  it('a spent time budget exits 2 with verdict unknown', () => {
    const outcome = concord('check', etcd('002'), '--timeout', '0ms');
    expect(outcome.status).toBe(2);
    expect(outcome.stdout).toMatch(/: unknown/);
  });

  it('a malformed line exits 2 naming file:line and what was expected', () => {
    const file = join(scratch, 'bad.txt');
    writeFileSync(file, '{:process 0, :type :invoke, :f :get, :key "1", :value nil}\n{:process 0, :type :ok, :f :get :key "1"\n');
    const outcome = concord('check', file, '--format', 'jepsen-kv', '--model', 'kv');
    expect(outcome.status).toBe(2);
    expect(outcome.stderr).toContain(`${file}:2: expected an EDN map`);
  });

  it('a usage error exits 2', () => {
    expect(concord('check', etcd('002'), '--no-such-option').status).toBe(2);
  });
});
