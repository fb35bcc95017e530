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
