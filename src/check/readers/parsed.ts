import type { HistoryEvent } from '../../core/history.js';

/** A history read from a file: its events and, for each event, its 1-based line number. */
export interface ParsedHistory {
  readonly file: string;
  readonly events: HistoryEvent[];
  readonly lines: number[];
}

export const COMPLETION_TYPES: ReadonlySet<string> = new Set(['invoke', 'ok', 'fail', 'info']);

/** Splits text into lines, keeping 1-based numbers, dropping blank lines. */
export function nonBlankLines(text: string): { text: string; line: number }[] {
  const result: { text: string; line: number }[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    if (line.trim() !== '') result.push({ text: line, line: index + 1 });
  }
  return result;
}
