import { assertNever } from '../core/errors.js';
import type { NodeId } from '../core/ids.js';
import type { Rng } from '../core/rng.js';
import { drawPartition, partitionModes, type Partition, type PartitionMode } from './partition.js';
import type { FaultName, RunSettings } from './settings.js';

/**
 * The nemesis: a fault schedule drawn from the seed before the run starts, so it is printed and
 * replayed exactly. Every episode is placed so the system can recover: each fault is undone
 * before the fault phase ends, at most one partition exists at a time, and at most
 * `maxFaultyNodes` nodes (Byzantine ones included) are faulty at any instant.
 */
export type NemesisAction =
  | { readonly kind: 'crash' | 'restart' | 'pause' | 'resume' | 'slow-end'; readonly node: NodeId }
  | { readonly kind: 'omission'; readonly node: NodeId; readonly direction: 'send' | 'receive'; readonly ratio: number }
  | { readonly kind: 'omission-end'; readonly node: NodeId; readonly direction: 'send' | 'receive' }
  | { readonly kind: 'slow'; readonly node: NodeId; readonly extraUs: number }
  | {
      readonly kind: 'partition';
      readonly mode: PartitionMode;
      /** Who can talk to whom, for people (groups may overlap for bridge and ring shapes). */
      readonly groups: readonly (readonly NodeId[])[];
      readonly partition: Partition;
    }
  | { readonly kind: 'heal' };

export interface ScheduledAction {
  readonly atUs: number;
  readonly action: NemesisAction;
}

/** What the nemesis acts upon (the `Simulation` implements it). */
export interface NemesisTarget {
  crash(node: NodeId): void;
  restart(node: NodeId): void;
  pause(node: NodeId): void;
  resume(node: NodeId): void;
  setSendOmission(node: NodeId, ratio: number): void;
  setReceiveOmission(node: NodeId, ratio: number): void;
  setSlow(node: NodeId, extraUs: number): void;
  partition(partition: Partition): void;
  heal(): void;
}

type EpisodeKind = 'crash' | 'pause' | 'omission' | 'slow' | 'partition';
const episodeKinds: readonly EpisodeKind[] = ['crash', 'pause', 'omission', 'slow', 'partition'];

interface Episode {
  readonly kind: EpisodeKind;
  readonly startUs: number;
  readonly endUs: number;
  readonly node: NodeId | null;
}

/** Draws the fault schedule of a run. Pure function of (settings, rng). */
export function drawSchedule(settings: RunSettings, rng: Rng): ScheduledAction[] {
  const kinds = episodeKinds.filter((kind) => settings.faults.includes(kind as FaultName));
  if (kinds.length === 0) return [];
  const phaseEndUs = settings.durationMs * 1000;
  const meanGapUs = settings.nemesisMeanGapMs * 1000;
  const episodes: Episode[] = [];
  const actions: ScheduledAction[] = [];
  let startUs = Math.floor(rng.exponential(meanGapUs));
  while (startUs < phaseEndUs - 1) {
    const kind = rng.pick(kinds);
    const longestUs = Math.min(phaseEndUs - startUs, 3 * meanGapUs);
    const endUs = startUs + Math.max(1, Math.floor(longestUs * (0.1 + 0.9 * rng.next())));
    const episode = placeEpisode(kind, startUs, Math.min(endUs, phaseEndUs), episodes, settings, rng);
    if (episode !== null) {
      episodes.push(episode);
      actions.push(...episodeActions(episode, settings, rng));
    }
    startUs += 1 + Math.floor(rng.exponential(meanGapUs));
  }
  // Stable sort by time keeps generation order for equal times (a start before its own end).
  return actions.map((action, index) => ({ action, index })).sort((a, b) => a.action.atUs - b.action.atUs || a.index - b.index).map((entry) => entry.action);
}

function overlaps(episode: Episode, startUs: number, endUs: number): boolean {
  return episode.startUs < endUs && startUs < episode.endUs;
}

/** Picks a target respecting the recoverability constraints, or null to skip this episode. */
function placeEpisode(kind: EpisodeKind, startUs: number, endUs: number, episodes: readonly Episode[], settings: RunSettings, rng: Rng): Episode | null {
  const concurrent = episodes.filter((episode) => overlaps(episode, startUs, endUs));
  if (kind === 'partition') {
    if (settings.nodes.length < 2 || concurrent.some((episode) => episode.kind === 'partition')) return null;
    return { kind, startUs, endUs, node: null };
  }
  const byzantine = Object.keys(settings.byzantine);
  const busy = new Set(concurrent.flatMap((episode) => (episode.node === null ? [] : [episode.node])));
  if (busy.size + byzantine.length >= settings.maxFaultyNodes) return null;
  const candidates = settings.nodes.filter((node) => !busy.has(node) && !byzantine.includes(node));
  if (candidates.length === 0) return null;
  return { kind, startUs, endUs, node: rng.pick(candidates) };
}

function episodeActions(episode: Episode, settings: RunSettings, rng: Rng): ScheduledAction[] {
  const at = (atUs: number, action: NemesisAction): ScheduledAction => ({ atUs, action });
  const node = episode.node!;
  switch (episode.kind) {
    case 'crash':
      return [at(episode.startUs, { kind: 'crash', node }), at(episode.endUs, { kind: 'restart', node })];
    case 'pause':
      return [at(episode.startUs, { kind: 'pause', node }), at(episode.endUs, { kind: 'resume', node })];
    case 'omission': {
      const direction = rng.chance(0.5) ? 'send' : 'receive';
      const ratio = Math.round((0.2 + 0.8 * rng.next()) * 1000) / 1000;
      return [at(episode.startUs, { kind: 'omission', node, direction, ratio }), at(episode.endUs, { kind: 'omission-end', node, direction })];
    }
    case 'slow':
      return [at(episode.startUs, { kind: 'slow', node, extraUs: rng.int(1000, 50_000) }), at(episode.endUs, { kind: 'slow-end', node })];
    case 'partition': {
      const mode = rng.pick(partitionModes);
      const partition = drawPartition(mode, settings.nodes.length, rng);
      const groups = partition.groups.map((group) => group.map((index) => settings.nodes[index]!));
      return [at(episode.startUs, { kind: 'partition', mode, groups, partition }), at(episode.endUs, { kind: 'heal' })];
    }
    default:
      return assertNever(episode.kind, 'episode kind');
  }
}

/** Carries out one action. */
export function applyAction(target: NemesisTarget, action: NemesisAction): void {
  switch (action.kind) {
    case 'crash':
      return target.crash(action.node);
    case 'restart':
      return target.restart(action.node);
    case 'pause':
      return target.pause(action.node);
    case 'resume':
      return target.resume(action.node);
    case 'omission':
      return action.direction === 'send' ? target.setSendOmission(action.node, action.ratio) : target.setReceiveOmission(action.node, action.ratio);
    case 'omission-end':
      return action.direction === 'send' ? target.setSendOmission(action.node, 0) : target.setReceiveOmission(action.node, 0);
    case 'slow':
      return target.setSlow(action.node, action.extraUs);
    case 'slow-end':
      return target.setSlow(action.node, 0);
    case 'partition':
      return target.partition(action.partition);
    case 'heal':
      return target.heal();
    default:
      return assertNever(action, 'nemesis action');
  }
}

/** A one-line description, e.g. `1234.5ms crash n3`. */
export function describeAction(scheduled: ScheduledAction): string {
  const action = scheduled.action;
  const time = `${(scheduled.atUs / 1000).toFixed(1)}ms`;
  switch (action.kind) {
    case 'partition':
      return `${time} partition ${action.mode} ${action.groups.map((group) => `{${group.join(',')}}`).join(' ')}`;
    case 'heal':
      return `${time} heal`;
    case 'omission':
      return `${time} ${action.direction}-omission ${action.node} ratio ${action.ratio}`;
    case 'omission-end':
      return `${time} ${action.direction}-omission-end ${action.node}`;
    case 'slow':
      return `${time} slow ${action.node} +${action.extraUs / 1000}ms`;
    default:
      return `${time} ${action.kind} ${action.node}`;
  }
}
