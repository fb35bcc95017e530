/** A node's identity: a short stable name such as "n1". Equal strings are the same node. */
export type NodeId = string;

/** Host-unique id of one client request, echoed in its reply. */
export type RequestId = number;

const nodeIdPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** True when `value` is a well-formed node id (1–64 chars, letters, digits, `_ . -`). */
export function isNodeId(value: unknown): value is NodeId {
  return typeof value === 'string' && nodeIdPattern.test(value);
}

/** The ids `n1 … nCount`, the default naming of simulated and local clusters. */
export function nodeIds(count: number): NodeId[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`node count must be a positive integer, got ${count}`);
  return Array.from({ length: count }, (_, index) => `n${index + 1}`);
}
