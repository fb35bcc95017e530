import type { Envelope } from './envelope.js';
import type { NodeId, RequestId } from './ids.js';
import type { Rng } from './rng.js';

/**
 * The host contract. A protocol core is a pure, synchronous state machine: the host feeds it
 * `Input`s one at a time and carries out the `Output` it returns. A core never reads a clock,
 * draws ambient randomness, sets a timer or touches I/O; those arrive as inputs or are injected
 * (`CoreContext.rng`). The simulator and the TCP runtime are two hosts of the same cores.
 */

/** What a host feeds into a core. */
export type Input<M, Req> =
  /** A message from a peer (already authenticated as `from` by the transport). */
  | { readonly type: 'message'; readonly from: NodeId; readonly message: M }
  /** One tick of local time passed (only delivered to cores whose `tickDriven` is true). */
  | { readonly type: 'tick' }
  /** A timer the core asked for (see `TimerRequest`) has expired. */
  | { readonly type: 'timer'; readonly timer: string }
  /** A client asks for something; the core answers with a `ClientReply` carrying `requestId`. */
  | { readonly type: 'request'; readonly requestId: RequestId; readonly request: Req }
  /**
   * Local completion: every record this core has emitted in `Output.persist` since it started,
   * up to and including the `throughRecord`-th (counting from 1), is durable (synced).
   */
  | { readonly type: 'persisted'; readonly throughRecord: number };

/** Ask the host to deliver `{ type: 'timer', timer }` after `afterTicks` ticks. Same name replaces; `afterTicks: null` cancels. */
export interface TimerRequest {
  readonly timer: string;
  readonly afterTicks: number | null;
}

export interface ClientReply<Rep> {
  readonly requestId: RequestId;
  readonly reply: Rep;
}

/**
 * What a core asks its host to do, in this order (the order is the contract):
 *
 * 1. **persist**: append `persist` records to the node's durable log. When `sync` is true they
 *    must be synced (fsync) before step 2; when false they may be written lazily and can be lost
 *    in a crash (the core will learn durability through a `persisted` input).
 * 2. **send** `messages` — only after step 1 when `sync` is true, since they may depend on it
 *    (a vote, an acknowledgement).
 * 3. **reply** to clients.
 * 4. **arm timers**.
 *
 * Records are counted per incarnation of the core: the first record it ever emits is record 1.
 */
export interface Output<M, P, Rep> {
  readonly persist: readonly P[];
  readonly sync: boolean;
  readonly messages: readonly Envelope<M>[];
  readonly replies: readonly ClientReply<Rep>[];
  readonly timers: readonly TimerRequest[];
}

/** Everything a core may use from its host when it is created. */
export interface CoreContext<P> {
  readonly id: NodeId;
  /** Every member the core starts with (including itself), in a stable order. */
  readonly peers: readonly NodeId[];
  /** A seeded generator owned by this core incarnation. */
  readonly rng: Rng;
  /** Durable records that survived the last crash, oldest first (empty on first start). */
  readonly recovered: readonly P[];
}

export interface ProtocolCore<M, P, Req, Rep> {
  readonly id: NodeId;
  /** True when the core wants a `tick` input every tick. */
  readonly tickDriven: boolean;
  /** Output of starting (or restarting from `recovered`): initial timers, messages. */
  start(): Output<M, P, Rep>;
  step(input: Input<M, Req>): Output<M, P, Rep>;
  /**
   * Optional: the end of a stretch of inputs a host delivered together (the net runtime calls it
   * once per event-loop turn). A core may hold sends until then to merge them into fewer messages,
   * but only when told (by its own configuration) that its host calls this.
   */
  endTurn?(): Output<M, P, Rep>;
}

/** Builds a core from its context; called on first start and on every restart after a crash. */
export type CoreFactory<M, P, Req, Rep> = (context: CoreContext<P>) => ProtocolCore<M, P, Req, Rep>;

const emptyOutput: Output<never, never, never> = Object.freeze({
  persist: Object.freeze([]) as readonly never[],
  sync: false,
  messages: Object.freeze([]) as readonly never[],
  replies: Object.freeze([]) as readonly never[],
  timers: Object.freeze([]) as readonly never[],
});

/** The shared empty output; cores return it when an input changes nothing visible. */
export function noOutput<M, P, Rep>(): Output<M, P, Rep> {
  return emptyOutput;
}

/**
 * A mutable collector cores use while handling one input; `take()` returns the `Output` and
 * resets. Keeps every core from hand-building the five arrays.
 */
export class OutputBuilder<M, P, Rep> {
  private persistList: P[] = [];
  private syncNeeded = false;
  private messageList: Envelope<M>[] = [];
  private replyList: ClientReply<Rep>[] = [];
  private timerList: TimerRequest[] = [];
  private recordsEmitted = 0;

  constructor(private readonly self: NodeId) {}

  /** Number of records emitted so far by this core incarnation (the last record's number). */
  get lastRecord(): number {
    return this.recordsEmitted;
  }

  persist(record: P, options: { sync: boolean }): number {
    this.persistList.push(record);
    if (options.sync) this.syncNeeded = true;
    this.recordsEmitted += 1;
    return this.recordsEmitted;
  }

  send(to: NodeId, message: M): void {
    this.messageList.push({ from: this.self, to, message });
  }

  reply(requestId: RequestId, reply: Rep): void {
    this.replyList.push({ requestId, reply });
  }

  setTimer(timer: string, afterTicks: number | null): void {
    this.timerList.push({ timer, afterTicks });
  }

  take(): Output<M, P, Rep> {
    if (
      this.persistList.length === 0 &&
      this.messageList.length === 0 &&
      this.replyList.length === 0 &&
      this.timerList.length === 0
    ) {
      return emptyOutput;
    }
    const output: Output<M, P, Rep> = {
      persist: this.persistList,
      sync: this.syncNeeded,
      messages: this.messageList,
      replies: this.replyList,
      timers: this.timerList,
    };
    this.persistList = [];
    this.syncNeeded = false;
    this.messageList = [];
    this.replyList = [];
    this.timerList = [];
    return output;
  }
}

/** What a core built on `OutputBuilder` does with each kind of input (absent: nothing). */
export interface InputHandlers<M, Req> {
  message?(from: NodeId, message: M): void;
  request?(requestId: RequestId, request: Req): void;
  timer?(timer: string): void;
  tick?(): void;
  persisted?(throughRecord: number): void;
}

/** Routes one input to its handler and returns what the handler asked for (the builder's output). */
export function stepWith<M, P, Req, Rep>(out: OutputBuilder<M, P, Rep>, input: Input<M, Req>, handlers: InputHandlers<M, Req>): Output<M, P, Rep> {
  switch (input.type) {
    case 'message':
      handlers.message?.(input.from, input.message);
      break;
    case 'request':
      handlers.request?.(input.requestId, input.request);
      break;
    case 'timer':
      handlers.timer?.(input.timer);
      break;
    case 'tick':
      handlers.tick?.();
      break;
    case 'persisted':
      handlers.persisted?.(input.throughRecord);
      break;
  }
  return out.take();
}
