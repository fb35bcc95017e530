import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { historyToJsonLines, type HistoryEvent } from '../../../src/core/history.js';
import { parseDuration, runCheckCommand } from '../../../src/cli/commands/check.js';
import { findPorcupineData } from '../../../src/check/porcupine-data.js';

const data = findPorcupineData();
const scratch = mkdtempSync(join(tmpdir(), 'concord-check-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('concord check', () => {
  it('finds the shared Porcupine data', () => expect(data).toBeDefined());
  if (data === undefined) return;
  const etcd = (number: string) => join(data, 'test_data', 'jepsen', `etcd_${number}.log`);

  it('exits 0 for etcd_002 (linearizable) and 1 for etcd_000 (not), as the issue requires', () => {
    const ok = runCheckCommand(etcd('002'), { format: 'etcd-log', model: 'register' });
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toMatch(/: linearizable \(register model, 77 operations/);
    const bad = runCheckCommand(etcd('000'), { format: 'etcd-log', model: 'register' });
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toMatch(/not-linearizable/);
    expect(bad.stdout).toMatch(/could not place: line \d+: process \d+: read\(\) -> /);
  });

  it('infers the format and model from the file name, and honours --no-partition', () => {
    const file = join(data, 'test_data', 'kv', 'c01-bad.txt');
    const partitioned = JSON.parse(runCheckCommand(file, { json: true }).stdout);
    expect(partitioned).toMatchObject({ format: 'jepsen-kv', model: 'kv', verdict: 'not-linearizable' });
    expect(partitioned.partitions.length).toBeGreaterThan(1);
    const whole = runCheckCommand(file, { json: true, partition: false });
    expect(whole.exitCode).toBe(1);
    expect(JSON.parse(whole.stdout).partitions).toHaveLength(1);
  });

  it('exits 2 with verdict unknown when the time budget is spent', () => {
    const outcome = runCheckCommand(etcd('002'), { timeout: '0ms', json: true });
    expect(outcome.exitCode).toBe(2);
    expect(JSON.parse(outcome.stdout)).toMatchObject({ verdict: 'unknown', reason: expect.stringMatching(/time budget/) });
  });

  it('writes a self-contained HTML page marking the failure', () => {
    const html = join(scratch, 'etcd_000.html');
    expect(runCheckCommand(etcd('000'), { html }).exitCode).toBe(1);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!DOCTYPE html>/);
    expect(page).toContain('<svg');
    expect(page).toContain('class="stuck"');
    expect(page).toContain('class="op blocking');
    expect(page).toMatch(/Longest linearizable prefix/);
    // No external resources: the only URL is the SVG namespace.
    expect(page.match(/https?:\/\/[^"'\s)]+/g)).toEqual(['http://www.w3.org/2000/svg']);
    expect(page).not.toMatch(/<(link|img|iframe)\b|<script[^>]+src=/);
  });

  it('draws a linearizable history too', () => {
    const html = join(scratch, 'etcd_002.html');
    expect(runCheckCommand(etcd('002'), { html }).exitCode).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('class="verdict linearizable"');
    expect(page).not.toContain('class="stuck"');
  });
});

describe('concord check: bad input', () => {
  it('exits 2 naming the file, the line and what was expected for a malformed line', () => {
    const file = join(scratch, 'bad.log');
    writeFileSync(file, 'INFO  jepsen.util - 1\t:invoke\t:write\t1\nINFO  jepsen.util - 1\t:ok\t:write\n');
    const outcome = runCheckCommand(file, {});
    expect(outcome.exitCode).toBe(2);
    expect(outcome.stderr).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: expected an op line`));
  });

  it('reports malformed input as JSON with --json', () => {
    const file = join(scratch, 'bad.jsonl');
    writeFileSync(file, '{"process": 0, "type": "invoke", "f": "read", "value": null, "time": 1}\n{"process": 0, "type": "ok"}\n');
    const outcome = runCheckCommand(file, { json: true, model: 'register' });
    expect(outcome.exitCode).toBe(2);
    expect(JSON.parse(outcome.stdout).error).toMatchObject({ code: 'MALFORMED_INPUT', details: { line: 2 } });
  });

  it('exits 2 for a missing file, an unknown format or model, a bad duration, and a jsonl file without --model', () => {
    expect(runCheckCommand(join(scratch, 'missing.log'), {}).stderr).toMatch(/cannot read/);
    expect(runCheckCommand('x.log', { format: 'csv' }).stderr).toMatch(/unknown --format "csv"/);
    expect(runCheckCommand('x.log', { model: 'stack' }).stderr).toMatch(/unknown --model "stack"/);
    expect(runCheckCommand('x.log', { timeout: 'soon' }).stderr).toMatch(/bad duration/);
    expect(runCheckCommand('x.jsonl', {}).stderr).toMatch(/pass --model/);
    expect(runCheckCommand('x.dat', {}).stderr).toMatch(/cannot tell the format/);
    for (const outcome of [runCheckCommand('x.dat', {}), runCheckCommand('x.log', { timeout: 'soon' })]) expect(outcome.exitCode).toBe(2);
  });

  it('checks concord JSON-lines histories (as written by HistoryRecorder)', () => {
    const events: HistoryEvent[] = [
      { process: 0, type: 'invoke', f: 'put', key: 'k', value: 'a', time: 0 },
      { process: 1, type: 'invoke', f: 'get', key: 'k', value: null, time: 1 },
      { process: 0, type: 'ok', f: 'put', key: 'k', value: null, time: 2 },
      { process: 1, type: 'ok', f: 'get', key: 'k', value: 'a', time: 3 },
      { process: 1, type: 'invoke', f: 'get', key: 'k', value: null, time: 4 },
      { process: 1, type: 'ok', f: 'get', key: 'k', value: null, time: 5 },
    ];
    const file = join(scratch, 'h.jsonl');
    writeFileSync(file, historyToJsonLines(events));
    const outcome = runCheckCommand(file, { model: 'kv' });
    expect(outcome.exitCode).toBe(1);
    expect(outcome.stdout).toMatch(/could not place: line 5: process 1: get\("k"\) -> nil/);
    writeFileSync(file, historyToJsonLines(events.slice(0, 4)));
    expect(runCheckCommand(file, { model: 'kv' }).exitCode).toBe(0);
  });

  it('parses durations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1.5')).toBe(1500);
  });
});
