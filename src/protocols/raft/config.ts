import { ConcordError, ErrorCode } from '../../core/errors.js';
import type { StateMachine } from './state-machine.js';
import type { AppTypes } from './types.js';

/**
 * Test-only switches that re-introduce classic Raft bugs so the invariant checkers can be shown
 * to catch them. Never enable outside tests: each one breaks safety.
 */
export interface RaftTestingBugs {
  /** Grant votes without the §5.4.1 up-to-date check (a stale candidate can win and erase committed entries). */
  readonly skipVoteUpToDateCheck: boolean;
  /** Commit an entry of a previous term by counting replicas (the Figure 8 bug, §5.4.2). */
  readonly commitPreviousTermByCounting: boolean;
}

/** Every knob of a Raft core; times are in ticks (the host maps ticks to milliseconds). */
export interface RaftConfig<A extends AppTypes> {
  /** Builds the (empty) application state machine; called once per core incarnation. */
  readonly stateMachine: () => StateMachine<A>;
  /** Minimum election timeout. Followers campaign after a random timeout in [min, min + random). */
  readonly electionTimeoutTicks: number;
  /** Width of the randomization range added to `electionTimeoutTicks` (§5.2, §9.3). */
  readonly electionTimeoutRandomTicks: number;
  /** A leader sends heartbeats every this many ticks; must be below the election timeout. */
  readonly heartbeatTicks: number;
  /** Pre-vote (thesis §9.6): a partitioned node cannot disrupt the cluster with term inflation. */
  readonly preVote: boolean;
  /** A leader that did not hear from a quorum within an election timeout steps down; enables leader leases at voters. */
  readonly checkQuorum: boolean;
  /**
   * How `linearizable` reads are served: `readIndex` (a heartbeat round confirms leadership,
   * thesis §6.4) or `lease` (the leader answers locally while its lease holds — requires
   * `checkQuorum` and clocks whose rates differ by at most `leaseClockDriftMaxRatio`).
   */
  readonly linearizableReadMode: 'readIndex' | 'lease';
  /**
   * Lease reads: the bound ρ on every node's tick rate relative to real time ([1−ρ, 1+ρ]). The lease
   * lasts `floor((E − 1)(1 − ρ)/(1 + ρ)) − 1` leader ticks after a quorum-acknowledged heartbeat
   * was sent (E = `electionTimeoutTicks`), safe while the bound holds.
   */
  readonly leaseClockDriftMaxRatio: number;
  /** Appends in flight to one follower in replicate state (flow control). */
  readonly maxInflightMessages: number;
  /** Soft cap on entry bytes in one append (at least one entry is always sent). */
  readonly maxSizePerMessageBytes: number;
  /**
   * Appends to a follower that already has one in flight wait for its acknowledgement unless a
   * full message's worth is pending (adaptive batching: low latency when idle, large batches
   * under load), or the pending entries include ones that follower forwarded. Off: etcd's
   * behaviour, one append per proposal step while the window allows.
   */
  readonly appendBatching: boolean;
  /**
   * A follower sends the proposals and linearizable reads it forwards to its leader once per host
   * turn (`endTurn`: one `forwardProposals` for every request of the turn, and so one
   * `forwardedProposalResults` back) instead of once per request. Only for hosts that call
   * `endTurn` (the net runtime does; the simulator does not, hence off by default).
   */
  readonly forwardPerTurn: boolean;
  /** Leader bound on proposed-but-uncommitted entry bytes; proposals beyond it get `OVERLOADED`. */
  readonly maxUncommittedBytes: number;
  /** Requests waiting in the core (proposals, reads, transfers); more get `OVERLOADED`. */
  readonly maxPendingRequests: number;
  /** A waiting request is answered `TIMEOUT` (outcome unknown) after this many ticks. */
  readonly requestTimeoutTicks: number;
  /** Take a snapshot and compact once this many entries were applied since the last one. */
  readonly snapshotThresholdEntries: number;
  /** Entries kept before the snapshot point so slightly lagging followers avoid a snapshot transfer. */
  readonly snapshotCatchUpEntries: number;
  /** InstallSnapshot chunk size. */
  readonly snapshotChunkBytes: number;
  /**
   * Work per step on a snapshot in progress (state machines with `beginSnapshot`): about this many
   * bytes of the image are produced, or copied into place, on each input the core handles, so no
   * step stalls for the whole image. A piece may exceed it by one record.
   */
  readonly snapshotStepBytes: number;
  /** Client-session table bound (least recently used evicted). */
  readonly maxSessions: number;
  /** Start with an empty configuration and wait to be added (instead of bootstrapping from `peers`). */
  readonly joinExisting: boolean;
  readonly testingBugs: RaftTestingBugs;
}

export const noTestingBugs: RaftTestingBugs = Object.freeze({ skipVoteUpToDateCheck: false, commitPreviousTermByCounting: false });

export const defaultRaftConfig: Omit<RaftConfig<AppTypes>, 'stateMachine'> = Object.freeze({
  electionTimeoutTicks: 10,
  electionTimeoutRandomTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  linearizableReadMode: 'readIndex',
  leaseClockDriftMaxRatio: 0.1,
  maxInflightMessages: 256,
  maxSizePerMessageBytes: 1 << 20,
  appendBatching: true,
  forwardPerTurn: false,
  maxUncommittedBytes: 1 << 26,
  maxPendingRequests: 10_000,
  requestTimeoutTicks: 50,
  snapshotThresholdEntries: 10_000,
  snapshotCatchUpEntries: 1_000,
  snapshotChunkBytes: 1 << 16,
  snapshotStepBytes: 1 << 16,
  maxSessions: 10_000,
  joinExisting: false,
  testingBugs: noTestingBugs,
});

/** Fills defaults and validates; throws `ConcordError(INVALID_CONFIG)` on a bad combination. */
export function resolveRaftConfig<A extends AppTypes>(
  options: Partial<RaftConfig<A>> & Pick<RaftConfig<A>, 'stateMachine'>,
): RaftConfig<A> {
  const config: RaftConfig<A> = { ...defaultRaftConfig, ...options } as RaftConfig<A>;
  const problem = configProblem(config);
  if (problem !== null) throw new ConcordError(ErrorCode.InvalidConfig, `raft config: ${problem}`);
  return config;
}

function configProblem<A extends AppTypes>(config: RaftConfig<A>): string | null {
  const positive: (keyof RaftConfig<A>)[] = [
    'electionTimeoutTicks',
    'heartbeatTicks',
    'maxInflightMessages',
    'maxSizePerMessageBytes',
    'maxUncommittedBytes',
    'maxPendingRequests',
    'requestTimeoutTicks',
    'snapshotThresholdEntries',
    'snapshotChunkBytes',
    'snapshotStepBytes',
    'maxSessions',
  ];
  for (const key of positive) {
    const value = config[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) return `${String(key)} must be a positive integer`;
  }
  if (!Number.isInteger(config.electionTimeoutRandomTicks) || config.electionTimeoutRandomTicks < 1) {
    return 'electionTimeoutRandomTicks must be a positive integer';
  }
  if (!Number.isInteger(config.snapshotCatchUpEntries) || config.snapshotCatchUpEntries < 0) return 'snapshotCatchUpEntries must be ≥ 0';
  if (config.heartbeatTicks >= config.electionTimeoutTicks) return 'heartbeatTicks must be below electionTimeoutTicks';
  if (config.linearizableReadMode === 'lease') {
    if (!config.checkQuorum) return 'lease reads require checkQuorum';
    if (!(config.leaseClockDriftMaxRatio >= 0 && config.leaseClockDriftMaxRatio < 1)) return 'leaseClockDriftMaxRatio must be in [0, 1)';
    if (leaseDurationTicks(config) < 1) return 'the lease is empty: raise electionTimeoutTicks or lower leaseClockDriftMaxRatio';
  }
  return null;
}

/**
 * Ticks a lease lasts after the heartbeat that renewed it was sent. A voter that acknowledged
 * that heartbeat refuses votes (its own included) until it has counted E ticks since
 * (E = electionTimeoutTicks), which is at least (E − 1) of its tick intervals; a lease of L
 * ticks ends at most L of the leader's intervals after the send. With tick rates in
 * [1 − ρ, 1 + ρ] of real time, safety needs L/(1 − ρ) ≤ (E − 1)/(1 + ρ); we take one tick less
 * than the largest such L as margin. E = 10, ρ = 0.1 gives 6 ticks.
 */
export function leaseDurationTicks(config: Pick<RaftConfig<AppTypes>, 'electionTimeoutTicks' | 'leaseClockDriftMaxRatio'>): number {
  const ratio = config.leaseClockDriftMaxRatio;
  return Math.floor(((config.electionTimeoutTicks - 1) * (1 - ratio)) / (1 + ratio)) - 1;
}
