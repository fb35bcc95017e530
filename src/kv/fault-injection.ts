import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { ConcordError, ErrorCode } from '../core/errors.js';
import type { DurableLog } from '../core/host.js';
import { isNodeId, type NodeId } from '../core/ids.js';
import type { LinkFaults } from '../net/link-faults.js';
import type { CasResult, ClusterStatus, DeleteResult, KvEntry, KvService, PutResult, RangeResult, ReadOptions, WatchHandle, WatchHandlers, WriteOptions } from './api.js';

/**
 * Test-only fault injection for the real-process fault harness (test/jepsen). Everything here is
 * off unless the node runs with `--enable-fault-injection` (which also requires `--token`, so the
 * control surface is always authenticated):
 *
 * - `POST /v1/debug/faults` blocks or heals peer links at the transport (the fallback partition
 *   mechanism when network namespaces are unavailable) and jumps the node's clock;
 * - `GET /v1/debug/faults` reports the current faults;
 * - `CONCORD_TESTING_BUGS` (comma-separated) re-introduces classic bugs so the harness can show
 *   it catches them. Each one breaks safety on purpose; never use them outside tests.
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
/** Bound on a clock offset set through the endpoint (a day either way). */
const maxClockOffsetMs = 86_400_000;

/** The route shape `KvHttpServer` accepts for extra (test-only) routes. */
export interface ExtraRoute {
  readonly name: string;
  readonly handler: (request: { readonly body: Buffer | null; readonly query: URLSearchParams }) => { readonly status: number; readonly body: unknown };
}

export interface FaultState {
  readonly id: NodeId;
  readonly clockOffsetMs: number;
  readonly blocked: { readonly outbound: readonly NodeId[]; readonly inbound: readonly NodeId[] };
  readonly testingBugs: readonly TestingBug[];
}

export class FaultInjection {
  private clockOffset = 0;
  private links: LinkFaults | null = null;

  constructor(
    readonly id: NodeId,
    readonly bugs: ReadonlySet<TestingBug>,
    private readonly logger: Logger,
  ) {
    if (bugs.size > 0) logger.warn({ testingBugs: [...bugs] }, 'TESTING BUGS ENABLED: this node deliberately violates safety');
  }

  /** The node's monotonic time source, shifted by the injected offset (jumps both ways). */
  readonly clock = (): number => performance.now() + this.clockOffset;

  /** Connects the transport's link-fault switchboard (created after the log). */
  attachLinks(links: LinkFaults): void {
    this.links = links;
  }

  /** The log the runtime uses: the real one, or with `ack-before-fsync` one whose sync lies. */
  wrapLog<P>(log: DurableLog<P>): DurableLog<P> {
    return this.bugs.has('ack-before-fsync') ? new UnsyncedAckLog(log, unsyncedAckDelayMs) : log;
  }

  /** The service the HTTP API uses: with `stale-local-reads`, a believed leader reads its own replica. */
  wrapService(service: KvService): KvService {
    if (!this.bugs.has('stale-local-reads')) return service;
    return new StaleLocalReads(service);
  }

  /** Raft settings the bugs need: a deposed leader must keep believing it leads (no check-quorum). */
  raftOverrides(): { checkQuorum?: boolean } {
    return this.bugs.has('stale-local-reads') ? { checkQuorum: false } : {};
  }

  state(): FaultState {
    return {
      id: this.id,
      clockOffsetMs: this.clockOffset,
      blocked: this.links?.describe() ?? { outbound: [], inbound: [] },
      testingBugs: [...this.bugs],
    };
  }

  /** `/v1/debug/faults` (GET: state; POST: apply a change), or null for any other path. */
  route(method: string, path: string): ExtraRoute | null {
    if (path !== '/v1/debug/faults') return null;
    if (method === 'GET') return { name: 'debug', handler: () => ({ status: 200, body: this.state() }) };
    if (method !== 'POST') {
      return { name: 'debug', handler: () => { throw new ConcordError(ErrorCode.Unsupported, `method ${method} not allowed here (use GET or POST)`); } };
    }
    return { name: 'debug', handler: (request) => ({ status: 200, body: this.apply(parseFaultRequest(request.body)) }) };
  }

  private apply(change: FaultRequest): FaultState {
    const links = this.links;
    if (links === null && (change.heal || change.block !== undefined || change.unblock !== undefined)) {
      throw new ConcordError(ErrorCode.Unsupported, 'link faults are not available on this node');
    }
    if (change.heal) links!.heal();
    for (const peer of change.unblock ?? []) links!.unblock(peer);
    if (change.block !== undefined) for (const peer of change.block.peers) links!.block(peer, change.block.direction);
    if (change.clockOffsetMs !== undefined) this.clockOffset = change.clockOffsetMs;
    if (change.clockJumpMs !== undefined) this.clockOffset = clampOffset(this.clockOffset + change.clockJumpMs);
    this.logger.warn({ change, state: this.state() }, 'fault injected');
    return this.state();
  }
}

interface FaultRequest {
  readonly heal: boolean;
  readonly block?: { readonly peers: readonly NodeId[]; readonly direction: 'inbound' | 'outbound' | 'both' };
  readonly unblock?: readonly NodeId[];
  readonly clockOffsetMs?: number;
  readonly clockJumpMs?: number;
}

function invalid(message: string): ConcordError {
  return new ConcordError(ErrorCode.InvalidArgument, message);
}

function clampOffset(offsetMs: number): number {
  return Math.max(-maxClockOffsetMs, Math.min(maxClockOffsetMs, offsetMs));
}

function nodeIds(value: unknown, field: string): NodeId[] {
  if (!Array.isArray(value) || value.length > 1024 || !value.every((item) => isNodeId(item))) throw invalid(`field "${field}" must be an array of node ids`);
  return value as NodeId[];
}

function offset(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || Math.abs(value) > maxClockOffsetMs) throw invalid(`field "${field}" must be an integer within ±${maxClockOffsetMs} ms`);
  return value;
}

/**
 * Body: `{"heal": true}`, `{"block": {"peers": ["n2"], "direction": "both"}}`, `{"unblock": ["n2"]}`,
 * `{"clockOffsetMs": 0}`, `{"clockJumpMs": -3000}` — any combination, applied in that order.
 */
export function parseFaultRequest(body: Buffer | null): FaultRequest {
  if (body === null || body.length === 0) throw invalid('request body must be a JSON object');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new ConcordError(ErrorCode.MalformedInput, `request body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid('request body must be a JSON object');
  const fields = parsed as Record<string, unknown>;
  for (const field of Object.keys(fields)) {
    if (!['heal', 'block', 'unblock', 'clockOffsetMs', 'clockJumpMs'].includes(field)) throw invalid(`unknown field "${field}"`);
  }
  if (fields.heal !== undefined && typeof fields.heal !== 'boolean') throw invalid('field "heal" must be a boolean');
  let block: FaultRequest['block'];
  if (fields.block !== undefined) {
    const raw = fields.block as Record<string, unknown> | null;
    if (typeof raw !== 'object' || raw === null) throw invalid('field "block" must be an object {peers, direction}');
    const direction = raw.direction ?? 'both';
    if (direction !== 'inbound' && direction !== 'outbound' && direction !== 'both') throw invalid('block.direction must be inbound, outbound or both');
    block = { peers: nodeIds(raw.peers, 'block.peers'), direction };
  }
  return {
    heal: fields.heal === true,
    ...(block === undefined ? {} : { block }),
    ...(fields.unblock === undefined ? {} : { unblock: nodeIds(fields.unblock, 'unblock') }),
    ...(fields.clockOffsetMs === undefined ? {} : { clockOffsetMs: offset(fields.clockOffsetMs, 'clockOffsetMs') }),
    ...(fields.clockJumpMs === undefined ? {} : { clockJumpMs: offset(fields.clockJumpMs, 'clockJumpMs') }),
  };
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
