import type { HistoryEvent } from '../../core/history.js';
import { malformedInput } from '../malformed.js';
import { COMPLETION_TYPES, parseEventLines, type LineLocation, type ParsedHistory } from './parsed.js';

const EXPECTED_EVENT = 'a JSON history event {"process": int, "type": "invoke"|"ok"|"fail"|"info", "f": string, "value": any, "time": number}';

/** Reads concord's own history format: one `HistoryEvent` as JSON per line. */
export function parseJsonLines(text: string, file = '<jsonl history>'): ParsedHistory {
  return parseEventLines(text, file, parseJsonLine);
}

function parseJsonLine(line: string, where: LineLocation): HistoryEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw malformedInput(where, EXPECTED_EVENT, line);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw malformedInput(where, EXPECTED_EVENT, line);
  const record = parsed as Record<string, unknown>;
  const { process, type, f, key, value, time, error } = record;
  if (typeof process !== 'number' || !Number.isInteger(process)) throw malformedInput(where, '"process" with an integer', line);
  if (typeof type !== 'string' || !COMPLETION_TYPES.has(type)) throw malformedInput(where, '"type" with "invoke", "ok", "fail" or "info"', line);
  if (typeof f !== 'string' || f === '') throw malformedInput(where, '"f" with an operation name', line);
  if (key !== undefined && typeof key !== 'string') throw malformedInput(where, '"key" absent or a string', line);
  if (typeof time !== 'number' || !Number.isFinite(time)) throw malformedInput(where, '"time" with a finite number', line);
  if (error !== undefined && typeof error !== 'string') throw malformedInput(where, '"error" absent or a string', line);
  if (!('value' in record)) throw malformedInput(where, '"value" (null when there is none)', line);
  return {
    process,
    type: type as HistoryEvent['type'],
    f,
    ...(key !== undefined ? { key } : {}),
    value,
    time,
    ...(error !== undefined ? { error } : {}),
  };
}
