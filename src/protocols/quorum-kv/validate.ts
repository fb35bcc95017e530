import type { QkvConfig, QkvMessage, QkvRecord } from './core.js';

/**
 * Shape checks for what crosses a trust boundary: a peer's message (`TcpTransport.validateMessage`)
 * and a record read back from disk (`WriteAheadLog.validateRecord`). Null when well formed, else
 * the reason. `config` must be the sender's too (key and value bounds).
 */
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
/** Operation ids are `incarnation.counter`; writer ids `node/operation`: short strings. */
const textMax = 256;
const isOperation = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= textMax;

function keyProblem(value: unknown, config: QkvConfig): string | null {
  return typeof value === 'string' && value.length > 0 && value.length <= config.maxKeyBytes ? null : `key must be a string of 1..${config.maxKeyBytes} characters`;
}

/** A timestamp is `[counter, writer]`; `[0, '']` is "never written". */
function versionProblem(ts: unknown, value: unknown, config: QkvConfig): string | null {
  if (!Array.isArray(ts) || ts.length !== 2 || !Number.isSafeInteger(ts[0]) || (ts[0] as number) < 0) return 'ts must be [counter ≥ 0, writer]';
  if (typeof ts[1] !== 'string' || ts[1].length > textMax) return `ts writer must be a string of at most ${textMax} characters`;
  if (value === null) return null;
  return typeof value === 'string' && value.length <= config.maxValueBytes ? null : `value must be null or a string of at most ${config.maxValueBytes} characters`;
}

export function validateQkvMessage(value: unknown, config: QkvConfig): string | null {
  if (!isObject(value)) return 'not an object';
  const message = value as Partial<QkvMessage> & Record<string, unknown>;
  if (!isOperation(message.op)) return `op must be a non-empty string of at most ${textMax} characters`;
  switch (message.type) {
    case 'query':
      return keyProblem(message.key, config);
    case 'current':
      return versionProblem(message.ts, message.value, config);
    case 'store':
      return keyProblem(message.key, config) ?? versionProblem(message.ts, message.value, config);
    case 'stored':
      return null;
    default:
      return `unknown message type ${JSON.stringify(message.type)}`;
  }
}

export function validateQkvRecord(value: unknown, config: QkvConfig): string | null {
  if (!isObject(value)) return 'not an object';
  const record = value as Partial<QkvRecord> & Record<string, unknown>;
  if (record.type !== 'value') return `unknown record type ${JSON.stringify(record.type)}`;
  return keyProblem(record.key, config) ?? versionProblem(record.ts, record.value, config);
}
