import { ConcordError, ErrorCode } from './errors.js';

/**
 * A binary codec for one type. `decode` either returns a value of the type or throws a
 * `ConcordError` with code `MALFORMED_INPUT` — it never returns garbage for bad bytes.
 */
export interface Codec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

/** A codec that validates after decoding; `validate` returns a reason string for bad input. */
export function validatingCodec<T>(inner: Codec<unknown>, validate: (value: unknown) => string | null): Codec<T> {
  return {
    encode: (value) => inner.encode(value),
    decode: (bytes) => {
      const value = inner.decode(bytes);
      const problem = validate(value);
      if (problem !== null) throw new ConcordError(ErrorCode.MalformedInput, `decoded value rejected: ${problem}`);
      return value as T;
    },
  };
}
