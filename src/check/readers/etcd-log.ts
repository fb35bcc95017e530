import type { HistoryEvent, HistoryEventType } from '../../core/history.js';
import { malformedInput } from '../malformed.js';
import { parseEventLines, type LineLocation, type ParsedHistory } from './parsed.js';

// `INFO  jepsen.util - <process> :<type> :<f> <value>`, fields separated by tabs (etcd_000–099)
// or runs of spaces (etcd_100–102).
const LINE = /^INFO\s+jepsen\.util\s+-\s+(\S+)\s+:(\S+)\s+:(\S+)\s+(.*?)\s*$/;
const INTEGER = /^-?\d+$/;
const KEYWORD = /^:([A-Za-z][\w.-]*)$/;
const EXPECTED_LINE = "an op line 'INFO  jepsen.util - <process> :<invoke|ok|fail|info> :<f> <value>'";

/**
 * Reads a Jepsen etcd log (as in Porcupine's test data): one register, ops read / write / cas.
 * Values: `nil`, integers, `[a b]` vectors; a keyword value such as `:timed-out` on a completion
 * becomes its `error` (value nil). Nemesis lines are skipped. An event's `time` is its line number,
 * so the file order is the real-time order.
 */
export function parseEtcdLog(text: string, file = '<etcd log>'): ParsedHistory {
  return parseEventLines(text, file, parseEtcdLine);
}

function parseEtcdLine(line: string, where: LineLocation): HistoryEvent | undefined {
  const match = LINE.exec(line);
  if (match === null) throw malformedInput(where, EXPECTED_LINE, line);
  const [, processText, type, f, valueText] = match as unknown as [string, string, string, string, string];
  if (processText === ':nemesis') return undefined;
  if (!INTEGER.test(processText)) throw malformedInput(where, 'a process number or :nemesis', processText);
  if (type !== 'invoke' && type !== 'ok' && type !== 'fail' && type !== 'info') throw malformedInput(where, 'an event type :invoke, :ok, :fail or :info', `:${type}`);
  const keyword = KEYWORD.exec(valueText);
  if (keyword !== null && type === 'invoke') throw malformedInput(where, 'an invocation value (nil, an integer or [a b])', valueText);
  return {
    process: Number(processText),
    type: type satisfies HistoryEventType,
    f,
    value: keyword !== null ? null : parseValue(valueText, where),
    time: where.line,
    ...(keyword !== null ? { error: keyword[1]! } : {}),
  };
}

function parseValue(text: string, where: LineLocation): unknown {
  if (text === 'nil') return null;
  if (INTEGER.test(text)) return Number(text);
  if (text.startsWith('[') && text.endsWith(']')) {
    const items = text.slice(1, -1).trim();
    return items === '' ? [] : items.split(/[\s,]+/).map((item) => parseValue(item, where));
  }
  throw malformedInput(where, 'a value: nil, an integer, [a b] or a keyword such as :timed-out', text);
}
