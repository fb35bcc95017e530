import { ConcordError, ErrorCode } from '../core/errors.js';
import type { Transport } from '../core/host.js';
import type { NodeId } from '../core/ids.js';

/**
 * An in-memory loopback hub: the reference `Transport` for the compliance suite and for host code
 * tested without sockets. Self-contained (no other src/sim module depends on it or is used by it).
 *
 * Semantics match the TCP transport: best effort, per-pair FIFO, delivery on a later macrotask
 * (never inside `send`), messages copied (`structuredClone`) so receivers never alias senders,
 * an unknown destination throws UNKNOWN_NODE, traffic to a closed endpoint is dropped, and a
 * blocked link drops silently. Per-pair queues are bounded by `maxQueuedPerLink` (drop oldest).
 */
export class MemoryTransportHub<M> {
  private readonly endpoints = new Map<NodeId, MemoryTransport<M>>();
  private readonly members: Set<NodeId>;
  private readonly blocked = new Set<string>();
  private readonly queues = new Map<string, { from: NodeId; to: NodeId; message: M }[]>();
  private scheduled = false;
  dropped = 0;

  constructor(
    members: Iterable<NodeId>,
    private readonly maxQueuedPerLink = 10_000,
  ) {
    this.members = new Set(members);
  }

  /** Creates (or, after a restart, replaces) the endpoint of `id`. */
  join(id: NodeId): MemoryTransport<M> {
    if (!this.members.has(id)) throw new ConcordError(ErrorCode.UnknownNode, `unknown node ${JSON.stringify(id)}`);
    const endpoint = new MemoryTransport<M>(id, this);
    this.endpoints.get(id)?.markClosed();
    this.endpoints.set(id, endpoint);
    return endpoint;
  }

  /** Drops messages from `from` to `to` until healed. */
  block(from: NodeId, to: NodeId): void {
    this.blocked.add(linkKey(from, to));
  }

  heal(): void {
    this.blocked.clear();
  }

  /** @internal called by endpoints */
  enqueue(from: NodeId, to: NodeId, message: M, senderClosed: boolean): void {
    if (!this.members.has(to)) throw new ConcordError(ErrorCode.UnknownNode, `unknown node ${JSON.stringify(to)}`);
    if (senderClosed || this.blocked.has(linkKey(from, to))) {
      this.dropped += 1;
      return;
    }
    const key = linkKey(from, to);
    const queue = this.queues.get(key) ?? [];
    if (queue.length >= this.maxQueuedPerLink) {
      queue.shift();
      this.dropped += 1;
    }
    queue.push({ from, to, message: structuredClone(message) });
    this.queues.set(key, queue);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.deliverAll());
    }
  }

  private deliverAll(): void {
    this.scheduled = false;
    const batches = [...this.queues.values()];
    this.queues.clear();
    for (const batch of batches) {
      for (const { from, to, message } of batch) {
        const endpoint = this.endpoints.get(to);
        if (endpoint === undefined || !endpoint.deliver(from, message)) this.dropped += 1;
      }
    }
  }
}

export class MemoryTransport<M> implements Transport<M> {
  private handler: ((from: NodeId, message: M) => void) | null = null;
  private closed = false;

  constructor(
    readonly self: NodeId,
    private readonly hub: MemoryTransportHub<M>,
  ) {}

  send(to: NodeId, message: M): void {
    this.hub.enqueue(this.self, to, message, this.closed);
  }

  onMessage(handler: (from: NodeId, message: M) => void): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    this.markClosed();
  }

  /** @internal */
  markClosed(): void {
    this.closed = true;
  }

  /** @internal returns false when the message could not be delivered */
  deliver(from: NodeId, message: M): boolean {
    if (this.closed || this.handler === null) return false;
    this.handler(from, message);
    return true;
  }
}

function linkKey(from: NodeId, to: NodeId): string {
  return `${from}\u0000${to}`;
}
