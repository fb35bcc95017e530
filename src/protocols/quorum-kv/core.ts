import { requirePositiveIntegers, withOverrides } from '../../core/config-check.js';
import { assertNever, ErrorCode } from '../../core/errors.js';
import type { NodeId, RequestId } from '../../core/ids.js';
import { type CoreContext, type Input, type InputHandlers, noOutput, type Output, OutputBuilder, type ProtocolCore, stepWith } from '../../core/protocol.js';
import { HashRing } from '../dht/ring.js';

/**
 * A linearizable key-value store by quorum replication (Attiya, Bar-Noy and Dolev's register,
 * one per key) placed on a consistent-hashing ring: each key lives on the first `replicas` nodes
 * of its preference list, and any node coordinates any operation.
 *
 * - put: ask a majority of the key's replicas for their timestamp, then store the value with a
 *   higher one (counter + 1, ties broken by a writer id unique to this put) on a majority.
 * - get: ask a majority for (timestamp, value), take the newest, and write it back to a majority
 *   before answering — so no later read can return anything older.
 *
 * A replica keeps a value only if its timestamp is newer, syncs it before acknowledging, and
 * recovers it from its log. No leader, no log of operations: a majority of each key's replicas
 * is enough for progress, so a minority of them may be down or partitioned away.
 */
/** (counter, writer): the writer part names one write (node, incarnation, operation), so no two writes share a timestamp. */
export type Timestamp = readonly [counter: number, writer: string];

export type QkvMessage =
  | { readonly type: 'query'; readonly op: string; readonly key: string }
  | { readonly type: 'current'; readonly op: string; readonly ts: Timestamp; readonly value: string | null }
  | { readonly type: 'store'; readonly op: string; readonly key: string; readonly ts: Timestamp; readonly value: string | null }
  | { readonly type: 'stored'; readonly op: string };

export type QkvRecord = { readonly type: 'value'; readonly key: string; readonly ts: Timestamp; readonly value: string | null };

export type QkvRequest = { readonly type: 'get'; readonly key: string } | { readonly type: 'put'; readonly key: string; readonly value: string };
export type QkvReply = { readonly type: 'value'; readonly value: string | null } | { readonly type: 'ok' } | { readonly type: 'error'; readonly code: string; readonly message: string };

export interface QkvConfig {
  /** Replicas per key (a majority of them is a quorum). */
  readonly replicas: number;
  readonly resendTicks: number;
  /** Operations a node coordinates at once; more are refused with OVERLOADED. */
  readonly maxOperations: number;
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  /**
   * TEST-ONLY bug switches: `quorumOfOne` — each phase waits for one replica instead of a
   * majority; `skipWriteBack` — a get answers after phase 1 (a later get may then read older).
   */
  readonly testingBugs: { readonly quorumOfOne: boolean; readonly skipWriteBack: boolean };
}

export const defaultQkvConfig: QkvConfig = { replicas: 3, resendTicks: 5, maxOperations: 1000, maxKeyBytes: 256, maxValueBytes: 4096, testingBugs: { quorumOfOne: false, skipWriteBack: false } };

export function qkvConfig(overrides: Partial<QkvConfig> = {}): QkvConfig {
  const config = withOverrides(defaultQkvConfig, overrides);
  requirePositiveIntegers('quorum kv', config, ['replicas', 'resendTicks', 'maxOperations', 'maxKeyBytes', 'maxValueBytes']);
  return config;
}

export function newerThan(a: Timestamp, b: Timestamp): boolean {
  return a[0] !== b[0] ? a[0] > b[0] : a[1] > b[1];
}

const zero: Timestamp = [0, ''];

interface Operation {
  readonly request: QkvRequest;
  readonly requestId: RequestId;
  readonly replicas: readonly NodeId[];
  phase: 'query' | 'store';
  readonly answered: Set<NodeId>;
  newest: { ts: Timestamp; value: string | null };
  /** What phase 2 stores (set when it starts). */
  stored: { ts: Timestamp; value: string | null } | null;
}

const resendTimer = 'resend';
type QkvOutput = Output<QkvMessage, QkvRecord, QkvReply>;

export class QuorumKvCore implements ProtocolCore<QkvMessage, QkvRecord, QkvRequest, QkvReply> {
  readonly id: NodeId;
  readonly tickDriven = false;
  private readonly out: OutputBuilder<QkvMessage, QkvRecord, QkvReply>;
  private readonly ring: HashRing;
  private readonly store = new Map<string, { ts: Timestamp; value: string | null }>();
  private readonly operations = new Map<string, Operation>();
  /** Operation ids are unique across incarnations: a late answer to an old one matches nothing. */
  private readonly incarnation: string;
  private nextOp = 1;

  constructor(context: CoreContext<QkvRecord>, private readonly config: QkvConfig) {
    this.id = context.id;
    this.out = new OutputBuilder(context.id);
    this.ring = HashRing.of(context.peers, { virtualNodes: 64 });
    this.incarnation = context.rng.int(0, 2 ** 31 - 1).toString(36);
    for (const record of context.recovered) this.keep(record.key, record.ts, record.value);
  }

  start(): QkvOutput {
    return noOutput();
  }

  private readonly handlers: InputHandlers<QkvMessage, QkvRequest> = {
    request: (requestId, request) => this.onRequest(requestId, request),
    message: (from, message) => this.onMessage(from, message),
    timer: (timer) => {
      if (timer === resendTimer) this.resend();
    },
  };

  step(input: Input<QkvMessage, QkvRequest>): QkvOutput {
    return stepWith(this.out, input, this.handlers);
  }

  /** Operations this node is coordinating. */
  get activeOperations(): number {
    return this.operations.size;
  }

  /** This replica's copy of `key` (null timestamp counter 0: never written here). */
  replicaValue(key: string): { ts: Timestamp; value: string | null } {
    return this.store.get(key) ?? { ts: zero, value: null };
  }

  replicasOf(key: string): NodeId[] {
    return this.ring.preferenceList(key, this.config.replicas);
  }

  private quorumOf(replicas: number): number {
    return this.config.testingBugs.quorumOfOne ? 1 : Math.floor(replicas / 2) + 1;
  }

  private onRequest(requestId: RequestId, request: QkvRequest): void {
    const problem = requestProblem(request, this.config);
    if (problem !== null) {
      this.out.reply(requestId, { type: 'error', code: ErrorCode.InvalidArgument, message: problem });
      return;
    }
    if (this.operations.size >= this.config.maxOperations) {
      this.out.reply(requestId, { type: 'error', code: ErrorCode.Overloaded, message: `${this.config.maxOperations} operations in progress` });
      return;
    }
    const op = `${this.incarnation}.${this.nextOp}`;
    this.nextOp += 1;
    const operation: Operation = { request, requestId, replicas: this.replicasOf(request.key), phase: 'query', answered: new Set(), newest: { ts: zero, value: null }, stored: null };
    this.operations.set(op, operation);
    this.sendPhase(op, operation, operation.replicas);
    if (this.operations.size === 1) this.out.setTimer(resendTimer, this.config.resendTicks);
  }

  private onMessage(from: NodeId, message: QkvMessage): void {
    switch (message.type) {
      case 'query': {
        const current = this.replicaValue(message.key);
        this.out.send(from, { type: 'current', op: message.op, ts: current.ts, value: current.value });
        break;
      }
      case 'store':
        this.keepDurably(message.key, message.ts, message.value);
        this.out.send(from, { type: 'stored', op: message.op });
        break;
      case 'current':
        this.onAnswer(message.op, from, { ts: message.ts, value: message.value });
        break;
      case 'stored':
        this.onAnswer(message.op, from, null);
        break;
      default:
        assertNever(message);
    }
  }

  /** Sends the operation's current phase to `targets` (answering for ourselves directly). */
  private sendPhase(op: string, operation: Operation, targets: readonly NodeId[]): void {
    const { key } = operation.request;
    for (const replica of targets) {
      if (replica === this.id) continue;
      if (operation.phase === 'query') this.out.send(replica, { type: 'query', op, key });
      else this.out.send(replica, { type: 'store', op, key, ts: operation.stored!.ts, value: operation.stored!.value });
    }
    if (!targets.includes(this.id)) return;
    if (operation.phase === 'query') this.onAnswer(op, this.id, this.replicaValue(key));
    else {
      this.keepDurably(key, operation.stored!.ts, operation.stored!.value);
      this.onAnswer(op, this.id, null);
    }
  }

  private onAnswer(op: string, from: NodeId, current: { ts: Timestamp; value: string | null } | null): void {
    const operation = this.operations.get(op);
    if (operation === undefined || !operation.replicas.includes(from) || operation.answered.has(from)) return;
    if ((operation.phase === 'query') !== (current !== null)) return; // an answer to the other phase
    operation.answered.add(from);
    if (current !== null && newerThan(current.ts, operation.newest.ts)) operation.newest = current;
    if (operation.answered.size < this.quorumOf(operation.replicas.length)) return;
    if (operation.phase === 'store') this.finish(op, operation);
    else if (operation.request.type === 'get' && this.config.testingBugs.skipWriteBack) {
      operation.stored = operation.newest;
      this.finish(op, operation);
    } else this.startStore(op, operation);
  }

  private startStore(op: string, operation: Operation): void {
    operation.phase = 'store';
    operation.answered.clear();
    const { request } = operation;
    // Unique per write: two concurrent puts of one coordinator must not share a timestamp.
    operation.stored = request.type === 'put' ? { ts: [operation.newest.ts[0] + 1, `${this.id}/${op}`], value: request.value } : operation.newest;
    this.sendPhase(op, operation, operation.replicas);
  }

  private finish(op: string, operation: Operation): void {
    this.operations.delete(op);
    this.out.reply(operation.requestId, operation.request.type === 'put' ? { type: 'ok' } : { type: 'value', value: operation.stored!.value });
  }

  private resend(): void {
    for (const [op, operation] of this.operations) this.sendPhase(op, operation, operation.replicas.filter((replica) => replica !== this.id && !operation.answered.has(replica)));
    if (this.operations.size > 0) this.out.setTimer(resendTimer, this.config.resendTicks);
  }

  private keepDurably(key: string, ts: Timestamp, value: string | null): void {
    // Synced before the acknowledgement leaves: an acknowledged store survives a crash.
    if (this.keep(key, ts, value)) this.out.persist({ type: 'value', key, ts, value }, { sync: true });
  }

  private keep(key: string, ts: Timestamp, value: string | null): boolean {
    const current = this.store.get(key);
    if (current !== undefined && !newerThan(ts, current.ts)) return false;
    this.store.set(key, { ts, value });
    return true;
  }
}

function requestProblem(request: QkvRequest, config: QkvConfig): string | null {
  if (typeof request.key !== 'string' || request.key.length === 0 || request.key.length > config.maxKeyBytes) return `key must be a string of 1..${config.maxKeyBytes} characters`;
  if (request.type === 'put' && (typeof request.value !== 'string' || request.value.length > config.maxValueBytes)) return `value must be a string of at most ${config.maxValueBytes} characters`;
  return request.type === 'get' || request.type === 'put' ? null : 'unknown request type';
}

export function quorumKvFactory(overrides: Partial<QkvConfig> = {}): (context: CoreContext<QkvRecord>) => QuorumKvCore {
  const config = qkvConfig(overrides);
  return (context) => new QuorumKvCore(context, config);
}
