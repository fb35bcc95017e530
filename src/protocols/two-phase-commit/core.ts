import { assertNever, ErrorCode } from '../../core/errors.js';
import type { NodeId, RequestId } from '../../core/ids.js';
import { type CoreContext, type Input, type InputHandlers, type Output, OutputBuilder, type ProtocolCore, stepWith } from '../../core/protocol.js';
import { type TpcConfig, tpcConfig } from './config.js';
import { Coordinator, resendTimer } from './coordinator.js';
import { inquireTimer, Participant } from './participant.js';
import type { ParticipantState, TpcMessage, TpcRecord, TpcReply, TpcRequest, TxId } from './types.js';
import { transactionProblem, validateTpcMessage } from './validate.js';

type TpcOutput = Output<TpcMessage, TpcRecord, TpcReply>;

export interface TpcStats {
  /** Transactions this node began coordinating (this incarnation). */
  transactions: number;
  malformedDropped: number;
}

const inquirePrefix = inquireTimer('');
const resendPrefix = resendTimer('');

/**
 * A two-phase-commit node (see `types.ts`): every node is a participant, and coordinates the
 * transactions its clients send it. Pure and synchronous, like every core: durable state comes
 * back through `context.recovered` after a crash.
 */
export class TwoPhaseCommitCore implements ProtocolCore<TpcMessage, TpcRecord, TpcRequest, TpcReply> {
  readonly id: NodeId;
  readonly tickDriven = false;
  readonly stats: TpcStats = { transactions: 0, malformedDropped: 0 };
  private readonly out: OutputBuilder<TpcMessage, TpcRecord, TpcReply>;
  private readonly participant: Participant;
  private readonly coordinator: Coordinator;
  private readonly peers: readonly NodeId[];

  constructor(context: CoreContext<TpcRecord>, private readonly config: TpcConfig) {
    this.id = context.id;
    this.peers = context.peers;
    this.out = new OutputBuilder(context.id);
    this.participant = new Participant(config, this.out);
    this.coordinator = new Coordinator(context.id, config, this.out, {
      prepare: (txId, writes) => this.participant.prepare(txId, context.id, writes),
      decide: (txId, commit) => this.participant.decide(txId, commit),
    });
    for (const record of context.recovered) {
      this.participant.replay(record);
      this.coordinator.replay(record);
    }
  }

  start(): TpcOutput {
    this.coordinator.resume();
    this.participant.resumeInquiries();
    return this.out.take();
  }

  private readonly handlers: InputHandlers<TpcMessage, TpcRequest> = {
    message: (from, message) => this.onMessage(from, message),
    request: (requestId, request) => this.onRequest(requestId, request),
    timer: (timer) => this.onTimer(timer),
  };

  step(input: Input<TpcMessage, TpcRequest>): TpcOutput {
    return stepWith(this.out, input, this.handlers);
  }

  // ----- inspection (checkers, tests) -----

  participantState(txId: TxId): ParticipantState | null {
    return this.participant.state(txId);
  }

  inDoubt(): TxId[] {
    return this.participant.inDoubt();
  }

  /** The coordinator of a transaction this node prepared, or null. */
  coordinatorOf(txId: TxId): NodeId | null {
    return this.participant.coordinatorOf(txId);
  }

  coordinating(): number {
    return this.coordinator.active();
  }

  lockedKeys(): number {
    return this.participant.lockedKeys();
  }

  committedValues(): ReadonlyMap<string, string> {
    return this.participant.committedValues();
  }

  get unexpectedCommits(): number {
    return this.participant.unexpectedCommits;
  }

  // ----- handlers -----

  private onMessage(from: NodeId, message: TpcMessage): void {
    if (validateTpcMessage(message, this.config) !== null || !this.peers.includes(from)) {
      this.stats.malformedDropped += 1;
      return;
    }
    switch (message.type) {
      case 'prepare':
        this.out.send(from, { type: 'vote', txId: message.txId, yes: this.participant.prepare(message.txId, from, message.writes) });
        break;
      case 'vote':
        this.coordinator.onVote(message.txId, from, message.yes);
        break;
      case 'decision': {
        // Only the coordinator a participant voted for may decide for it.
        const coordinator = this.participant.coordinatorOf(message.txId);
        if (coordinator !== null && coordinator !== from) break;
        if (this.participant.decide(message.txId, message.commit)) this.out.send(from, { type: 'ack', txId: message.txId });
        break;
      }
      case 'ack':
        this.coordinator.onAck(message.txId, from);
        break;
      case 'inquire': {
        const commit = this.coordinator.answer(message.txId);
        if (commit !== null) this.out.send(from, { type: 'decision', txId: message.txId, commit });
        break;
      }
      default:
        assertNever(message);
    }
  }

  private onRequest(requestId: RequestId, request: TpcRequest): void {
    if (request.type === 'read') {
      this.out.reply(requestId, { type: 'value', key: request.key, value: this.participant.read(request.key) });
      return;
    }
    const problem = transactionProblem(request, this.peers, this.config);
    if (problem !== null) {
      this.out.reply(requestId, { type: 'error', code: ErrorCode.InvalidArgument, message: problem });
      return;
    }
    if (this.coordinator.knows(request.txId) || this.participant.state(request.txId) !== null) {
      this.out.reply(requestId, { type: 'error', code: ErrorCode.Conflict, message: `transaction id ${request.txId} was already used` });
      return;
    }
    this.stats.transactions += 1;
    this.coordinator.begin(request.txId, request.writes, requestId);
  }

  private onTimer(timer: string): void {
    if (timer.startsWith(resendPrefix)) {
      this.coordinator.onResend(timer.slice(resendPrefix.length));
    } else if (timer.startsWith(inquirePrefix)) {
      this.inquire(timer.slice(inquirePrefix.length));
    }
  }

  /** A prepared transaction without an outcome: ask its coordinator (ourselves, possibly). */
  private inquire(txId: TxId): void {
    const coordinator = this.participant.inquire(txId);
    if (coordinator === null) return;
    if (coordinator !== this.id) {
      this.out.send(coordinator, { type: 'inquire', txId });
      return;
    }
    const commit = this.coordinator.answer(txId);
    if (commit !== null) this.participant.decide(txId, commit);
  }
}

export function twoPhaseCommitFactory(overrides: Partial<TpcConfig> = {}): (context: CoreContext<TpcRecord>) => TwoPhaseCommitCore {
  const config = tpcConfig(overrides);
  return (context) => new TwoPhaseCommitCore(context, config);
}
