import { ConcordError, ErrorCode } from '../core/errors.js';
import { nodeIds, type NodeId } from '../core/ids.js';
import type { Rng } from '../core/rng.js';
import { byzantineModes, type ByzantineMode } from './adversary.js';
import { timingModelKinds, type TimingModel, type TimingModelKind } from './timing.js';
import type { TopologyKind } from './topology.js';

/**
 * Fault settings of one run, derived from the seed (swarm testing: every seed draws its own fault
 * intensities, so a sweep covers calm runs and violent ones). Everything here is printed with
 * the seed; `--seed N` plus the same options reproduces it exactly.
 */
export type FaultName = 'crash' | 'partition' | 'loss' | 'dup' | 'reorder' | 'drift' | 'pause' | 'omission' | 'slow' | 'byzantine';
export const faultNames: readonly FaultName[] = ['crash', 'partition', 'loss', 'dup', 'reorder', 'drift', 'pause', 'omission', 'slow', 'byzantine'];

/** Parses `crash,partition,…`, `all` or `none`. Throws `INVALID_ARGUMENT` naming a bad entry. */
export function parseFaults(text: string): FaultName[] {
  const trimmed = text.trim();
  if (trimmed === 'none' || trimmed === '') return [];
  if (trimmed === 'all') return faultNames.slice();
  const result: FaultName[] = [];
  for (const part of trimmed.split(',')) {
    const name = part.trim();
    if (!(faultNames as readonly string[]).includes(name)) {
      throw new ConcordError(ErrorCode.InvalidArgument, `unknown fault "${name}" (known: ${faultNames.join(', ')}, all, none)`);
    }
    if (!result.includes(name as FaultName)) result.push(name as FaultName);
  }
  return result;
}

export type TimingChoice = TimingModelKind | 'random';
export const timingChoices: readonly TimingChoice[] = [...timingModelKinds, 'random'];

/** Settings the seed chose for this run (plus the options it was given). */
export interface RunSettings {
  readonly scenario: string;
  readonly seed: number;
  readonly nodes: readonly NodeId[];
  readonly faults: readonly FaultName[];
  /** Length of the fault phase (virtual ms); the heal phase follows. */
  readonly durationMs: number;
  /** The heal phase's liveness bound (virtual ms). */
  readonly livenessBoundMs: number;
  readonly timing: TimingModel;
  /** Which links exist (`random` is drawn from the seed's `topology` sub-generator). */
  readonly topology: TopologyKind;
  /** The synchronous model the network switches to when healing (Δ of this run). */
  readonly healTiming: TimingModel;
  readonly tickIntervalMs: number;
  readonly fsyncLatencyUs: number;
  readonly crashKeepsUnsyncedPrefix: boolean;
  /** Base link faults (every link), and the share of links made worse. */
  readonly lossRatio: number;
  readonly duplicateRatio: number;
  readonly reorderRatio: number;
  readonly badLinkShare: number;
  /** Per-node clock drift ratios (tick period × (1 + ratio)); empty without `drift`. */
  readonly clockDrift: Readonly<Record<NodeId, number>>;
  /** Byzantine nodes and their behaviour; empty without `byzantine`. */
  readonly byzantine: Readonly<Record<NodeId, ByzantineMode>>;
  /** Most nodes the nemesis may fault at once (crash, pause, omission, slow) — Byzantine ones included. */
  readonly maxFaultyNodes: number;
  /** Mean gap between nemesis episodes (virtual ms). */
  readonly nemesisMeanGapMs: number;
}

/** Ranges each seed draws its link-fault ratios from, when the fault is enabled (set min = max to pin one). */
export interface LinkFaultRanges {
  readonly lossRatioMin: number;
  readonly lossRatioMax: number;
  readonly duplicateRatioMin: number;
  readonly duplicateRatioMax: number;
  readonly reorderRatioMax: number;
}

export interface SettingsInput extends LinkFaultRanges {
  readonly scenario: string;
  readonly seed: number;
  readonly nodeCount: number;
  readonly faults: readonly FaultName[];
  readonly durationMs: number;
  readonly livenessBoundMs: number;
  readonly timing: TimingChoice;
  readonly topology: TopologyKind;
  readonly tickIntervalMs: number;
  readonly maxFaultyNodes: number;
  readonly maxByzantineNodes: number;
}

/** Draws the run's settings from `rng` (the root's `settings` sub-generator). */
export function deriveSettings(input: SettingsInput, rng: Rng): RunSettings {
  const enabled = (fault: FaultName): boolean => input.faults.includes(fault);
  const nodes = nodeIds(input.nodeCount);
  const durationUs = input.durationMs * 1000;
  const timingKind = input.timing === 'random' ? rng.pick(timingModelKinds) : input.timing;
  const delayUsMin = rng.int(50, 1000);
  const deltaUs = delayUsMin + rng.int(1000, 20_000);
  const timing = drawTiming(timingKind, rng, { delayUsMin, deltaUs, durationUs });
  const byzantine: Record<NodeId, ByzantineMode> = {};
  if (enabled('byzantine')) {
    const count = rng.int(1, Math.max(1, input.maxByzantineNodes));
    for (const node of rng.shuffle(nodes).slice(0, count)) byzantine[node] = rng.pick(byzantineModes);
  }
  const clockDrift: Record<NodeId, number> = {};
  if (enabled('drift')) {
    const driftMax = [0.001, 0.01, 0.05, 0.2][rng.int(0, 3)]!;
    for (const node of nodes) clockDrift[node] = round6((rng.next() * 2 - 1) * driftMax);
  }
  return {
    scenario: input.scenario,
    seed: input.seed,
    nodes,
    faults: input.faults.slice(),
    durationMs: input.durationMs,
    livenessBoundMs: input.livenessBoundMs,
    timing,
    topology: input.topology,
    healTiming: { kind: 'synchronous', delayUsMin, deltaUs },
    tickIntervalMs: input.tickIntervalMs,
    fsyncLatencyUs: rng.int(50, 2000),
    crashKeepsUnsyncedPrefix: rng.chance(0.5),
    lossRatio: enabled('loss') ? drawRatio(rng, input.lossRatioMin, input.lossRatioMax) : 0,
    duplicateRatio: enabled('dup') ? drawRatio(rng, input.duplicateRatioMin, input.duplicateRatioMax) : 0,
    reorderRatio: enabled('reorder') ? drawRatio(rng, 0, input.reorderRatioMax) : 0,
    badLinkShare: enabled('loss') || enabled('dup') ? round6(rng.next() * 0.3) : 0,
    clockDrift,
    byzantine,
    maxFaultyNodes: input.maxFaultyNodes,
    nemesisMeanGapMs: Math.max(1, Math.round(input.durationMs / rng.int(3, 12))),
  };
}

function drawTiming(kind: TimingModelKind, rng: Rng, base: { delayUsMin: number; deltaUs: number; durationUs: number }): TimingModel {
  switch (kind) {
    case 'synchronous':
      return { kind, delayUsMin: base.delayUsMin, deltaUs: base.deltaUs };
    case 'asynchronous':
      return { kind, delayUsMin: base.delayUsMin, scaleUs: rng.int(500, 5000), alpha: round6(1.1 + rng.next() * 1.4) };
    case 'partial':
      return {
        kind,
        delayUsMin: base.delayUsMin,
        deltaUs: base.deltaUs,
        gstUs: Math.floor(base.durationUs * (0.2 + rng.next() * 0.6)),
        scaleUs: rng.int(500, 5000),
        alpha: round6(1.1 + rng.next() * 1.4),
      };
  }
}

/** A ratio uniform in [min, max] (a fixed value when min = max). */
function drawRatio(rng: Rng, min: number, max: number): number {
  if (!(min >= 0 && max <= 1 && min <= max)) throw new ConcordError(ErrorCode.InvalidConfig, `bad ratio range [${min}, ${max}]`);
  return round6(min + rng.next() * (max - min));
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** Parses a duration such as `30s`, `500ms`, `2m` or a bare number of seconds into ms. */
export function parseDurationMs(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min)?\s*$/.exec(text);
  if (match === null) throw new ConcordError(ErrorCode.InvalidArgument, `bad duration "${text}" (use e.g. 500ms, 30s, 2m)`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  const ms = unit === 'ms' ? value : unit === 's' ? value * 1000 : value * 60_000;
  if (!Number.isInteger(ms) || ms < 1) throw new ConcordError(ErrorCode.InvalidArgument, `duration "${text}" must be a whole number of ms ≥ 1`);
  return ms;
}
