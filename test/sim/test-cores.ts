import type { NodeId } from '../../src/core/ids.js';
import { noOutput, OutputBuilder, type CoreContext, type Input, type Output, type ProtocolCore } from '../../src/core/protocol.js';

/** Test cores for the simulator tests (pure, like any protocol core). */

export type LogRequest = { readonly type: 'write'; readonly value: string; readonly sync: boolean };
export type LogReply = { readonly type: 'written'; readonly record: number };

/** Persists one record per write request; replies once the write is handed to the host. */
export class LogCore implements ProtocolCore<never, string, LogRequest, LogReply> {
  readonly tickDriven = false;
  readonly id: NodeId;
  readonly recovered: readonly string[];
  persistedThrough = 0;
  readonly persistedInputs: number[] = [];
  private readonly out: OutputBuilder<never, string, LogReply>;

  constructor(context: CoreContext<string>) {
    this.id = context.id;
    this.recovered = context.recovered.slice();
    this.out = new OutputBuilder(context.id);
  }

  start(): Output<never, string, LogReply> {
    return noOutput();
  }

  step(input: Input<never, LogRequest>): Output<never, string, LogReply> {
    if (input.type === 'persisted') {
      this.persistedThrough = input.throughRecord;
      this.persistedInputs.push(input.throughRecord);
      return noOutput();
    }
    if (input.type !== 'request') return noOutput();
    const record = this.out.persist(input.request.value, { sync: input.request.sync });
    this.out.reply(input.requestId, { type: 'written', record });
    return this.out.take();
  }
}

export type FloodMessage = { readonly type: 'flood'; readonly seq: number };

/** Sends a numbered message to every peer every `intervalTicks`; counts what it sends and receives. */
export class FloodCore implements ProtocolCore<FloodMessage, never, never, never> {
  readonly tickDriven: boolean;
  readonly id: NodeId;
  readonly sentTo = new Map<NodeId, number>();
  readonly receivedFrom = new Map<NodeId, number>();
  readonly received: { from: NodeId; seq: number }[] = [];
  ticks = 0;
  timerFirings = 0;
  private seq = 0;
  private readonly peers: readonly NodeId[];

  constructor(
    context: CoreContext<never>,
    private readonly intervalTicks = 1,
    options: { tickDriven?: boolean } = {},
  ) {
    this.id = context.id;
    this.peers = context.peers.filter((peer) => peer !== context.id);
    this.tickDriven = options.tickDriven ?? false;
  }

  start(): Output<FloodMessage, never, never> {
    const out = new OutputBuilder<FloodMessage, never, never>(this.id);
    out.setTimer('flood', this.intervalTicks);
    return out.take();
  }

  step(input: Input<FloodMessage, never>): Output<FloodMessage, never, never> {
    switch (input.type) {
      case 'message':
        this.receivedFrom.set(input.from, (this.receivedFrom.get(input.from) ?? 0) + 1);
        this.received.push({ from: input.from, seq: input.message.seq });
        return noOutput();
      case 'tick':
        this.ticks += 1;
        return noOutput();
      case 'timer': {
        this.timerFirings += 1;
        const out = new OutputBuilder<FloodMessage, never, never>(this.id);
        for (const peer of this.peers) {
          out.send(peer, { type: 'flood', seq: ++this.seq });
          this.sentTo.set(peer, (this.sentTo.get(peer) ?? 0) + 1);
        }
        out.setTimer('flood', this.intervalTicks);
        return out.take();
      }
      default:
        return noOutput();
    }
  }
}
