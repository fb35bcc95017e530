/**
 * Errors that callers branch on carry a stable `code`, never a message string to parse.
 * Expected outcomes (not leader, timeout, compacted) are codes too; broken invariants are
 * `AssertionError`s and are never caught.
 */
export const ErrorCode = {
  InvalidArgument: 'INVALID_ARGUMENT',
  InvalidConfig: 'INVALID_CONFIG',
  MalformedInput: 'MALFORMED_INPUT',
  CorruptRecord: 'CORRUPT_RECORD',
  CorruptFrame: 'CORRUPT_FRAME',
  FrameTooLarge: 'FRAME_TOO_LARGE',
  ValueTooLarge: 'VALUE_TOO_LARGE',
  UnknownNode: 'UNKNOWN_NODE',
  Unauthenticated: 'UNAUTHENTICATED',
  NotFound: 'NOT_FOUND',
  NotLeader: 'NOT_LEADER',
  NoLeader: 'NO_LEADER',
  NoQuorum: 'NO_QUORUM',
  Compacted: 'COMPACTED',
  Conflict: 'CONFLICT',
  Timeout: 'TIMEOUT',
  Overloaded: 'OVERLOADED',
  Stopped: 'STOPPED',
  Unsupported: 'UNSUPPORTED',
  Internal: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class ConcordError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ConcordError';
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string; details?: Readonly<Record<string, unknown>> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isConcordError(error: unknown, code?: ErrorCode): error is ConcordError {
  return error instanceof ConcordError && (code === undefined || error.code === code);
}

/** A broken invariant: a bug, never an expected outcome. Assertions stay on in production. */
export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssertionError';
  }
}

export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new AssertionError(typeof message === 'string' ? message : message());
}

/** Ends an exhaustive `switch` over a discriminated union. */
export function assertNever(value: never, what = 'value'): never {
  throw new AssertionError(`unexpected ${what}: ${JSON.stringify(value)}`);
}
