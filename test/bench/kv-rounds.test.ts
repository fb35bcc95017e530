import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { medianTable, ratioOf, type LoadLine, type Measured, type Scenario } from '../../src/bench/kv-rounds.js';
import { median } from '../../src/bench/stats.js';

const scenario: Scenario = { name: 'put-follower', op: 'put', target: 'follower', serializable: false, clients: 64 };

function line(opsPerSecond: number, p99Ms: number, errors = 0): LoadLine {
  return { ops_per_s: opsPerSecond, p50_ms: p99Ms / 3, p99_ms: p99Ms, errors, machine_cpu_busy_pct: null };
}

describe('bench:kv rounds summary', () => {
  it('takes the median of an odd and of an even sample', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('puts the median between the sample minimum and maximum, whatever the order', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 50 }), (values) => {
      const value = median(values);
      expect(value).toBeGreaterThanOrEqual(Math.min(...values));
      expect(value).toBeLessThanOrEqual(Math.max(...values));
      expect(median([...values].reverse())).toBe(value);
    }));
  });

  it('has no ratio when etcd did nothing', () => {
    expect(ratioOf(line(0, 1), line(100, 1))).toBeNull();
    expect(ratioOf(line(50, 1), line(100, 1))).toBe(2);
  });

  it('summarizes each scenario over its rounds: medians, ratio spread, p99 rounds held, errors summed', () => {
    const rounds: Measured[] = [
      { scenario, etcd: line(5000, 25), concord: line(8000, 20) },
      { scenario, etcd: line(4000, 30), concord: line(8400, 35) },
      { scenario, etcd: line(5000, 24), concord: line(7000, 22, 2) },
      { scenario: { ...scenario, name: 'put-leader', target: 'leader' }, etcd: line(5000, 25), concord: line(9000, 18) },
    ];
    const table = medianTable(rounds);
    expect(table[2]).toBe('| put-follower | 64 | 3 | 5000 | 25 | 8000 | 22 | 1.60 (1.40–2.10) | 2 of 3 | 0/2 |');
    expect(table[3]).toBe('| put-leader | 64 | 1 | 5000 | 25 | 9000 | 18 | 1.80 (1.80–1.80) | 1 of 1 | 0/0 |');
    expect(table).toHaveLength(5);
  });
});
