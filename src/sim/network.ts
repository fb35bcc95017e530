import { assert, ConcordError, ErrorCode } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { Partition } from './partition.js';
import { sampleDelayUs, validateTimingModel, type TimingModel } from './timing.js';
import { Topology } from './topology.js';

/** Why the network dropped a message (returned negated by `Network.route`). */
export const DropReason = {
  NoLink: 1,
  Partition: 2,
  Loss: 3,
} as const;

/** Fault knobs of one directed link; every ratio is a probability in [0, 1]. */
export interface LinkFaults {
  /** Probability a message is lost. */
  readonly lossRatio: number;
  /** Probability a delivered message is delivered twice (the copy has its own delay). */
  readonly duplicateRatio: number;
  /**
   * Probability a message skips the link's FIFO order. Links are FIFO by default (like TCP); a
   * reordered message keeps its own random delay, so it may overtake or be overtaken.
   */
  readonly reorderRatio: number;
  /** Multiplies sampled delays (≥ 1; a slow link), still capped by the timing model's bound. */
  readonly delayFactor: number;
}

export const noLinkFaults: LinkFaults = Object.freeze({ lossRatio: 0, duplicateRatio: 0, reorderRatio: 0, delayFactor: 1 });

/**
 * The simulated network between `n` nodes (by index): a timing model, a topology, per-link
 * faults and the current partition. `route` decides the fate of one message in O(1) with at most
 * three draws from the network's own Rng — the simulator's hot path.
 */
export class Network {
  readonly size: number;
  private readonly topology: Topology;
  /** blocked[a*n+b] = 1 when a→b has no link or is cut by the partition. */
  private readonly blocked: Uint8Array;
  private readonly cut: Uint8Array;
  private readonly loss: Float64Array;
  private readonly duplicate: Float64Array;
  private readonly reorder: Float64Array;
  private readonly delayFactor: Float64Array;
  /** Latest scheduled in-order delivery per link (FIFO clamp). */
  private readonly lastDeliveryUs: Float64Array;
  private currentPartition: Partition | null = null;

  constructor(
    topology: Topology,
    private model: TimingModel,
    private readonly rng: Rng,
  ) {
    validateTimingModel(model);
    const n = topology.size;
    this.size = n;
    this.topology = topology;
    this.blocked = new Uint8Array(n * n);
    this.cut = new Uint8Array(n * n);
    this.loss = new Float64Array(n * n);
    this.duplicate = new Float64Array(n * n);
    this.reorder = new Float64Array(n * n);
    this.delayFactor = new Float64Array(n * n).fill(1);
    this.lastDeliveryUs = new Float64Array(n * n);
    this.recomputeBlocked();
  }

  get timing(): TimingModel {
    return this.model;
  }

  get partition(): Partition | null {
    return this.currentPartition;
  }

  get links(): Topology {
    return this.topology;
  }

  /**
   * Replaces the timing model (e.g. synchrony for a heal phase). The links' FIFO history is
   * forgotten, so messages sent from now on obey the new model's bound even if older messages
   * (say, heavy-tailed asynchronous ones) are still in flight — they may overtake those.
   */
  setTimingModel(model: TimingModel): void {
    validateTimingModel(model);
    this.model = model;
    this.lastDeliveryUs.fill(0);
  }

  /** Sets the faults of the directed link from→to. */
  setLinkFaults(from: number, to: number, faults: LinkFaults): void {
    validateLinkFaults(faults);
    const index = from * this.size + to;
    this.loss[index] = faults.lossRatio;
    this.duplicate[index] = faults.duplicateRatio;
    this.reorder[index] = faults.reorderRatio;
    this.delayFactor[index] = faults.delayFactor;
  }

  /** Sets the same faults on every link. */
  setAllLinkFaults(faults: LinkFaults): void {
    for (let from = 0; from < this.size; from += 1) for (let to = 0; to < this.size; to += 1) this.setLinkFaults(from, to, faults);
  }

  linkFaults(from: number, to: number): LinkFaults {
    const index = from * this.size + to;
    return {
      lossRatio: this.loss[index]!,
      duplicateRatio: this.duplicate[index]!,
      reorderRatio: this.reorder[index]!,
      delayFactor: this.delayFactor[index]!,
    };
  }

  /** Installs a partition (replacing any current one). */
  setPartition(partition: Partition): void {
    assert(partition.cut.length === this.size * this.size, 'partition size does not match the network');
    this.cut.set(partition.cut);
    this.currentPartition = partition;
    this.recomputeBlocked();
  }

  /** Heals the current partition. */
  heal(): void {
    this.cut.fill(0);
    this.currentPartition = null;
    this.recomputeBlocked();
  }

  /** True when a message from→to would currently pass topology and partition. */
  isOpen(from: number, to: number): boolean {
    return this.blocked[from * this.size + to] === 0;
  }

  /** Whether the link from→to is cut by the current partition. */
  isCut(from: number, to: number): boolean {
    return this.cut[from * this.size + to] === 1;
  }

  /**
   * Decides one message sent at `nowUs`: returns its delivery time (≥ nowUs + delayUsMin), or
   * `-DropReason` when it is dropped.
   */
  route(from: number, to: number, nowUs: number): number {
    const index = from * this.size + to;
    if (this.blocked[index] !== 0) return this.cut[index] !== 0 ? -DropReason.Partition : -DropReason.NoLink;
    const rng = this.rng;
    const loss = this.loss[index]!;
    if (loss > 0 && rng.next() < loss) return -DropReason.Loss;
    const delivery = nowUs + sampleDelayUs(this.model, rng, nowUs, this.delayFactor[index]!);
    const reorder = this.reorder[index]!;
    if (reorder > 0 && rng.next() < reorder) return delivery;
    const last = this.lastDeliveryUs[index]!;
    if (delivery < last) return last;
    this.lastDeliveryUs[index] = delivery;
    return delivery;
  }

  /** After a successful `route`: the delivery time of a duplicate copy, or -1 for none. */
  routeDuplicate(from: number, to: number, nowUs: number): number {
    const index = from * this.size + to;
    const duplicate = this.duplicate[index]!;
    if (duplicate > 0 && this.rng.next() < duplicate) return nowUs + sampleDelayUs(this.model, this.rng, nowUs, this.delayFactor[index]!);
    return -1;
  }

  /** The topology minus currently cut links (a link is kept when open in both directions). */
  effectiveTopology(): Topology {
    const effective = new Topology(this.topology.nodes);
    const n = this.size;
    for (let a = 0; a < n; a += 1) {
      for (let b = a + 1; b < n; b += 1) if (this.isOpen(a, b) && this.isOpen(b, a)) effective.link(a, b);
    }
    return effective;
  }

  private recomputeBlocked(): void {
    const adjacency = this.topology.adjacency;
    for (let index = 0; index < this.blocked.length; index += 1) {
      this.blocked[index] = adjacency[index] === 0 || this.cut[index] === 1 ? 1 : 0;
    }
  }
}

export function validateLinkFaults(faults: LinkFaults): void {
  const ratio = (value: number): boolean => value >= 0 && value <= 1;
  if (!ratio(faults.lossRatio) || !ratio(faults.duplicateRatio) || !ratio(faults.reorderRatio) || !(faults.delayFactor >= 1)) {
    throw new ConcordError(ErrorCode.InvalidConfig, `bad link faults ${JSON.stringify(faults)}`);
  }
}
