import type { NodeId } from '../core/ids.js';

/**
 * Transport-level fault injection: the fallback for network partitions when the fault harness
 * cannot use network namespaces. A blocked direction silently drops messages (connections stay
 * up, like an iptables DROP that leaves TCP sessions idle), and the drops are counted.
 */
export class LinkFaults {
  private readonly blockedOutbound = new Set<NodeId>();
  private readonly blockedInbound = new Set<NodeId>();

  /** Drops traffic to and/or from `peer` until `unblock(peer)` or `heal()`. */
  block(peer: NodeId, direction: 'inbound' | 'outbound' | 'both' = 'both'): void {
    if (direction !== 'inbound') this.blockedOutbound.add(peer);
    if (direction !== 'outbound') this.blockedInbound.add(peer);
  }

  unblock(peer: NodeId): void {
    this.blockedOutbound.delete(peer);
    this.blockedInbound.delete(peer);
  }

  /** Blocks both directions for every listed peer (e.g. all peers: isolate this node). */
  isolateFrom(peers: Iterable<NodeId>): void {
    for (const peer of peers) this.block(peer, 'both');
  }

  heal(): void {
    this.blockedOutbound.clear();
    this.blockedInbound.clear();
  }

  dropsOutbound(peer: NodeId): boolean {
    return this.blockedOutbound.has(peer);
  }

  dropsInbound(peer: NodeId): boolean {
    return this.blockedInbound.has(peer);
  }

  describe(): { outbound: NodeId[]; inbound: NodeId[] } {
    return { outbound: [...this.blockedOutbound].sort(), inbound: [...this.blockedInbound].sort() };
  }
}
