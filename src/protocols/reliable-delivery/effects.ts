import type { DeliveryRecord } from './types.js';

/**
 * The effect model. A message's effect is its `applied` record in the receiver's durable log:
 * the receiver syncs it before acknowledging, so an effect is either durable (and counts) or was
 * lost in a crash before anyone could have observed it (and never happened). Counting `applied`
 * records per `appId` over every node's log therefore counts how many times each message took
 * effect — across crashes and restarts — which is what the delivery checkers judge.
 */
export function countAppliedEffects(
  logs: Iterable<readonly DeliveryRecord[]>,
  into: Map<string, number> = new Map(),
): Map<string, number> {
  for (const records of logs) {
    for (const record of records) {
      if (record.type === 'applied') into.set(record.appId, (into.get(record.appId) ?? 0) + 1);
    }
  }
  return into;
}

/**
 * Incremental `countAppliedEffects` over logs that only grow, except when a crash truncates
 * unsynced records: cheap enough to run after every simulated event. `update` rescans a log from
 * the start when it shrank or its `epoch` (e.g. the node's incarnation, which a crash + restart
 * changes even if the log grew back in between) changed; otherwise it scans only the new records.
 */
export class EffectTally {
  private readonly perLog = new Map<string, { scanned: number; epoch: number; counts: Map<string, number> }>();
  private readonly totals = new Map<string, number>();

  /** Brings the tally for the log named `name` up to date with `records`. */
  update(name: string, records: readonly DeliveryRecord[], epoch = 0): void {
    let entry = this.perLog.get(name);
    if (entry === undefined) {
      entry = { scanned: 0, epoch, counts: new Map() };
      this.perLog.set(name, entry);
    }
    if (records.length < entry.scanned || epoch !== entry.epoch) {
      entry.epoch = epoch;
      for (const [appId, count] of entry.counts) this.add(appId, -count);
      entry.counts.clear();
      entry.scanned = 0;
    }
    for (let index = entry.scanned; index < records.length; index += 1) {
      const record = records[index]!;
      if (record.type !== 'applied') continue;
      entry.counts.set(record.appId, (entry.counts.get(record.appId) ?? 0) + 1);
      this.add(record.appId, 1);
    }
    entry.scanned = records.length;
  }

  /** Applications per appId across every log (entries with 0 are removed). */
  get counts(): ReadonlyMap<string, number> {
    return this.totals;
  }

  private add(appId: string, delta: number): void {
    const next = (this.totals.get(appId) ?? 0) + delta;
    if (next === 0) this.totals.delete(appId);
    else this.totals.set(appId, next);
  }
}
