import type { CheckResult } from './linearizability.js';
import type { Model, Operation } from './model.js';

/** What the visualizer draws: the checked operations, how to describe them, and the verdict. */
export interface VisualizationInput<Input, Output> {
  readonly title: string;
  readonly model: Pick<Model<unknown, Input, Output>, 'describeOperation'>;
  readonly operations: readonly Operation<Input, Output>[];
  readonly result: CheckResult;
}

const ROW_HEIGHT_PX = 24;
const BOX_HEIGHT_PX = 16;
const LABEL_WIDTH_PX = 90;
const AXIS_HEIGHT_PX = 28;
const MAX_WIDTH_PX = 6000;

type Status = 'prefix' | 'blocking' | 'candidate' | 'linearized' | 'other-partition' | 'unplaced';

/**
 * A self-contained HTML page (inline SVG, CSS and JS; no external resources) drawing the history
 * per process on a time axis, like Porcupine's visualizer. For a failure it marks the operation
 * that could not be placed (red), the longest linearizable prefix (green, numbered in order) and
 * the other candidates (orange), with a red line at the moment the search got stuck.
 */
export function renderHtml<Input, Output>(input: VisualizationInput<Input, Output>): string {
  const { operations, result } = input;
  const layout = timeLayout(operations);
  const status = statuses(operations, result);
  const order = linearizationOrder(result);
  const processes = [...new Set(operations.map((operation) => operation.process))].sort((a, b) => a - b);
  const rowOf = new Map(processes.map((process, index) => [process, index]));
  const height = AXIS_HEIGHT_PX + processes.length * ROW_HEIGHT_PX + 10;
  const width = LABEL_WIDTH_PX + layout.width + 30;
  const boxes = operations.map((operation) => {
    const x1 = layout.x(operation.call);
    const open = !Number.isFinite(operation.return);
    const x2 = open ? layout.width + LABEL_WIDTH_PX + 20 : Math.max(layout.x(operation.return), x1 + 3);
    const y = AXIS_HEIGHT_PX + rowOf.get(operation.process)! * ROW_HEIGHT_PX + (ROW_HEIGHT_PX - BOX_HEIGHT_PX) / 2;
    const description = input.model.describeOperation(operation.input, operation.output);
    const position = order.get(operation.id);
    const tip = `#${operation.id} process ${operation.process}: ${description}\ncall ${operation.call}, return ${open ? 'never (open)' : operation.return}` + (position === undefined ? '' : `\nlinearized at position ${position + 1}`);
    return `<g class="op ${status.get(operation.id)}${open ? ' open' : ''}" data-id="${operation.id}"><title>${escapeHtml(tip)}</title><rect x="${x1.toFixed(1)}" y="${y}" width="${(x2 - x1).toFixed(1)}" height="${BOX_HEIGHT_PX}" rx="3"/>${
      position !== undefined && status.get(operation.id) === 'prefix' && x2 - x1 > 18 ? `<text x="${(x1 + 3).toFixed(1)}" y="${y + 12}">${position + 1}</text>` : ''
    }</g>`;
  });
  const rows = processes.map((process, index) => {
    const y = AXIS_HEIGHT_PX + index * ROW_HEIGHT_PX;
    return `<line class="row" x1="0" x2="${width}" y1="${y + ROW_HEIGHT_PX}" y2="${y + ROW_HEIGHT_PX}"/><text class="label" x="4" y="${y + 16}">process ${process}</text>`;
  });
  const marker = failureMarker(input, layout, height);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${axis(layout, height)}${rows.join('')}${marker}${boxes.join('')}</svg>`;
  return page(input, svg);
}

interface TimeLayout {
  readonly width: number;
  x(time: number): number;
}

/** Distinct finite times, ranked: the axis is compressed to the order of events, like Porcupine's. */
function timeLayout(operations: readonly Operation<unknown, unknown>[]): TimeLayout {
  const times = [...new Set(operations.flatMap((operation) => [operation.call, operation.return]).filter(Number.isFinite))].sort((a, b) => a - b);
  const rank = new Map(times.map((time, index) => [time, index]));
  const slotPx = Math.max(2, Math.min(16, MAX_WIDTH_PX / Math.max(1, times.length)));
  return { width: Math.max(1, times.length) * slotPx, x: (time) => LABEL_WIDTH_PX + (rank.get(time) ?? times.length) * slotPx };
}

function statuses(operations: readonly Operation<unknown, unknown>[], result: CheckResult): Map<number, Status> {
  const status = new Map<number, Status>();
  const failure = result.failure;
  if (failure === undefined) {
    for (const operation of operations) status.set(operation.id, result.verdict === 'linearizable' ? 'linearized' : 'unplaced');
    return status;
  }
  const failing = new Set(result.partitions.find((partition) => partition.label === failure.partition)?.operationIds ?? []);
  for (const operation of operations) status.set(operation.id, failing.has(operation.id) ? 'unplaced' : 'other-partition');
  for (const step of failure.prefix) status.set(step.id, 'prefix');
  for (const candidate of failure.candidates) status.set(candidate.operation.id, 'candidate');
  status.set(failure.blocking.id, 'blocking');
  return status;
}

function linearizationOrder(result: CheckResult): Map<number, number> {
  const order = new Map<number, number>();
  if (result.failure !== undefined) result.failure.prefix.forEach((step, index) => order.set(step.id, index));
  else for (const partition of result.linearizations ?? []) partition.forEach((id, index) => order.set(id, index));
  return order;
}

function axis(layout: TimeLayout, height: number): string {
  return `<line class="axis" x1="${LABEL_WIDTH_PX}" x2="${LABEL_WIDTH_PX + layout.width}" y1="${AXIS_HEIGHT_PX - 6}" y2="${AXIS_HEIGHT_PX - 6}"/><text class="label" x="${LABEL_WIDTH_PX}" y="14">time (events in order) →</text><line class="row" x1="${LABEL_WIDTH_PX - 4}" x2="${LABEL_WIDTH_PX - 4}" y1="${AXIS_HEIGHT_PX}" y2="${height}"/>`;
}

function failureMarker<Input, Output>(input: VisualizationInput<Input, Output>, layout: TimeLayout, height: number): string {
  const blocking = input.result.failure?.blocking;
  if (blocking === undefined || blocking.return === null) return '';
  const x = layout.x(blocking.return).toFixed(1);
  return `<line class="stuck" x1="${x}" x2="${x}" y1="${AXIS_HEIGHT_PX - 10}" y2="${height}"/><text class="stuck-label" x="${x}" y="${AXIS_HEIGHT_PX - 12}">stuck</text>`;
}

function page<Input, Output>(input: VisualizationInput<Input, Output>, svg: string): string {
  const { result } = input;
  const failure = result.failure;
  const summary = failure !== undefined ? failure.message : result.verdict === 'unknown' ? `unknown: ${result.reason ?? ''}` : `every operation placed (${result.operations} operations, ${result.partitions.length} partition(s))`;
  const prefixList =
    failure === undefined
      ? ''
      : `<h2>Longest linearizable prefix (${failure.partition})</h2><ol class="prefix">${failure.prefix
          .map((step) => `<li data-id="${step.id}">process ${step.process}: ${escapeHtml(step.description)} <span class="state">→ ${escapeHtml(step.stateAfter)}</span></li>`)
          .join('')}</ol><h2>Could not place</h2><p class="blocking" data-id="${failure.blocking.id}">process ${failure.blocking.process}: ${escapeHtml(failure.blocking.description)} in state ${escapeHtml(failure.stateAfterPrefix)}</p><h2>Candidates at that point</h2><ul>${failure.candidates
          .map((candidate) => `<li data-id="${candidate.operation.id}">process ${candidate.operation.process}: ${escapeHtml(candidate.operation.description)} — ${candidate.outcome === 'illegal' ? 'illegal in that state' : 'legal, but every continuation fails'}</li>`)
          .join('')}</ul>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(input.title)} — ${result.verdict}</title>
<style>
body{font:14px system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:18px;margin:0 0 6px} h2{font-size:15px;margin:14px 0 4px}
.verdict{font-weight:bold} .verdict.linearizable{color:#1a7f37} .verdict.not-linearizable{color:#c62828} .verdict.unknown{color:#9a6700}
.scroll{overflow:auto;border:1px solid #ddd;max-height:70vh}
svg text{font:11px system-ui,sans-serif} .label{fill:#555} .row{stroke:#eee} .axis{stroke:#999}
.op rect{fill:#cfd8dc;stroke:#78909c;cursor:pointer} .op.open rect{stroke-dasharray:4 2;fill-opacity:.5}
.op.prefix rect,.op.linearized rect{fill:#a5d6a7;stroke:#2e7d32} .op.blocking rect{fill:#ef9a9a;stroke:#c62828;stroke-width:2}
.op.candidate rect{fill:#ffcc80;stroke:#ef6c00} .op.other-partition{opacity:.35} .op text{fill:#1b5e20;pointer-events:none}
.op.highlight rect{stroke:#000;stroke-width:3}
.stuck{stroke:#c62828;stroke-width:2;stroke-dasharray:6 3} .stuck-label{fill:#c62828;font-weight:bold}
.legend span{display:inline-block;padding:1px 6px;margin-right:6px;border-radius:3px;border:1px solid #999}
ol.prefix{max-height:30vh;overflow:auto} li{cursor:pointer} li:hover,.blocking:hover{background:#fff3cd} .state{color:#666}
#details{white-space:pre-wrap;background:#f6f8fa;padding:6px;min-height:1.4em}
</style></head><body>
<h1>${escapeHtml(input.title)}: <span class="verdict ${result.verdict}">${result.verdict}</span></h1>
<p>${escapeHtml(summary)}</p>
<p class="legend"><span style="background:#a5d6a7">linearized / prefix</span><span style="background:#ef9a9a">could not be placed</span><span style="background:#ffcc80">candidate</span><span style="background:#cfd8dc">not reached</span><span style="border-style:dashed">open (never completed)</span></p>
<div id="details">Click an operation for details.</div>
<div class="scroll">${svg}</div>
${prefixList}
<script>
(function () {
  var ops = document.querySelectorAll('.op');
  function select(id) {
    ops.forEach(function (op) { op.classList.toggle('highlight', op.getAttribute('data-id') === id); });
    var op = document.querySelector('.op[data-id="' + id + '"]');
    if (op) {
      document.getElementById('details').textContent = op.querySelector('title').textContent;
      op.scrollIntoView({ block: 'nearest', inline: 'center' });
    }
  }
  document.querySelectorAll('[data-id]').forEach(function (element) {
    element.addEventListener('click', function () { select(element.getAttribute('data-id')); });
  });
})();
</script>
</body></html>
`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);
}
