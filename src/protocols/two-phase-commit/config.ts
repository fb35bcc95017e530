import { requirePositiveIntegers, withOverrides } from '../../core/config-check.js';
import { ConcordError, ErrorCode } from '../../core/errors.js';

export interface TpcConfig {
  /** A coordinator aborts a transaction whose votes are not all in after this many ticks. */
  readonly voteTimeoutTicks: number;
  /** Prepares (while collecting votes) and commits (until acknowledged) are resent this often… */
  readonly resendTicks: number;
  /** …commits with exponential backoff up to this (kept short: a lossy link needs many tries). */
  readonly resendMaxTicks: number;
  /** A prepared participant without a decision first asks its coordinator after this many ticks… */
  readonly inquireBaseTicks: number;
  /** …then backs off exponentially up to this. */
  readonly inquireMaxTicks: number;
  /** Bounds on a transaction a client may ask for. */
  readonly maxParticipants: number;
  readonly maxWritesPerParticipant: number;
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  /**
   * TEST-ONLY bug switches (variants that prove the checkers catch them; never set in production):
   * `commitOnTimeout` — a vote timeout commits instead of aborting (missing votes taken as yes);
   * `unloggedCommit` — the commit decision is not logged, so a restarted coordinator presumes
   * abort for transactions it already committed; `presumeCommit` — a coordinator answers an
   * inquiry about a transaction it does not know (or aborted) with commit.
   */
  readonly testingBugs: { readonly commitOnTimeout: boolean; readonly unloggedCommit: boolean; readonly presumeCommit: boolean };
}

export const defaultTpcConfig: TpcConfig = {
  voteTimeoutTicks: 30,
  resendTicks: 5,
  resendMaxTicks: 20,
  inquireBaseTicks: 10,
  inquireMaxTicks: 20,
  maxParticipants: 16,
  maxWritesPerParticipant: 64,
  maxKeyBytes: 256,
  maxValueBytes: 4096,
  testingBugs: { commitOnTimeout: false, unloggedCommit: false, presumeCommit: false },
};

export function tpcConfig(overrides: Partial<TpcConfig> = {}): TpcConfig {
  const config = withOverrides(defaultTpcConfig, overrides);
  requirePositiveIntegers('two-phase commit', config, [
    'voteTimeoutTicks', 'resendTicks', 'resendMaxTicks', 'inquireBaseTicks', 'inquireMaxTicks', 'maxParticipants', 'maxWritesPerParticipant', 'maxKeyBytes', 'maxValueBytes',
  ]);
  if (config.inquireMaxTicks < config.inquireBaseTicks) throw new ConcordError(ErrorCode.InvalidConfig, 'two-phase commit: inquireMaxTicks below inquireBaseTicks');
  if (config.resendMaxTicks < config.resendTicks) throw new ConcordError(ErrorCode.InvalidConfig, 'two-phase commit: resendMaxTicks below resendTicks');
  return config;
}
