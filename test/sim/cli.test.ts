import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { concord } from '../cli/run-concord.js';

const scratch = mkdtempSync(join(tmpdir(), 'concord-sim-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('concord sim', () => {
  it('--json is identical between two runs of a seed; another seed has another trace hash', () => {
    const first = concord('sim', 'ping', '--seed', '7', '--json');
    const second = concord('sim', 'ping', '--seed', '7', '--json');
    expect(first.status).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    const parsed = JSON.parse(first.stdout) as { seed: number; traceHash: string; violations: unknown[]; stats: { events: number }; settings: unknown };
    expect(parsed).toMatchObject({ seed: 7, violations: [] });
    expect(parsed.traceHash).toMatch(/^[0-9a-f]{16}$/);
    expect(parsed.stats.events).toBeGreaterThan(0);
    const other = JSON.parse(concord('sim', 'ping', '--seed', '8', '--json').stdout) as { traceHash: string };
    expect(other.traceHash).not.toBe(parsed.traceHash);
  });

  it('prints the seed, the derived settings and the replay command; writes the history as JSON lines', () => {
    const historyFile = join(scratch, 'history.jsonl');
    const traceFile = join(scratch, 'trace.jsonl');
    const result = concord('sim', 'ping', '--seed', '3', '--nodes', '4', '--faults', 'crash,loss', '--duration', '2s', '--history', historyFile, '--trace', traceFile);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('concord sim ping — seed 3');
    expect(result.stdout).toMatch(/timing {6}\S/);
    expect(result.stdout).toContain('faults      crash, loss');
    expect(result.stdout).toContain('topology    full: 6 links, connected, diameter 1, clustering 1.000');
    expect(result.stdout).toContain('replay: npx concord sim ping --seed 3 --nodes 4 --faults crash,loss --duration 2000ms');
    const lines = readFileSync(historyFile, 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(2);
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'invoke', f: 'ping' });
    const trace = readFileSync(traceFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { kind: string });
    for (const kind of ['fault', 'send', 'message', 'timer', 'request', 'reply', 'sync-done']) expect(trace.some((record) => record.kind === kind), kind).toBe(true);
  });

  it('exits 1 on a violation and 2 on bad options, with a clear message', () => {
    expect(concord('sim', 'ping-canary', '--seed', '1').status).toBe(1);
    for (const args of [
      ['sim', 'no-such-scenario'],
      ['sim', 'ping', '--seed', 'abc'],
      ['sim', 'ping', '--nodes', '0'],
      ['sim', 'ping', '--faults', 'crash,meteor'],
      ['sim', 'ping', '--duration', 'forever'],
      ['sim', 'ping', '--no-such-option'],
      ['sim', 'ping', '--topology', 'hypercube'],
      ['sweep', 'ping', '--seeds', '0'],
    ]) {
      const result = concord(...args);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/error/);
    }
  });
});

describe('concord sweep', () => {
  it('finds the canary’s violations on worker threads, lists each failing seed with its replay command, exits 1', () => {
    const result = concord('sweep', 'ping-canary', '--seeds', '6', '--workers', '2', '--duration', '2s', '--json');
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout) as { failed: number; failures: { seed: number; replay: string; violations: { checker: string }[] }[] };
    expect(report.failed).toBeGreaterThan(0);
    for (const failure of report.failures) {
      expect(failure.replay).toBe(`npx concord sim ping-canary --seed ${failure.seed} --duration 2000ms`);
      expect(failure.violations[0]!.checker).toMatch(/no-unexpected-echo/);
      // The replay command reproduces the failure.
      const replay = concord('sim', 'ping-canary', '--seed', String(failure.seed), '--duration', '2000ms', '--json');
      expect(replay.status).toBe(1);
    }
  });

  it('passes (exit 0) when no seed violates, with the same outcome for any number of workers', () => {
    const parallel = concord('sweep', 'ping', '--seeds', '4', '--workers', '2', '--duration', '2s', '--json');
    const serial = concord('sweep', 'ping', '--seeds', '4', '--workers', '1', '--duration', '2s', '--json');
    expect(parallel.status).toBe(0);
    const results = (output: string): unknown => (JSON.parse(output) as { results: unknown }).results;
    expect(results(parallel.stdout)).toEqual(results(serial.stdout));
    const human = concord('sweep', 'ping', '--seeds', '2', '--workers', '0', '--duration', '1s');
    expect(human.status).toBe(0);
    expect(human.stdout).toContain('2 passed, 0 failed');
  });
});
