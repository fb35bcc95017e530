import type { NodeId } from './ids.js';

/** One message in flight between two nodes. The payload type is the protocol's message union. */
export interface Envelope<M> {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly message: M;
}
