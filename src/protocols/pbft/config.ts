import { requirePositiveIntegers, withOverrides } from '../../core/config-check.js';
import { ConcordError, ErrorCode } from '../../core/errors.js';

export const pbftTimers = { viewChange: 'view-change', status: 'status' } as const;

export interface PbftConfig {
  /** Seed of the simulation key setup (see crypto.ts): every node and client key derives from it. */
  readonly keySeed: string;
  /** K: a checkpoint every K executed sequence numbers. */
  readonly checkpointInterval: number;
  /** L: the primary assigns and replicas accept sequence numbers in (low, low + L]; a multiple of K. */
  readonly windowSeqs: number;
  /** A replica waiting this long for a request it knows starts a view change; doubles per successive one. */
  readonly viewChangeTicks: number;
  /** Cap on the doubled view-change timeout. */
  readonly viewChangeTicksMax: number;
  /** Every this many ticks a replica tells its peers where it is (they retransmit what it misses). */
  readonly statusTicks: number;
  /** Most sequence numbers retransmitted to one lagging peer per status. */
  readonly retransmitBatch: number;
  /** Most requests the primary queues while its window is full, and most a replica waits for; further ones are dropped (clients retry). */
  readonly pendingRequestsMax: number;
  /** Most client request ids a replica holds for replies; further ones are answered OVERLOADED. */
  readonly heldRepliesMax: number;
  /**
   * TEST-ONLY bug switches:
   * - `ignorePreparedCertificates`: a new primary re-issues null requests in every slot instead of
   *   the requests the view-changes prove prepared (and replicas check new-views the same way);
   * - `executeWhenPrepared`: a replica executes once prepared, without the commit phase;
   * - `prepareWithFPrepares`: f matching prepares (not 2f) make a request prepared.
   */
  readonly testingBugs: { readonly ignorePreparedCertificates: boolean; readonly executeWhenPrepared: boolean; readonly prepareWithFPrepares: boolean };
}

export const defaultPbftConfig: PbftConfig = {
  keySeed: 'concord-pbft',
  checkpointInterval: 8,
  windowSeqs: 32,
  viewChangeTicks: 40,
  viewChangeTicksMax: 320,
  statusTicks: 10,
  retransmitBatch: 16,
  pendingRequestsMax: 256,
  heldRepliesMax: 256,
  testingBugs: { ignorePreparedCertificates: false, executeWhenPrepared: false, prepareWithFPrepares: false },
};

export function pbftConfig(overrides: Partial<PbftConfig> = {}): PbftConfig {
  const config = withOverrides(defaultPbftConfig, overrides);
  requirePositiveIntegers('pbft', config, ['checkpointInterval', 'windowSeqs', 'viewChangeTicks', 'viewChangeTicksMax', 'statusTicks', 'retransmitBatch', 'pendingRequestsMax', 'heldRepliesMax']);
  if (config.windowSeqs % config.checkpointInterval !== 0 || config.windowSeqs < 2 * config.checkpointInterval) {
    throw new ConcordError(ErrorCode.InvalidConfig, 'pbft: windowSeqs must be a multiple of checkpointInterval, at least twice it');
  }
  if (config.viewChangeTicksMax < config.viewChangeTicks) throw new ConcordError(ErrorCode.InvalidConfig, 'pbft: viewChangeTicksMax must be at least viewChangeTicks');
  if (config.keySeed.length === 0) throw new ConcordError(ErrorCode.InvalidConfig, 'pbft: keySeed must not be empty');
  return config;
}
