import { sha256 } from './crypto.js';
import type { ClientRequest, StateSnapshot } from './types.js';

/**
 * The replicated service: named counters. An operation `add:<key>:<amount>` adds to a counter and
 * returns its new value, so results differ from request to request and a wrong one shows. The
 * client table (last timestamp and result per client, §4.1) is part of the state: it decides
 * which requests are duplicates, so it must agree across replicas and travel with a snapshot.
 */
export class CounterMachine {
  private readonly counters = new Map<string, number>();
  private readonly clients = new Map<string, { timestamp: number; result: string }>();

  static fromSnapshot(snapshot: StateSnapshot): CounterMachine {
    const machine = new CounterMachine();
    for (const [key, value] of snapshot.counters) machine.counters.set(key, value);
    for (const [client, entry] of snapshot.clients) machine.clients.set(client, { ...entry });
    return machine;
  }

  /** Applies `request` unless it is not newer than the client's last one (then null: a duplicate). */
  execute(request: ClientRequest): string | null {
    const last = this.clients.get(request.client);
    if (last !== undefined && request.timestamp <= last.timestamp) return null;
    const result = this.apply(request.operation);
    this.clients.set(request.client, { timestamp: request.timestamp, result });
    return result;
  }

  /** The cached reply for `request` when it is the client's last executed one. */
  cachedResult(client: string, timestamp: number): string | null {
    const last = this.clients.get(client);
    return last !== undefined && last.timestamp === timestamp ? last.result : null;
  }

  lastTimestamp(client: string): number {
    return this.clients.get(client)?.timestamp ?? -1;
  }

  snapshot(): StateSnapshot {
    const sorted = <V>(map: Map<string, V>): [string, V][] => [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return { counters: sorted(this.counters), clients: sorted(this.clients).map(([client, entry]) => [client, { ...entry }] as const) };
  }

  private apply(operation: string): string {
    const match = /^add:([a-z0-9]{1,16}):(-?\d{1,6})$/.exec(operation);
    if (match === null) return 'error:bad-operation';
    const value = (this.counters.get(match[1]!) ?? 0) + Number(match[2]);
    this.counters.set(match[1]!, value);
    return String(value);
  }
}

export function snapshotDigest(snapshot: StateSnapshot): string {
  return sha256(JSON.stringify(snapshot));
}
