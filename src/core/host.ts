import type { NodeId } from './ids.js';

/**
 * Host-side interfaces: what a runtime gives the loop that drives a core. Both hosts implement
 * them — the simulator (virtual network, in-memory disk) and the real runtime (TCP, files) — and
 * both pass the same compliance suites (test/compliance). Types only: no I/O lives in src/core.
 */

/** Point-to-point message transport between configured members. */
export interface Transport<M> {
  readonly self: NodeId;
  /**
   * Queue `message` for `to`. Never blocks and never throws for a slow or dead peer: delivery is
   * best effort (protocols retransmit). An unknown `to` throws `ConcordError(UNKNOWN_NODE)`.
   */
  send(to: NodeId, message: M): void;
  /** Registers the single handler for inbound messages from authenticated members. */
  onMessage(handler: (from: NodeId, message: M) => void): void;
  close(): Promise<void>;
}

/** A node's durable record log with the semantics documented in `storage.ts`. */
export interface DurableLog<P> {
  /** Appends records (written, not yet durable). */
  append(records: readonly P[]): void;
  /** Resolves once every record appended before the call is durable (group commit). */
  sync(): Promise<void>;
  /** Durable records, oldest first, as found at open (after torn-tail recovery and compaction). */
  recovered(): readonly P[];
  close(): Promise<void>;
}
