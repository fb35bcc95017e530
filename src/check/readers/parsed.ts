import type { HistoryEvent } from '../../core/history.js';

/** A history read from a file: its events and, for each event, its 1-based line number. */
export interface ParsedHistory {
  readonly file: string;
  readonly events: HistoryEvent[];
  readonly lines: number[];
}

export const COMPLETION_TYPES: ReadonlySet<string> = new Set(['invoke', 'ok', 'fail', 'info']);

/** Where a line was read: the file and the 1-based line number. */
export interface LineLocation {
  readonly file: string;
  readonly line: number;
}

/**
 * Reads a history of one event per line: `toEvent` turns each non-blank line into its event, or
 * undefined to skip it (e.g. a nemesis line), and throws on a malformed one. Keeps each event's line number.
 */
export function parseEventLines(text: string, file: string, toEvent: (line: string, where: LineLocation) => HistoryEvent | undefined): ParsedHistory {
  const events: HistoryEvent[] = [];
  const lines: number[] = [];
  const texts = text.split(/\r?\n/);
  for (let index = 0; index < texts.length; index++) {
    const line = texts[index]!;
    if (line.trim() === '') continue;
    const event = toEvent(line, { file, line: index + 1 });
    if (event === undefined) continue;
    events.push(event);
    lines.push(index + 1);
  }
  return { file, events, lines };
}
