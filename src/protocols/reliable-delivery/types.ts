import type { ErrorCode } from '../../core/errors.js';
import type { NodeId } from '../../core/ids.js';

/**
 * Reliable point-to-point delivery: every node can send to and receive from every peer.
 *
 * A transport message is named by `(sender, receiver, seq)`: `seq` counts per ordered link
 * (sender → receiver) from 1, so the receiver can keep a contiguous watermark per sender. The
 * application names each message with its own `appId` (unique per client request); checkers count
 * effects per `appId`.
 */

/**
 * - `at-most-once`: send once, never retransmit; the receiver drops duplicates (durably, so also
 *   across its own crash). May lose a message; never applies one twice.
 * - `at-least-once`: retransmit until acknowledged; the receiver applies every copy it gets. Never
 *   loses a message once the network heals; may apply one several times.
 * - `exactly-once`: retransmit until acknowledged, and the receiver drops duplicates using a
 *   dedup state that is synced together with the effect before the ack leaves. Every message's
 *   effect is applied exactly once once the network heals, across crashes of either side.
 */
export type DeliveryMode = 'at-most-once' | 'at-least-once' | 'exactly-once';

export const deliveryModes: readonly DeliveryMode[] = ['at-most-once', 'at-least-once', 'exactly-once'];

export function isDeliveryMode(value: unknown): value is DeliveryMode {
  return typeof value === 'string' && (deliveryModes as readonly string[]).includes(value);
}

/** The wire protocol: one discriminated union. */
export type DeliveryMessage =
  /**
   * One copy of an application message. `floorSeq`: every seq below it on this link is resolved
   * at the sender (acknowledged or abandoned) and will never be sent again — lets the receiver
   * advance its watermark past abandoned holes, which keeps its dedup set bounded.
   */
  | {
      readonly type: 'data';
      readonly seq: number;
      readonly floorSeq: number;
      readonly appId: string;
      readonly payload: string;
    }
  /** The receiver has applied (and synced) `seq`, or dropped it as a duplicate of something resolved. */
  | { readonly type: 'ack'; readonly seq: number };

/** Records in a node's durable log. */
export type DeliveryRecord =
  /** Sequence numbers up to `throughSeq` on the link to `to` are taken (survives restarts, so a seq is never reused). */
  | { readonly type: 'reserve'; readonly to: NodeId; readonly throughSeq: number }
  /** A message this node must keep sending until resolved (at-least-once, exactly-once only). */
  | { readonly type: 'sent'; readonly to: NodeId; readonly seq: number; readonly appId: string; readonly payload: string }
  /** A sent message that needs no more sending. */
  | { readonly type: 'resolved'; readonly to: NodeId; readonly seq: number; readonly outcome: 'acked' | 'abandoned' }
  /**
   * **The effect.** The receiver applied message `(from, seq)`: this record, once synced, *is* the
   * application's durable effect, and (in the deduplicating modes) also the dedup state.
   * `floorSeq`: every seq from `from` below it counted as done when this one was applied (the
   * receiver's watermark + 1 at that moment); a restart replays it before adding `seq`, which
   * rebuilds a dedup window that is never narrower than the one that accepted `seq`.
   */
  | {
      readonly type: 'applied';
      readonly from: NodeId;
      readonly seq: number;
      readonly floorSeq: number;
      readonly appId: string;
      readonly payload: string;
    };

/** A client asks this node to deliver `payload` to node `to`. */
export interface DeliveryRequest {
  readonly type: 'send';
  readonly to: NodeId;
  readonly appId: string;
  readonly payload: string;
}

/**
 * The answer to a `DeliveryRequest`:
 * - `ok`: acknowledged — the effect is durable at the receiver.
 * - `fail`: definitely not applied (rejected before anything was sent).
 * - `info`: gave up waiting; it may or may not have been applied.
 */
export type DeliveryReply =
  | { readonly type: 'ok'; readonly appId: string; readonly seq: number; readonly attempts: number }
  | { readonly type: 'fail'; readonly appId: string; readonly code: ErrorCode }
  | { readonly type: 'info'; readonly appId: string; readonly code: ErrorCode; readonly attempts: number };
