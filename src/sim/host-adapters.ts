import { ConcordError, ErrorCode } from '../core/errors.js';
import type { Transport } from '../core/host.js';
import type { NodeId } from '../core/ids.js';
import { Rng } from '../core/rng.js';
import { EventQueue } from './event-queue.js';
import { Network } from './network.js';
import type { TimingModel } from './timing.js';
import { Topology } from './topology.js';

/**
 * A simulated implementation of the host-side `Transport` (src/core/host.ts), so tests written
 * against the TCP transport can run on the simulator's semantics too. It uses the same `Network`
 * (timing model, link faults, partitions) as the `Simulation`, on a virtual clock advanced
 * explicitly by the test (`hub.settle()` / `hub.advance(us)`). The simulated `DurableLog` is
 * `MemoryDisk` in memory-durable-log.ts.
 */

/** A virtual network of `Transport` endpoints. */
export class SimTransportHub<M> {
  readonly network: Network;
  private readonly queue = new EventQueue(256);
  private readonly handlers: (((from: NodeId, message: M) => void) | null)[];
  private readonly closed: boolean[];
  private readonly index = new Map<NodeId, number>();
  private nowUs = 0;
  /** Messages dropped by the network or because the receiver was closed. */
  dropped = 0;

  constructor(
    readonly members: readonly NodeId[],
    options: { seed?: number; timing?: TimingModel } = {},
  ) {
    members.forEach((id, position) => this.index.set(id, position));
    const timing = options.timing ?? { kind: 'synchronous', delayUsMin: 100, deltaUs: 1000 };
    this.network = new Network(Topology.build('full', members), timing, Rng.fromSeed(options.seed ?? 1).split('network'));
    this.handlers = members.map(() => null);
    this.closed = members.map(() => false);
  }

  get now(): number {
    return this.nowUs;
  }

  /** The endpoint of member `self`. */
  transport(self: NodeId): Transport<M> {
    const selfIndex = this.indexOf(self);
    return {
      self,
      send: (to, message) => this.send(selfIndex, to, message),
      onMessage: (handler) => {
        this.handlers[selfIndex] = handler;
      },
      close: async () => {
        this.closed[selfIndex] = true;
      },
    };
  }

  /** Delivers every message due within the next `us` of virtual time. */
  advance(us: number): void {
    const until = this.nowUs + us;
    const queue = this.queue;
    while (queue.size > 0 && queue.peekTime() <= until) {
      const slot = queue.pop();
      const to = queue.node[slot]!;
      const from = queue.aux[slot]!;
      const message = queue.payload[slot] as M;
      this.nowUs = queue.time[slot]!;
      queue.release(slot);
      const handler = this.handlers[to];
      if (this.closed[to] || handler === null || !this.network.isOpen(from, to)) {
        this.dropped += 1;
        continue;
      }
      handler!(this.members[from]!, message);
    }
    this.nowUs = until;
  }

  /** Runs the virtual network until no message is in flight (bounded by `usMax`), then yields once. */
  async settle(usMax = 60_000_000): Promise<void> {
    const deadline = this.nowUs + usMax;
    while (this.queue.size > 0 && this.nowUs < deadline) this.advance(Math.min(1_000_000, deadline - this.nowUs));
    await Promise.resolve();
  }

  private send(from: number, to: NodeId, message: M): void {
    const toIndex = this.index.get(to);
    if (toIndex === undefined) throw new ConcordError(ErrorCode.UnknownNode, `unknown node ${to}`);
    if (this.closed[from]) return;
    const delivery = this.network.route(from, toIndex, this.nowUs);
    if (delivery < 0) {
      this.dropped += 1;
      return;
    }
    this.queue.push(delivery, 0, toIndex, from, 0, message);
    const duplicate = this.network.routeDuplicate(from, toIndex, this.nowUs);
    if (duplicate >= 0) this.queue.push(duplicate, 0, toIndex, from, 0, message);
  }

  private indexOf(id: NodeId): number {
    const position = this.index.get(id);
    if (position === undefined) throw new ConcordError(ErrorCode.UnknownNode, `unknown node ${id}`);
    return position;
  }
}
