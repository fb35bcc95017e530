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
 * Incremental counts over nodes' durable logs, cheap enough to run after every simulated event:
 * `applied` (the effects, as `countAppliedEffects`) and `accepted` (messages a sender durably took
 * responsibility for: its synced `sent` record — at-least-once and exactly-once only). Logs only
 * grow, except that a crash truncates unsynced records; `update` rescans a log from the start when
 * it shrank or its `epoch` (e.g. the node's incarnation, which a crash + restart changes even if the
 * log grew back in between) changed, and otherwise scans only the new records.
 */
export class EffectTally {
  private readonly perLog = new Map<string, { scanned: number; epoch: number; applied: Map<string, number>; accepted: Map<string, number> }>();
  private readonly appliedTotals = new Map<string, number>();
  private readonly acceptedTotals = new Map<string, number>();
  private readonly changedIds = new Set<string>();

  /** Brings the tally for the log named `name` up to date with `records`. */
  update(name: string, records: readonly DeliveryRecord[], epoch = 0): void {
    let entry = this.perLog.get(name);
    if (entry === undefined) {
      entry = { scanned: 0, epoch, applied: new Map(), accepted: new Map() };
      this.perLog.set(name, entry);
    }
    if (records.length < entry.scanned || epoch !== entry.epoch) {
      entry.epoch = epoch;
      for (const [appId, count] of entry.applied) this.add(this.appliedTotals, appId, -count);
      for (const [appId, count] of entry.accepted) this.add(this.acceptedTotals, appId, -count);
      entry.applied.clear();
      entry.accepted.clear();
      entry.scanned = 0;
    }
    for (let index = entry.scanned; index < records.length; index += 1) {
      const record = records[index]!;
      if (record.type === 'applied') {
        entry.applied.set(record.appId, (entry.applied.get(record.appId) ?? 0) + 1);
        this.add(this.appliedTotals, record.appId, 1);
      } else if (record.type === 'sent') {
        entry.accepted.set(record.appId, (entry.accepted.get(record.appId) ?? 0) + 1);
        this.add(this.acceptedTotals, record.appId, 1);
      }
    }
    entry.scanned = records.length;
  }

  /** Applications per appId across every log (entries with 0 are removed). */
  get counts(): ReadonlyMap<string, number> {
    return this.appliedTotals;
  }

  /** appIds with a `sent` record in some log (a fresh set: O(n), for final checks). */
  get accepted(): ReadonlySet<string> {
    return new Set(this.acceptedTotals.keys());
  }

  isAccepted(appId: string): boolean {
    return this.acceptedTotals.has(appId);
  }

  /** appIds whose counts changed since the last call (lets a per-event checker look at just those). */
  drainChanged(): string[] {
    const changed = [...this.changedIds];
    this.changedIds.clear();
    return changed;
  }

  private add(totals: Map<string, number>, appId: string, delta: number): void {
    this.changedIds.add(appId);
    const next = (totals.get(appId) ?? 0) + delta;
    if (next === 0) totals.delete(appId);
    else totals.set(appId, next);
  }
}
