import type { Logger } from 'pino';
import { ConcordError, ErrorCode } from '../core/errors.js';
import type { DurableLog } from '../core/host.js';
import type { NodeId } from '../core/ids.js';
import type { CasResult, ClusterStatus, DeleteResult, KvEntry, KvService, PutResult, RangeResult, ReadOptions, WatchHandle, WatchHandlers, WriteOptions } from './api.js';

/**
 * Deliberately broken builds, for the fault harness to prove it catches them (test/jepsen,
 * test/faults). `CONCORD_TESTING_BUGS` (comma-separated names) switches them on, and only in a node
 * that also runs with `--enable-fault-injection`; otherwise the node refuses to start. Each one
 * breaks safety on purpose:
 *
 * - `ack-before-fsync`: replies and votes leave before the records are on disk (a kill -9 loses
 *   acknowledged writes, as a power cut would with a missing fsync);
 * - `stale-local-reads`: a node that believes it leads answers linearizable reads from its own
 *   replica with no ReadIndex round, and check-quorum is off so a deposed leader keeps believing.
 */
export const testingBugNames = ['ack-before-fsync', 'stale-local-reads'] as const;
export type TestingBug = (typeof testingBugNames)[number];

/** Parses `CONCORD_TESTING_BUGS`; throws INVALID_CONFIG naming an unknown bug. */
export function parseTestingBugs(value: string | undefined): TestingBug[] {
  if (value === undefined || value.trim() === '') return [];
  const bugs: TestingBug[] = [];
  for (const name of value.split(',').map((part) => part.trim()).filter(Boolean)) {
    if (!(testingBugNames as readonly string[]).includes(name)) {
      throw new ConcordError(ErrorCode.InvalidConfig, `CONCORD_TESTING_BUGS: unknown bug "${name}" (known: ${testingBugNames.join(', ')})`);
    }
    bugs.push(name as TestingBug);
  }
  return bugs;
}

/** How long the `ack-before-fsync` bug leaves acknowledged records only in memory. */
export const unsyncedAckDelayMs = 400;

/**
 * The bugs switched on for one node (none in any normal run); each method is the identity when
 * its bug is off.
 */
export class TestingBugs {
  constructor(readonly bugs: ReadonlySet<TestingBug>, logger: Logger) {
    if (bugs.size > 0) logger.warn({ testingBugs: [...bugs] }, 'TESTING BUGS ENABLED: this node deliberately violates safety');
  }

  /** The log the runtime uses: the real one, or with `ack-before-fsync` one whose sync lies. */
  wrapLog<P>(log: DurableLog<P>): DurableLog<P> {
    return this.bugs.has('ack-before-fsync') ? new UnsyncedAckLog(log, unsyncedAckDelayMs) : log;
  }

  /** The service the HTTP API uses: with `stale-local-reads`, a believed leader reads its own replica. */
  wrapService(service: KvService): KvService {
    return this.bugs.has('stale-local-reads') ? new StaleLocalReads(service) : service;
  }

  /** Raft settings the bugs need: a deposed leader must keep believing it leads (no check-quorum). */
  raftOverrides(): { checkQuorum?: boolean } {
    return this.bugs.has('stale-local-reads') ? { checkQuorum: false } : {};
  }
}

/**
 * The `ack-before-fsync` bug: `sync()` resolves at once, so the runtime releases replies and votes
 * while the records are still only in this process's memory; the real write and fsync happen
 * `delayMs` later. A kill -9 in between loses acknowledged records — what a missing fsync costs
 * on power loss.
 */
class UnsyncedAckLog<P> implements DurableLog<P> {
  private timer: NodeJS.Timeout | null = null;
  private failure: unknown = null;

  constructor(private readonly inner: DurableLog<P>, private readonly delayMs: number) {}

  append(records: readonly P[]): void {
    this.inner.append(records);
  }

  sync(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.inner.sync().catch((error: unknown) => {
          this.failure = error;
        });
      }, this.delayMs);
      this.timer.unref();
    }
    return Promise.resolve();
  }

  recovered(): readonly P[] {
    return this.inner.recovered();
  }

  async close(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.inner.close();
  }
}

/**
 * The `stale-local-reads` bug: a node that believes it leads answers linearizable reads from its
 * own replica, without a ReadIndex round (with check-quorum off, a deposed leader keeps believing).
 */
class StaleLocalReads implements KvService {
  readonly id: NodeId;

  constructor(private readonly inner: KvService) {
    this.id = inner.id;
  }

  private local(options: ReadOptions): ReadOptions {
    return this.inner.cluster().role === 'leader' ? { ...options, consistency: 'serializable' } : options;
  }

  get(key: string, options: ReadOptions): Promise<KvEntry | null> {
    return this.inner.get(key, this.local(options));
  }

  range(prefix: string, limit: number, options: ReadOptions): Promise<RangeResult> {
    return this.inner.range(prefix, limit, this.local(options));
  }

  put(key: string, value: string, options: WriteOptions): Promise<PutResult> {
    return this.inner.put(key, value, options);
  }

  delete(key: string, options: WriteOptions): Promise<DeleteResult> {
    return this.inner.delete(key, options);
  }

  cas(key: string, expected: string | null, value: string, options: WriteOptions): Promise<CasResult> {
    return this.inner.cas(key, expected, value, options);
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): WatchHandle {
    return this.inner.watch(prefix, fromRevision, handlers);
  }

  cluster(): ClusterStatus {
    return this.inner.cluster();
  }

  addMember(member: { readonly id: NodeId; readonly address: string; readonly voter: boolean }, options: WriteOptions): Promise<ClusterStatus> {
    return this.inner.addMember(member, options);
  }

  removeMember(id: NodeId, options: WriteOptions): Promise<ClusterStatus> {
    return this.inner.removeMember(id, options);
  }

  transferLeader(to: NodeId | null, options: { readonly timeoutMs: number }): Promise<ClusterStatus> {
    return this.inner.transferLeader(to, options);
  }

  adminTarget(): string | null {
    return this.inner.adminTarget();
  }
}
