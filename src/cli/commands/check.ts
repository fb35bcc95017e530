import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { ConcordError, ErrorCode, isConcordError } from '../../core/errors.js';
import {
  HISTORY_FORMATS,
  MODEL_NAMES,
  checkOperations,
  createModel,
  encodeHistory,
  formatFromFileName,
  parseHistory,
  renderHtml,
  type CheckResult,
  type HistoryFormat,
  type ModelName,
  type OperationSummary,
} from '../../check/index.js';

export interface CheckCommandOptions {
  readonly format?: string;
  readonly model?: string;
  /** False with --no-partition. */
  readonly partition?: boolean;
  readonly timeout?: string;
  readonly initial?: string;
  readonly json?: boolean;
  readonly html?: string;
}

export interface CommandOutcome {
  /** 0 linearizable, 1 not linearizable, 2 unknown or bad input. */
  readonly exitCode: 0 | 1 | 2;
  readonly stdout: string;
  readonly stderr: string;
}

const EXIT_CODES = { linearizable: 0, 'not-linearizable': 1, unknown: 2 } as const;
const DEFAULT_TIMEOUT = '60s';
const SHOWN_PREFIX_STEPS = 8;

export function registerCheckCommand(program: Command): void {
  program
    .command('check <file>')
    .description('check a recorded history for linearizability (exit 0 linearizable, 1 not, 2 unknown or bad input)')
    .option('--format <format>', `history format: ${HISTORY_FORMATS.join(' | ')} (default: from the file extension)`)
    .option('--model <model>', `sequential model: ${MODEL_NAMES.join(' | ')} (default: register for etcd-log, kv for jepsen-kv)`)
    .option('--no-partition', 'check the history as a whole instead of per key (P-compositionality off)')
    .option('--timeout <duration>', 'time budget, e.g. 500ms, 10s, 2m; when spent the verdict is unknown', DEFAULT_TIMEOUT)
    .option('--initial <value>', 'initial value of the register / of every key (default: nil; "" for jepsen-kv)')
    .option('--json', 'print the result as JSON')
    .option('--html <file>', 'write a self-contained HTML visualization of the history')
    // A usage error (unknown option, missing file argument) is bad input: exit 2, not commander's 1.
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
    .action((file: string, options: CheckCommandOptions) => {
      const outcome = runCheckCommand(file, options);
      if (outcome.stdout !== '') process.stdout.write(outcome.stdout);
      if (outcome.stderr !== '') process.stderr.write(outcome.stderr);
      process.exitCode = outcome.exitCode;
    });
}

/** The whole `concord check` command as a function, for tests and embedding. */
export function runCheckCommand(file: string, options: CheckCommandOptions): CommandOutcome {
  try {
    return check(file, options);
  } catch (error) {
    if (isConcordError(error)) {
      const message = options.json === true ? `${JSON.stringify({ file, error: error.toJSON() })}\n` : `concord check: ${error.message}\n`;
      return options.json === true ? { exitCode: 2, stdout: message, stderr: '' } : { exitCode: 2, stdout: '', stderr: message };
    }
    throw error;
  }
}

function check(file: string, options: CheckCommandOptions): CommandOutcome {
  const format = chooseFormat(file, options.format);
  const modelName = chooseModel(format, options.model);
  const timeoutMs = parseDuration(options.timeout ?? DEFAULT_TIMEOUT);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConcordError(ErrorCode.NotFound, `cannot read ${file}: ${(error as Error).message}`);
  }
  const history = parseHistory(text, format, file);
  const initial = options.initial ?? (format === 'jepsen-kv' ? '' : null);
  const model = createModel(modelName, { initial, partitionByKey: options.partition !== false });
  const { operations } = encodeHistory(model, history.events, history);
  const result = checkOperations(model, operations, { timeoutMs, partition: options.partition !== false });
  if (options.html !== undefined) writeFileSync(options.html, renderHtml({ title: basename(file), model, operations, result }));
  const stdout = options.json === true ? `${compactJson(jsonReport(file, format, modelName, result))}\n` : textReport(file, modelName, result);
  return { exitCode: EXIT_CODES[result.verdict], stdout, stderr: '' };
}

function chooseFormat(file: string, requested: string | undefined): HistoryFormat {
  if (requested !== undefined) {
    if (!(HISTORY_FORMATS as readonly string[]).includes(requested)) {
      throw new ConcordError(ErrorCode.InvalidArgument, `unknown --format ${JSON.stringify(requested)} (expected ${HISTORY_FORMATS.join(', ')})`);
    }
    return requested as HistoryFormat;
  }
  const guessed = formatFromFileName(file);
  if (guessed === undefined) throw new ConcordError(ErrorCode.InvalidArgument, `cannot tell the format of ${file} from its name: pass --format ${HISTORY_FORMATS.join('|')}`);
  return guessed;
}

function chooseModel(format: HistoryFormat, requested: string | undefined): ModelName {
  if (requested !== undefined) {
    if (!(MODEL_NAMES as readonly string[]).includes(requested)) {
      throw new ConcordError(ErrorCode.InvalidArgument, `unknown --model ${JSON.stringify(requested)} (expected ${MODEL_NAMES.join(', ')})`);
    }
    return requested as ModelName;
  }
  if (format === 'etcd-log') return 'register';
  if (format === 'jepsen-kv') return 'kv';
  throw new ConcordError(ErrorCode.InvalidArgument, `pass --model ${MODEL_NAMES.join('|')} for a ${format} history`);
}

/** "500ms", "10s", "2m", or a bare number of seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (match === null) throw new ConcordError(ErrorCode.InvalidArgument, `bad duration ${JSON.stringify(text)} (expected e.g. 500ms, 10s, 2m)`);
  const value = Number(match[1]);
  return match[2] === 'ms' ? value : match[2] === 'm' ? value * 60_000 : value * 1000;
}

function jsonReport(file: string, format: HistoryFormat, model: ModelName, result: CheckResult): unknown {
  const partitions = result.partitions.map(({ operationIds: _ids, ...partition }) => partition);
  return { file, format, model, ...result, partitions };
}

/** Indented JSON with arrays of numbers kept on one line. */
function compactJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/\[\s*(-?\d[\d.e+-]*(?:,\s*-?\d[\d.e+-]*)*)\s*\]/g, (_, items: string) => `[${items.split(/,\s*/).join(', ')}]`);
}

function textReport(file: string, model: ModelName, result: CheckResult): string {
  const lines = [
    `${file}: ${result.verdict} (${model} model, ${result.operations} operations, ${result.partitions.length} partition(s), ${result.elapsedMs.toFixed(1)} ms)`,
  ];
  if (result.verdict === 'unknown') lines.push(`  ${result.reason ?? ''}`);
  const failure = result.failure;
  if (failure !== undefined) {
    lines.push(`  ${failure.message}`);
    lines.push(`  longest linearizable prefix (${failure.prefix.length} operations)${failure.prefix.length > SHOWN_PREFIX_STEPS ? `, last ${SHOWN_PREFIX_STEPS}` : ''}:`);
    for (const step of failure.prefix.slice(-SHOWN_PREFIX_STEPS)) lines.push(`    ${where(step)}process ${step.process}: ${step.description}  → ${step.stateAfter}`);
    lines.push(`  could not place: ${where(failure.blocking)}process ${failure.blocking.process}: ${failure.blocking.description}`);
    for (const candidate of failure.candidates) {
      lines.push(`    candidate ${where(candidate.operation)}process ${candidate.operation.process}: ${candidate.operation.description} — ${candidate.outcome === 'illegal' ? 'illegal in that state' : 'legal, but every continuation fails'}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function where(operation: OperationSummary): string {
  return operation.line !== undefined ? `line ${operation.line}: ` : '';
}
