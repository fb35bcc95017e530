import { ConcordError, ErrorCode } from '../../core/errors.js';
import { parseEtcdLog } from './etcd-log.js';
import { parseJepsenKv } from './jepsen-kv.js';
import { parseJsonLines } from './jsonl.js';
import type { ParsedHistory } from './parsed.js';

export type { ParsedHistory } from './parsed.js';
export { parseEtcdLog } from './etcd-log.js';
export { parseJepsenKv } from './jepsen-kv.js';
export { parseJsonLines } from './jsonl.js';
export { parseEdn, EdnKeyword } from './edn.js';

export const HISTORY_FORMATS = ['etcd-log', 'jepsen-kv', 'jsonl'] as const;
export type HistoryFormat = (typeof HISTORY_FORMATS)[number];

export function parseHistory(text: string, format: HistoryFormat, file?: string): ParsedHistory {
  switch (format) {
    case 'etcd-log':
      return parseEtcdLog(text, file);
    case 'jepsen-kv':
      return parseJepsenKv(text, file);
    case 'jsonl':
      return parseJsonLines(text, file);
    default:
      throw new ConcordError(ErrorCode.InvalidArgument, `unknown history format ${JSON.stringify(format)} (expected ${HISTORY_FORMATS.join(', ')})`);
  }
}

/** A format guessed from a file name, if its extension says. */
export function formatFromFileName(file: string): HistoryFormat | undefined {
  if (file.endsWith('.jsonl') || file.endsWith('.ndjson')) return 'jsonl';
  if (file.endsWith('.edn') || file.endsWith('.txt')) return 'jepsen-kv';
  if (file.endsWith('.log')) return 'etcd-log';
  return undefined;
}
