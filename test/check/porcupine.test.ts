import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/core/history.js';
import { checkHistory } from '../../src/check/index.js';
import { findPorcupineData, modelFor, readCase, readExpectedVerdicts } from '../../src/check/porcupine-data.js';

// Porcupine's real Jepsen histories and their expected verdicts (../shared/porcupine). The data is
// required: a missing directory fails the suite (set CONCORD_PORCUPINE_DIR if it lives elsewhere).
const directory = findPorcupineData();

describe('Porcupine test data: every expected verdict', () => {
  it('finds the shared data', () => {
    expect(directory, 'Porcupine test data (expected-verdicts.tsv) not found').toBeDefined();
  });
  if (directory === undefined) return;
  const cases = readExpectedVerdicts(directory);

  it('lists 103 etcd logs, the six KV histories partitioned, and c01/c10 un-partitioned', () => {
    expect(cases.filter((row) => row.variant === 'etcd')).toHaveLength(103);
    expect(cases.filter((row) => row.variant === 'kv').map((row) => row.file)).toEqual(
      ['c01-ok', 'c01-bad', 'c10-ok', 'c10-bad', 'c50-ok', 'c50-bad'].map((name) => `kv/${name}.txt`),
    );
    expect(cases.filter((row) => row.variant === 'kvnp').map((row) => row.file)).toEqual(['c01-ok', 'c01-bad', 'c10-ok', 'c10-bad'].map((name) => `kv/${name}.txt`));
  });

  for (const testCase of cases) {
    const expected = testCase.expectedLinearizable ? 'linearizable' : 'not-linearizable';
    it(`${testCase.file} (${testCase.variant}) is ${expected}`, () => {
      const history = readCase(directory, testCase);
      const { result } = checkHistory(modelFor(testCase), history.events, { pairing: history, timeoutMs: 30_000 });
      expect(result.verdict).toBe(expected);
      if (result.verdict === 'not-linearizable') expect(result.failure?.message).toMatch(/cannot be linearized/);
    });
  }

  it('an etcd log is one register (one partition); its timed-out reads are left out of the search', () => {
    const history = readCase(directory, { file: 'jepsen/etcd_100.log', variant: 'etcd' });
    const timedOutReads = history.events.filter((event) => event.type === 'fail' && event.f === 'read' && event.error === 'timed-out').length;
    expect(timedOutReads).toBeGreaterThan(0);
    const { result } = checkHistory(modelFor({ variant: 'etcd' }), history.events, { pairing: history });
    expect(result.partitions).toHaveLength(1);
    expect(result.partitions[0]!.skippedNoops).toBe(timedOutReads);
  });

  for (const prescan of ['always', 'never'] as const) {
    it(`every etcd verdict holds with the read-only pre-scan ${prescan === 'always' ? 'always on' : 'off'}`, () => {
      for (const testCase of cases.filter((row) => row.variant === 'etcd')) {
        const history = readCase(directory, testCase);
        const { result } = checkHistory(modelFor(testCase), history.events, { pairing: history, prescan });
        expect(result.verdict, testCase.file).toBe(testCase.expectedLinearizable ? 'linearizable' : 'not-linearizable');
      }
    });
  }

  it('c50 partitions into ten keys', () => {
    const history = readCase(directory, { file: 'kv/c50-ok.txt', variant: 'kv' });
    const { result } = checkHistory(modelFor({ variant: 'kv' }), history.events, { pairing: history });
    expect(result.partitions).toHaveLength(10);
    expect(result.partitions.reduce((sum, partition) => sum + partition.operations, 0)).toBe(1712);
  });

  it('a linearizable verdict comes with a valid order (c10-ok un-partitioned uses every operation once)', () => {
    const history = readCase(directory, { file: 'kv/c10-ok.txt', variant: 'kvnp' });
    const { result, operations } = checkHistory(modelFor({ variant: 'kvnp' }), history.events, { pairing: history });
    expect(result.linearizations).toHaveLength(1);
    expect([...result.linearizations![0]!].sort((a, b) => a - b)).toEqual(operations.map((operation) => operation.id));
  });
});

// The expected verdicts depend on Jepsen's semantics: rewriting the history under other readings
// flips verdicts, which shows the checker applies each rule (see README of the shared data).
describe('the verdicts depend on the Jepsen semantics', () => {
  if (directory === undefined) return;
  const check = (file: string, rewrite: (events: readonly HistoryEvent[]) => HistoryEvent[]) => {
    const history = readCase(directory, { file, variant: 'etcd' });
    return checkHistory(modelFor({ variant: 'etcd' }), rewrite(history.events), { timeoutMs: 30_000 }).result.verdict;
  };

  it(':info operations stay open: closing them where the :info line is (as if they succeeded then) breaks etcd_002', () => {
    expect(check('jepsen/etcd_002.log', (events) => events.map((event) => (event.type === 'info' ? { ...event, type: 'ok' } : event)))).toBe('not-linearizable');
  });

  it(':info operations may have taken effect: dropping them breaks etcd_002', () => {
    expect(check('jepsen/etcd_002.log', (events) => withoutOperations(events, (completion) => completion.type === 'info'))).toBe('not-linearizable');
  });

  it('a timed-out read matches any state: reading it as nil breaks etcd_100', () => {
    const asNilRead = (events: readonly HistoryEvent[]) =>
      events.map((event) => (event.type === 'fail' && event.f === 'read' ? { process: event.process, type: 'ok' as const, f: 'read', value: null, time: event.time } : event));
    expect(check('jepsen/etcd_100.log', asNilRead)).toBe('not-linearizable');
  });
});

function withoutOperations(events: readonly HistoryEvent[], drop: (completion: HistoryEvent) => boolean): HistoryEvent[] {
  const dropped = new Set<number>();
  const open = new Map<number, number>();
  events.forEach((event, index) => {
    if (event.type === 'invoke') {
      open.set(event.process, index);
      return;
    }
    const invocation = open.get(event.process)!;
    open.delete(event.process);
    if (drop(event)) {
      dropped.add(invocation);
      dropped.add(index);
    }
  });
  return events.filter((_, index) => !dropped.has(index));
}
