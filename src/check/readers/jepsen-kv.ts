import type { HistoryEvent } from '../../core/history.js';
import { malformedInput } from '../malformed.js';
import { EdnKeyword, EdnSyntaxError, parseEdn, type EdnValue } from './edn.js';
import { COMPLETION_TYPES, parseEventLines, type LineLocation, type ParsedHistory } from './parsed.js';

const EXPECTED_MAP = 'an EDN map {:process N, :type :invoke|:ok|:fail|:info, :f :name, :key "k", :value v}';

/**
 * Reads a Jepsen history of EDN maps, one per line (Porcupine's KV test data):
 * `{:process 9, :type :invoke, :f :append, :key "0", :value "x 9 0 y"}`. Nemesis ops are skipped;
 * a keyword value on a completion becomes its `error`. An event's `time` is its line number.
 */
export function parseJepsenKv(text: string, file = '<jepsen kv history>'): ParsedHistory {
  return parseEventLines(text, file, parseJepsenKvLine);
}

function parseJepsenKvLine(line: string, where: LineLocation): HistoryEvent | undefined {
  let parsed: EdnValue;
  try {
    parsed = parseEdn(line);
  } catch (error) {
    if (error instanceof EdnSyntaxError) throw malformedInput(where, `${EXPECTED_MAP}; at column ${error.column}: ${error.expected}`, line);
    throw error;
  }
  if (!(parsed instanceof Map)) throw malformedInput(where, EXPECTED_MAP, line);
  const process = parsed.get(':process');
  if (process instanceof EdnKeyword && process.name === 'nemesis') return undefined;
  if (typeof process !== 'number' || !Number.isInteger(process)) throw malformedInput(where, ':process with an integer', line);
  const type = parsed.get(':type');
  if (!(type instanceof EdnKeyword) || !COMPLETION_TYPES.has(type.name)) throw malformedInput(where, ':type with :invoke, :ok, :fail or :info', line);
  const f = parsed.get(':f');
  if (!(f instanceof EdnKeyword)) throw malformedInput(where, ':f with a keyword such as :get', line);
  const key = parsed.get(':key');
  if (key !== undefined && typeof key !== 'string' && typeof key !== 'number') throw malformedInput(where, ':key with a string or a number', line);
  const value = parsed.has(':value') ? parsed.get(':value')! : null;
  const error = value instanceof EdnKeyword ? value.name : undefined;
  return {
    process,
    type: type.name as HistoryEvent['type'],
    f: f.name,
    ...(key !== undefined ? { key: String(key) } : {}),
    value: error !== undefined ? null : toPlain(value),
    time: where.line,
    ...(error !== undefined ? { error } : {}),
  };
}

/** EDN to plain JSON-like data: keywords become ":name" strings, maps become objects. */
function toPlain(value: EdnValue): unknown {
  if (value instanceof EdnKeyword) return `:${value.name}`;
  if (Array.isArray(value)) return value.map(toPlain);
  if (value instanceof Map) return Object.fromEntries([...value].map(([key, item]) => [String(key), toPlain(item)]));
  return value;
}
