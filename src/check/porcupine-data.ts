import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { HistoryModel } from './model.js';
import { createModel } from './models/index.js';
import { parseHistory, type HistoryFormat, type ParsedHistory } from './readers/index.js';

/**
 * Porcupine's test histories (shared, read-only): where to find them and how each file is read
 * and modelled. Used by the tests and the benchmark.
 */
export interface PorcupineCase {
  /** Path relative to `test_data/`, e.g. `jepsen/etcd_002.log`. */
  readonly file: string;
  /** `etcd` (register), `kv` (per-key partitions) or `kvnp` (one un-partitioned map). */
  readonly variant: 'etcd' | 'kv' | 'kvnp';
  readonly expectedLinearizable: boolean;
}

/** The directory holding `expected-verdicts.tsv` and `test_data/`, or undefined if not found. */
export function findPorcupineData(start = process.cwd()): string | undefined {
  const candidates = [
    process.env['CONCORD_PORCUPINE_DIR'],
    resolve(start, '../shared/porcupine'),
    resolve(start, '../../shared/porcupine'),
    '/work/shared/porcupine',
  ];
  return candidates.find((candidate): candidate is string => candidate !== undefined && existsSync(join(candidate, 'expected-verdicts.tsv')));
}

/** Rows of `expected-verdicts.tsv`; the empty log (expected "-") is trivially linearizable. */
export function readExpectedVerdicts(directory: string): PorcupineCase[] {
  const rows = readFileSync(join(directory, 'expected-verdicts.tsv'), 'utf8').trim().split('\n').slice(1);
  return rows.map((row) => {
    const columns = row.split('\t');
    const variant = columns[1];
    if (variant !== 'etcd' && variant !== 'kv' && variant !== 'kvnp') throw new Error(`expected-verdicts.tsv: unknown model ${variant}`);
    return { file: columns[0]!, variant, expectedLinearizable: columns[6] !== 'false' };
  });
}

export function formatOf(testCase: Pick<PorcupineCase, 'variant'>): HistoryFormat {
  return testCase.variant === 'etcd' ? 'etcd-log' : 'jepsen-kv';
}

/** A fresh model for the case: a register (initially nil), or a map whose keys start as "". */
export function modelFor(testCase: Pick<PorcupineCase, 'variant'>): HistoryModel<any, any, any> {
  return testCase.variant === 'etcd' ? createModel('register') : createModel('kv', { initial: '', partitionByKey: testCase.variant === 'kv' });
}

export function readCase(directory: string, testCase: Pick<PorcupineCase, 'file' | 'variant'>): ParsedHistory {
  const path = join(directory, 'test_data', testCase.file);
  return parseHistory(readFileSync(path, 'utf8'), formatOf(testCase), testCase.file);
}
