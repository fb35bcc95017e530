/** The row types of `bench:kv` and the per-scenario summary of `--rounds N` (pure; unit-tested). */

import { median } from './stats.js';

export interface Scenario {
  readonly name: string;
  readonly op: 'put' | 'get';
  readonly target: 'leader' | 'follower';
  readonly serializable: boolean;
  readonly clients: number;
}

/** One JSON line of `load.mjs` (the fields this benchmark reads). */
export interface LoadLine {
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  server_cpu_pct?: number;
  other_cpu_pct?: number;
  machine_cpu_busy_pct: number | null;
}

/** One scenario measured on both systems, back to back. */
export interface Measured {
  readonly scenario: Scenario;
  readonly etcd: LoadLine;
  readonly concord: LoadLine;
}

export function ratioOf(etcd: LoadLine, concord: LoadLine): number | null {
  return etcd.ops_per_s > 0 ? concord.ops_per_s / etcd.ops_per_s : null;
}

/** Per scenario, over every round: medians, and the spread of the per-round ratio. */
export function medianTable(measured: readonly Measured[]): string[] {
  const groups = new Map<string, Measured[]>();
  for (const entry of measured) {
    const key = `${entry.scenario.name} | ${entry.scenario.clients}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [entry]);
    else group.push(entry);
  }
  const lines = [
    '| scenario | C | rounds | etcd ops/s (median) | etcd p99 ms (median) | concord ops/s (median) | concord p99 ms (median) | concord/etcd ops: median (min–max) | rounds with concord p99 ≤ etcd p99 | errors e/c (sum) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [key, entries] of groups) {
    const ratios = entries.map((entry) => ratioOf(entry.etcd, entry.concord)).filter((ratio): ratio is number => ratio !== null);
    const spread = ratios.length === 0 ? '-' : `${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
    const p99Held = entries.filter((entry) => entry.concord.p99_ms <= entry.etcd.p99_ms).length;
    const errors = `${entries.reduce((sum, entry) => sum + entry.etcd.errors, 0)}/${entries.reduce((sum, entry) => sum + entry.concord.errors, 0)}`;
    const of = (pick: (entry: Measured) => number): string => String(Math.round(median(entries.map(pick)) * 1000) / 1000);
    lines.push(`| ${key} | ${entries.length} | ${of((entry) => entry.etcd.ops_per_s)} | ${of((entry) => entry.etcd.p99_ms)} | ${of((entry) => entry.concord.ops_per_s)} | ${of((entry) => entry.concord.p99_ms)} | ${spread} | ${p99Held} of ${entries.length} | ${errors} |`);
  }
  return [...lines, ''];
}
