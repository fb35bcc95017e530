import { expect } from 'vitest';
import { checkPlainData, decodeValue, encodeValue } from '../../src/net/msgpack.js';

/**
 * The real host carries messages as MessagePack frames and records as MessagePack WAL entries
 * (src/net/msgpack.ts: plain data only — a Map, Set, bigint, class instance or non-finite number
 * is refused or comes back as something else). Checks that every value a core emitted is plain
 * data, comes back equal (`toStrictEqual`: same keys, same prototypes), and that the protocol's
 * validator — the one the transport or the WAL runs on decoded values — accepts it.
 */
export function expectWireSafe(values: readonly unknown[], validate: (value: unknown) => string | null): void {
  for (const value of values) {
    expect(checkPlainData(value), JSON.stringify(value)).toBeNull();
    const decoded = decodeValue(encodeValue(value));
    expect(decoded, JSON.stringify(value)).toStrictEqual(value);
    expect(validate(decoded), JSON.stringify(value)).toBeNull();
  }
}

/** Every `type` of `values`, sorted (to show a run covered each variant of a union). */
export function typesOf(values: readonly unknown[]): string[] {
  return [...new Set(values.map((value) => String((value as { type?: unknown }).type)))].sort();
}
