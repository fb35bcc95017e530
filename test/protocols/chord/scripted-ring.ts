import { Rng } from '../../../src/core/rng.js';
import {
  type ChordCore, chordFactory, type ChordMessage, type ChordRecord, type ChordReply, type ChordRequest, defaultNodeOptions,
} from '../../../src/protocols/chord/index.js';
import { IdealRing } from '../../../src/scenarios/chord-checks.js';
import { ScriptedNet } from '../scripted-net.js';

/** Chord nodes whose messages are carried by hand; `down` nodes neither send nor receive. */
export class ScriptedRing extends ScriptedNet<ChordCore, ChordMessage, ChordRecord, ChordRequest, ChordReply> {
  readonly down = new Set<string>();

  /** `maintenance`: the timers each `rounds` fires on every member, in order. */
  constructor(
    readonly ids: readonly string[],
    seed: number,
    private readonly maintenance: readonly string[],
  ) {
    const factory = chordFactory({}, (id, peers) => ({ ...defaultNodeOptions(id, peers), joinAfterTicks: 1 }));
    super(ids, (id, recovered) => factory({ id, peers: ids, rng: Rng.fromSeed(seed).split(id), recovered }));
  }

  get live(): string[] {
    return this.ids.filter((id) => !this.down.has(id));
  }

  deliver(): void {
    this.deliverAll((envelope) => this.down.has(envelope.from) || this.down.has(envelope.to));
  }

  /** Fires the join timer until the node is in (a random contact may not have joined yet and refuse). */
  join(id: string): void {
    for (let attempt = 0; attempt < 50 && !this.core(id).joined; attempt += 1) {
      this.timer(id, 'join');
      this.deliver();
    }
  }

  /** Every live one of `members` runs each maintenance timer once; messages are delivered after each. */
  rounds(count: number, members: readonly string[] = this.ids): void {
    for (let round = 0; round < count; round += 1) {
      for (const id of members) {
        if (this.down.has(id)) continue;
        for (const timer of this.maintenance) {
          this.timer(id, timer);
          this.deliver();
        }
      }
    }
  }

  converged(withFingers: boolean): string | null {
    const ring = new IdealRing(this.live, 3);
    for (const id of this.live) {
      const problem = ring.problem(this.core(id), withFingers);
      if (problem !== null) return problem;
    }
    return null;
  }
}
