import type { ScenarioResult } from '../sim/scenario.js';
import { describeTimingModel } from '../sim/timing.js';
import { totalDrops } from '../sim/stats.js';
import { buildTopology } from '../sim/runner.js';
import type { RunSettings } from '../sim/settings.js';
import type { TopologyMetrics } from '../sim/topology.js';

/** Human and JSON renderings of one scenario run. */

const percent = (ratio: number): string => `${(ratio * 100).toFixed(1)}%`;
const ms = (value: number): string => (value >= 1000 ? `${(value / 1000).toFixed(3)}s` : `${value.toFixed(1)}ms`);

/** Largest cluster whose graph metrics are computed for the report (diameter is O(n·m)). */
const metricsNodesMax = 200;

/** Graph metrics of the run's topology (null above `metricsNodesMax` nodes). */
export function runTopologyMetrics(settings: RunSettings): TopologyMetrics | null {
  return settings.nodes.length > metricsNodesMax ? null : buildTopology(settings).metrics();
}

function describeTopology(settings: RunSettings): string {
  const metrics = runTopologyMetrics(settings);
  if (metrics === null) return `${settings.topology} (metrics skipped above ${metricsNodesMax} nodes)`;
  const diameter = Number.isFinite(metrics.diameter) ? String(metrics.diameter) : '∞';
  return `${settings.topology}: ${metrics.links} links, ${metrics.connected ? 'connected' : 'DISCONNECTED'}, diameter ${diameter}, clustering ${metrics.clusteringCoefficient.toFixed(3)}`;
}

/** The deterministic JSON object printed by `concord sim --json` (no wall-clock fields). */
export function resultToJson(result: ScenarioResult, replay: string): Record<string, unknown> {
  return {
    scenario: result.scenario,
    seed: result.seed,
    traceHash: result.traceHash,
    ok: result.violations.length === 0,
    violations: result.violations,
    stats: result.stats,
    liveness: result.liveness,
    virtualTimeMs: result.virtualTimeMs,
    clients: result.clients,
    settings: { ...result.settings, timingDescription: describeTimingModel(result.settings.timing), topologyMetrics: jsonMetrics(result.settings) },
    schedule: result.schedule,
    notes: result.notes,
    historyEvents: result.history.length,
    replay,
  };
}

function jsonMetrics(settings: RunSettings): Record<string, unknown> | null {
  const metrics = runTopologyMetrics(settings);
  // JSON has no Infinity: a disconnected topology's diameter is reported as null.
  return metrics === null ? null : { ...metrics, diameter: Number.isFinite(metrics.diameter) ? metrics.diameter : null };
}

/** The settings block: seed and everything derived from it. */
export function formatSettings(result: ScenarioResult): string[] {
  const s = result.settings;
  const lines = [
    `concord sim ${result.scenario} — seed ${result.seed}`,
    `  nodes       ${s.nodes.length} (${s.nodes[0]}…${s.nodes.at(-1)}), at most ${s.maxFaultyNodes} faulty at once`,
    `  faults      ${s.faults.length === 0 ? 'none' : s.faults.join(', ')}`,
    `  timing      ${describeTimingModel(s.timing)}; heal phase Δ=${ms(s.healTiming.kind === 'asynchronous' ? 0 : s.healTiming.deltaUs / 1000)}`,
    `  topology    ${describeTopology(s)}`,
    `  links       loss ${percent(s.lossRatio)}, duplication ${percent(s.duplicateRatio)}, reordering ${percent(s.reorderRatio)}, bad links ${percent(s.badLinkShare)}`,
    `  disk        fsync ${ms(s.fsyncLatencyUs / 1000)}, a crash ${s.crashKeepsUnsyncedPrefix ? 'may keep a prefix of' : 'loses all'} unsynced writes`,
    `  ticks       ${s.tickIntervalMs}ms${Object.keys(s.clockDrift).length > 0 ? `, drift ${Object.entries(s.clockDrift).map(([node, ratio]) => `${node} ${ratio >= 0 ? '+' : ''}${percent(ratio)}`).join(' ')}` : ''}`,
    `  byzantine   ${Object.keys(s.byzantine).length === 0 ? 'none' : Object.entries(s.byzantine).map(([node, mode]) => `${node}:${mode}`).join(' ')}`,
    `  phases      faults ${ms(s.durationMs)}, then heal with a liveness bound of ${ms(s.livenessBoundMs)}`,
    `  nemesis     ${result.schedule.length === 0 ? 'no actions' : `${result.schedule.length} actions`}`,
  ];
  for (const line of result.schedule) lines.push(`                ${line}`);
  if (result.notes.length > 0) lines.push(`  scenario    ${result.notes[0]}`);
  for (const line of result.notes.slice(1)) lines.push(`                ${line}`);
  return lines;
}

export function formatResult(result: ScenarioResult, replay: string, wallMs: number): string {
  const stats = result.stats;
  const drops = stats.drops;
  const dropParts = Object.entries(drops).filter(([, count]) => count > 0).map(([reason, count]) => `${reason} ${count}`);
  const liveness = result.liveness;
  const livenessText =
    liveness.held === null ? 'not reached' : liveness.held ? `held ${ms(liveness.afterMs ?? 0)} after healing` : `FAILED within ${ms(liveness.boundMs)}`;
  const lines = [
    ...formatSettings(result),
    '',
    `result        ${result.violations.length === 0 ? 'OK — no violation' : `VIOLATION (${result.violations.length})`}`,
    `  trace hash  ${result.traceHash}`,
    `  virtual     ${ms(result.virtualTimeMs)}; liveness (${liveness.description}): ${livenessText}`,
    `  messages    ${stats.sent} sent, ${stats.deliveries} delivered, ${stats.duplicates} duplicated, ${totalDrops(stats)} dropped${dropParts.length > 0 ? ` (${dropParts.join(', ')})` : ''}`,
    `  nodes       ${stats.crashes} crashes, ${stats.restarts} restarts, ${stats.pauses} pauses, ${stats.recordsPersisted} records persisted, ${stats.syncs} syncs`,
    `  clients     ${result.clients.invoked} operations: ${result.clients.ok} ok, ${result.clients.fail} fail, ${result.clients.info} info`,
    `  events      ${stats.events} in ${wallMs.toFixed(0)}ms wall time`,
  ];
  for (const violation of result.violations) {
    lines.push(`  ✗ ${ms(violation.timeUs / 1000)} [${violation.phase}] ${violation.checker}: ${violation.message}`);
  }
  lines.push('', `replay: ${replay}`);
  return lines.join('\n');
}
