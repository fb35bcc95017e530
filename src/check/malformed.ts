import { ConcordError, ErrorCode } from '../core/errors.js';

/** Where a bad input was found: a file and a 1-based line, or an event index for in-memory histories. */
export interface InputLocation {
  readonly file?: string | undefined;
  readonly line?: number | undefined;
  readonly eventIndex?: number | undefined;
}

/** A MALFORMED_INPUT error naming the place, what was expected and (shortened) what was found. */
export function malformedInput(location: InputLocation, expected: string, found?: string): ConcordError {
  const place = describeLocation(location);
  const shown = found === undefined ? '' : `, found ${JSON.stringify(found.length > 120 ? `${found.slice(0, 117)}...` : found)}`;
  return new ConcordError(ErrorCode.MalformedInput, `${place}: expected ${expected}${shown}`, {
    ...(location.file !== undefined ? { file: location.file } : {}),
    ...(location.line !== undefined ? { line: location.line } : {}),
    ...(location.eventIndex !== undefined ? { eventIndex: location.eventIndex } : {}),
    expected,
    ...(found !== undefined ? { found } : {}),
  });
}

function describeLocation(location: InputLocation): string {
  const file = location.file ?? '<history>';
  if (location.line !== undefined) return `${file}:${location.line}`;
  if (location.eventIndex !== undefined) return `${file}: event ${location.eventIndex}`;
  return file;
}
