/**
 * Checker for causal broadcast over what nodes durably recorded: each node's deliveries in
 * order (its own broadcasts included, delivered when sent). The ground truth of causality comes
 * from those logs, not from any timestamp the protocol carries: the causal past of a message is
 * everything its origin had delivered before broadcasting it.
 *
 * Properties (each new delivery is checked once, incrementally):
 * - `fifo`: a node delivers each origin's messages once each, in sequence order (1, 2, 3 …);
 * - `validity`: every delivered message was broadcast by its origin, with the same payload;
 * - `causal`: when a node delivers m, it has already delivered everything in m's causal past.
 */
export interface Delivery {
  readonly origin: string;
  readonly seq: number;
  readonly payload: string;
}

export interface CausalViolation {
  readonly property: 'fifo' | 'validity' | 'causal';
  readonly node: string;
  readonly message: string;
}

interface NodeState {
  seen: number;
  readonly counts: Map<string, number>;
}

interface Deferred {
  readonly node: string;
  readonly delivery: Delivery;
  readonly before: ReadonlyMap<string, number>;
}

export class CausalDeliveryChecker {
  private readonly nodes = new Map<string, NodeState>();
  /** origin/seq → the origin's delivered counts when it broadcast it, and the payload. */
  private readonly broadcasts = new Map<string, { past: ReadonlyMap<string, number>; payload: string }>();

  /**
   * Reads the deliveries appended to each node's log since the last call and returns the
   * violations they show. A log that got shorter (a crash lost unsynced records) is re-read from
   * its start; a broadcast it re-registers replaces the lost one.
   */
  update<T>(logs: ReadonlyMap<string, readonly T[]>, toDelivery: (record: T) => Delivery, limit = 3): CausalViolation[] {
    const found: CausalViolation[] = [];
    const deferred: Deferred[] = [];
    for (const [node, log] of logs) {
      let state = this.nodes.get(node);
      if (state === undefined || log.length < state.seen) this.nodes.set(node, (state = { seen: 0, counts: new Map() }));
      for (; state.seen < log.length; state.seen += 1) {
        const delivery = toDelivery(log[state.seen]!);
        const count = state.counts.get(delivery.origin) ?? 0;
        if (delivery.seq !== count + 1) {
          found.push({ property: 'fifo', node, message: `${node} delivered ${delivery.origin}/${delivery.seq} after ${count} from ${delivery.origin}` });
          continue;
        }
        if (delivery.origin === node) this.broadcasts.set(key(delivery), { past: new Map(state.counts), payload: delivery.payload });
        else deferred.push({ node, delivery, before: new Map(state.counts) });
        state.counts.set(delivery.origin, count + 1);
      }
    }
    // After every log was read: a broadcast is durable at its origin before anyone receives it.
    for (const { node, delivery, before } of deferred) found.push(...this.checkDelivery(node, delivery, before));
    return found.slice(0, limit);
  }

  private checkDelivery(node: string, delivery: Delivery, before: ReadonlyMap<string, number>): CausalViolation[] {
    const broadcast = this.broadcasts.get(key(delivery));
    if (broadcast === undefined || broadcast.payload !== delivery.payload) {
      return [{ property: 'validity', node, message: `${node} delivered ${key(delivery)}, which ${delivery.origin} never broadcast${broadcast === undefined ? '' : ' with that payload'}` }];
    }
    const missing = [...broadcast.past].filter(([origin, count]) => (before.get(origin) ?? 0) < count);
    if (missing.length === 0) return [];
    const list = missing.map(([origin, count]) => `${origin} up to ${count} (had ${before.get(origin) ?? 0})`).join(', ');
    return [{ property: 'causal', node, message: `${node} delivered ${key(delivery)} before its causal past: ${list}` }];
  }
}

const key = (delivery: Delivery): string => `${delivery.origin}/${delivery.seq}`;
