import { Packr } from 'msgpackr';
import { ConcordError, ErrorCode } from '../core/errors.js';

/**
 * The MessagePack settings shared by frames and WAL records. Bytes from a peer or a disk are
 * untrusted, so the decoder is locked down:
 *
 * - `useRecords: false` — every value is self-describing. Record structures would let one frame
 *   define decoding state used by the next, and a WAL record must decode without the others.
 * - `structuredClone: false` — no reference/cycle extensions, so a decoded value is a tree.
 * - `mapsAsObjects: true` — maps become plain objects. msgpackr renames a `__proto__` key to
 *   `__proto_`, so there is no prototype pollution — and such a key is outside the contract: a
 *   message or record must not use it.
 * - After decoding, `checkPlainData` accepts only null, undefined, booleans, finite numbers,
 *   strings, `Uint8Array`s, arrays and plain objects. msgpackr's built-in extensions (Date, Set,
 *   Map, RegExp, Error, typed arrays, bigint) are refused: protocols exchange plain data only.
 */
const packr = new Packr({ useRecords: false, structuredClone: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' });

/** Encodes a plain-data value. Throws `ConcordError(INVALID_ARGUMENT)` for values it cannot carry. */
export function encodeValue(value: unknown): Buffer {
  try {
    return packr.pack(value);
  } catch (error) {
    throw new ConcordError(ErrorCode.InvalidArgument, `value cannot be encoded: ${String(error)}`);
  }
}

/**
 * Decodes exactly one value spanning all of `bytes`, then checks it is plain data. Any failure is
 * a `ConcordError(MALFORMED_INPUT)` — never another exception type, never a half-decoded value.
 */
export function decodeValue(bytes: Uint8Array): unknown {
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (error) {
    // Includes RangeError from a stack overflow on absurdly deep nesting.
    throw new ConcordError(ErrorCode.MalformedInput, `undecodable MessagePack: ${messageOf(error)}`);
  }
  let problem: string | null;
  try {
    problem = checkPlainData(value);
  } catch (error) {
    problem = `unwalkable value: ${messageOf(error)}`;
  }
  if (problem !== null) throw new ConcordError(ErrorCode.MalformedInput, `decoded value refused: ${problem}`);
  return value;
}

/** Returns why `value` is not plain data, or null when it is. Recursive: depth is bounded by the decoder. */
export function checkPlainData(value: unknown): string | null {
  switch (typeof value) {
    case 'undefined':
    case 'boolean':
    case 'string':
      return null;
    case 'number':
      return Number.isFinite(value) ? null : 'non-finite number';
    case 'object':
      return checkPlainObject(value);
    default:
      return `unsupported ${typeof value}`;
  }
}

function checkPlainObject(value: object | null): string | null {
  // Buffer is a Uint8Array subclass; other typed arrays are not Uint8Arrays and are refused below.
  if (value === null || value instanceof Uint8Array) return null;
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = checkPlainData(item);
      if (problem !== null) return problem;
    }
    return null;
  }
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return `unsupported object ${String((value as { constructor?: { name?: string } }).constructor?.name)}`;
  // for…in rather than Object.keys: no array per object on the receive path of every message.
  // The prototype is Object.prototype (no enumerable properties) or null, so it visits own keys only.
  for (const key in value) {
    const problem = checkPlainData((value as Record<string, unknown>)[key]);
    if (problem !== null) return problem;
  }
  return null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 200) : String(error).slice(0, 200);
}
