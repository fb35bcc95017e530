import { requirePositiveIntegers, withOverrides } from '../../core/config-check.js';
import { ConcordError, ErrorCode } from '../../core/errors.js';

export interface ChordConfig {
  /** Successor-list length r (§4.7); a key lives on its successor and the next r − 1. */
  readonly successorsMax: number;
  readonly stabilizeTicks: number;
  /** One finger (and those it also covers) is refreshed per period. */
  readonly fixFingersTicks: number;
  readonly checkPredecessorTicks: number;
  /** Consecutive unanswered stabilize / ping rounds before a successor / predecessor counts as failed. */
  readonly missesMax: number;
  /** A lookup hop without an answer this long is abandoned (the lookup retries around it). */
  readonly hopTimeoutTicks: number;
  /** Hops (remote queries, retries included) before a lookup gives up with HOP_LIMIT. */
  readonly hopsMax: number;
  /** Lookups in flight; beyond it client requests get OVERLOADED and maintenance waits. */
  readonly lookupsMax: number;
  /** A put or get not finished this long after it was asked answers TIMEOUT. */
  readonly operationTicks: number;
  readonly resendTicks: number;
  /** Re-replication (primary keys to the successors) and the ring-merge lookup through a random member. */
  readonly replicateTicks: number;
  readonly mergeTicks: number;
  readonly joinRetryTicks: number;
  /** Items per `items` message. */
  readonly itemsBatchMax: number;
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  /**
   * TEST-ONLY bug switches: `noKeyTransfer` — a joining node (and a node's new predecessor) is
   * not handed the keys it now owns; `singleSuccessor` — the successor list holds one entry
   * (so a key has one replica besides its owner, and a failed successor has no backup).
   */
  readonly testingBugs: { readonly noKeyTransfer: boolean; readonly singleSuccessor: boolean };
}

export const defaultChordConfig: ChordConfig = {
  successorsMax: 3,
  stabilizeTicks: 5,
  fixFingersTicks: 2,
  checkPredecessorTicks: 5,
  missesMax: 3,
  hopTimeoutTicks: 10,
  hopsMax: 32,
  lookupsMax: 256,
  operationTicks: 80,
  resendTicks: 5,
  replicateTicks: 20,
  mergeTicks: 50,
  joinRetryTicks: 20,
  itemsBatchMax: 256,
  maxKeyBytes: 256,
  maxValueBytes: 4096,
  testingBugs: { noKeyTransfer: false, singleSuccessor: false },
};

const positive = [
  'successorsMax', 'stabilizeTicks', 'fixFingersTicks', 'checkPredecessorTicks', 'missesMax', 'hopTimeoutTicks', 'hopsMax', 'lookupsMax',
  'operationTicks', 'resendTicks', 'replicateTicks', 'mergeTicks', 'joinRetryTicks', 'itemsBatchMax', 'maxKeyBytes', 'maxValueBytes',
] as const;

export function chordConfig(overrides: Partial<ChordConfig> = {}): ChordConfig {
  const config = withOverrides(defaultChordConfig, overrides);
  requirePositiveIntegers('chord', config, [...positive]);
  if (config.successorsMax > 16) throw new ConcordError(ErrorCode.InvalidConfig, 'chord: successorsMax must be at most 16');
  return config;
}

/** The successor-list length in effect (1 under the singleSuccessor test bug). */
export const successorListLength = (config: ChordConfig): number => (config.testingBugs.singleSuccessor ? 1 : config.successorsMax);
