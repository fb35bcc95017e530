import type { DurableLog, Transport } from '../../src/core/host.js';
import type { NodeId } from '../../src/core/ids.js';
import { ConcordError, ErrorCode } from '../../src/core/errors.js';
import { OutputBuilder, type CoreContext, type Input, type Output, type ProtocolCore } from '../../src/core/protocol.js';

/** In-memory transport: messages are delivered asynchronously (next macrotask), in order per link. */
export class MemoryNetwork<M> {
  private readonly handlers = new Map<NodeId, (from: NodeId, message: M) => void>();
  readonly sent: { from: NodeId; to: NodeId; message: M }[] = [];

  transport(self: NodeId, members: readonly NodeId[]): Transport<M> {
    return {
      self,
      send: (to, message) => {
        if (!members.includes(to)) throw new ConcordError(ErrorCode.UnknownNode, `unknown ${to}`);
        this.sent.push({ from: self, to, message });
        setImmediate(() => this.handlers.get(to)?.(self, message));
      },
      onMessage: (handler) => {
        this.handlers.set(self, handler);
      },
      close: async () => {
        this.handlers.delete(self);
      },
    };
  }
}

/** A durable log whose syncs complete only when the test says so (or automatically). */
export class ManualLog<P> implements DurableLog<P> {
  readonly appended: P[] = [];
  durableCount = 0;
  syncCalls = 0;
  failNextSync: Error | null = null;
  private waiting: { target: number; resolve: () => void; reject: (error: Error) => void }[] = [];

  constructor(private readonly recoveredRecords: readonly P[] = [], public autoSync = false) {}

  append(records: readonly P[]): void {
    this.appended.push(...records);
  }

  sync(): Promise<void> {
    this.syncCalls += 1;
    const target = this.appended.length;
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ target, resolve, reject });
      if (this.autoSync) setImmediate(() => this.completeSyncs());
    });
  }

  /** Completes every sync requested so far. */
  completeSyncs(): number {
    const waiting = this.waiting;
    this.waiting = [];
    for (const entry of waiting) {
      if (this.failNextSync !== null) {
        const error = this.failNextSync;
        this.failNextSync = null;
        entry.reject(error);
        continue;
      }
      this.durableCount = Math.max(this.durableCount, entry.target);
      entry.resolve();
    }
    return waiting.length;
  }

  get pendingSyncs(): number {
    return this.waiting.length;
  }

  recovered(): readonly P[] {
    return this.recoveredRecords;
  }

  async close(): Promise<void> {}
}

export type TestMessage = { readonly type: 'copy'; readonly value: string };
export type TestRequest =
  | { readonly type: 'write'; readonly value: string; readonly sync: boolean; readonly broadcast: boolean }
  | { readonly type: 'read' }
  | { readonly type: 'arm'; readonly timer: string; readonly afterTicks: number | null }
  | { readonly type: 'ignore' }
  | { readonly type: 'explode' };
export interface TestReply {
  readonly values: readonly string[];
  readonly ticks: number;
  readonly persistedThrough: number;
  readonly timersFired: readonly string[];
  readonly received: readonly string[];
}

/**
 * A small pure core for host tests: writes persist a record (sync or not) and optionally copy the
 * value to every peer; reads report what the core has seen (ticks, persisted inputs, timers).
 */
export class TestCore implements ProtocolCore<TestMessage, string, TestRequest, TestReply> {
  readonly id: NodeId;
  readonly tickDriven = true;
  readonly values: string[];
  readonly received: string[] = [];
  readonly timersFired: string[] = [];
  readonly persistedInputs: number[] = [];
  ticks = 0;
  private readonly out: OutputBuilder<TestMessage, string, TestReply>;

  constructor(private readonly context: CoreContext<string>) {
    this.id = context.id;
    this.values = [...context.recovered];
    this.out = new OutputBuilder(context.id);
  }

  start(): Output<TestMessage, string, TestReply> {
    return this.out.take();
  }

  step(input: Input<TestMessage, TestRequest>): Output<TestMessage, string, TestReply> {
    switch (input.type) {
      case 'tick':
        this.ticks += 1;
        break;
      case 'timer':
        this.timersFired.push(input.timer);
        break;
      case 'persisted':
        this.persistedInputs.push(input.throughRecord);
        break;
      case 'message':
        this.received.push(`${input.from}:${input.message.value}`);
        break;
      case 'request':
        this.request(input.requestId, input.request);
        break;
    }
    return this.out.take();
  }

  private request(requestId: number, request: TestRequest): void {
    switch (request.type) {
      case 'write':
        this.values.push(request.value);
        this.out.persist(request.value, { sync: request.sync });
        if (request.broadcast) {
          for (const peer of this.context.peers) if (peer !== this.id) this.out.send(peer, { type: 'copy', value: request.value });
        }
        this.out.reply(requestId, this.snapshot());
        break;
      case 'read':
        this.out.reply(requestId, this.snapshot());
        break;
      case 'arm':
        this.out.setTimer(request.timer, request.afterTicks);
        this.out.reply(requestId, this.snapshot());
        break;
      case 'ignore':
        break;
      case 'explode':
        throw new Error('boom');
    }
  }

  private snapshot(): TestReply {
    return {
      values: [...this.values],
      ticks: this.ticks,
      persistedThrough: this.persistedInputs.at(-1) ?? 0,
      timersFired: [...this.timersFired],
      received: [...this.received],
    };
  }
}
