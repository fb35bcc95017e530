import type { Envelope } from '../../src/core/envelope.js';
import type { Input, Output, ProtocolCore } from '../../src/core/protocol.js';

/**
 * Scripted interaction tests of a protocol core: a few cores whose messages a test carries by
 * hand (`deliverAll`, with a filter for what is lost), each with a "disk" that keeps every record
 * it emitted, so `boot` restarts a node from what it persisted.
 */
export class ScriptedNet<C extends ProtocolCore<M, P, Req, Rep>, M, P, Req, Rep> {
  readonly cores = new Map<string, C>();
  readonly disks: Map<string, P[]>;
  readonly inFlight: Envelope<M>[] = [];
  readonly replies: Rep[] = [];
  readonly outputs: Output<M, P, Rep>[] = [];
  private requestIds = 0;

  constructor(ids: readonly string[], private readonly make: (id: string, recovered: readonly P[]) => C) {
    this.disks = new Map(ids.map((id) => [id, []]));
    for (const id of ids) this.boot(id);
  }

  core(id: string): C {
    return this.cores.get(id)!;
  }

  /** Starts (or restarts, after a power cut) `id` from its records. */
  boot(id: string): void {
    const core = this.make(id, [...this.disks.get(id)!]);
    this.cores.set(id, core);
    this.apply(id, core.start());
  }

  step(id: string, input: Input<M, Req>): void {
    this.apply(id, this.core(id).step(input));
  }

  request(id: string, request: Req): void {
    this.requestIds += 1;
    this.step(id, { type: 'request', requestId: this.requestIds, request });
  }

  timer(id: string, timer: string): void {
    this.step(id, { type: 'timer', timer });
  }

  /** Delivers every message in flight (and those they cause) except what `drop` rejects. */
  deliverAll(drop: (envelope: Envelope<M>) => boolean = () => false): void {
    while (this.inFlight.length > 0) {
      const envelope = this.inFlight.shift()!;
      if (!drop(envelope)) this.step(envelope.to, { type: 'message', from: envelope.from, message: envelope.message });
    }
  }

  private apply(id: string, output: Output<M, P, Rep>): void {
    this.outputs.push(output);
    this.disks.get(id)!.push(...output.persist);
    this.inFlight.push(...output.messages);
    this.replies.push(...output.replies.map((reply) => reply.reply));
  }
}
