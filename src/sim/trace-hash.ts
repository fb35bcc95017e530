import { fnv1a32 } from '../core/hash.js';

/**
 * The trace hash: a running 64-bit hash (two 32-bit lanes) over every event a simulation
 * processes — its time, kind, nodes and content. Two runs with the same seed produce the same
 * hash; any change of behaviour (an extra message, a different delay, different content) changes
 * it with overwhelming probability. Cheap enough to update on every event.
 */
export class TraceHash {
  private high = 0x6a09e667 | 0;
  private low = 0xbb67ae85 | 0;

  /** Mixes one 32-bit integer (or the low 32 bits of a larger integer plus its high part) in. */
  add(value: number): void {
    let word = value | 0;
    if (value !== word) word = (word ^ Math.imul(Math.floor(value / 4294967296) | 0, 0x9e3779b1)) | 0;
    let low = this.low ^ word;
    low = Math.imul(low, 0x01000193);
    let high = this.high ^ low;
    high = Math.imul(high ^ (high >>> 15), 0x2c1b3c6d);
    this.low = low ^ (low >>> 13);
    this.high = high ^ (high >>> 12);
  }

  /** Current value as 16 lowercase hex digits. */
  hex(): string {
    return finalMix(this.high, this.low);
  }
}

function finalMix(high: number, low: number): string {
  let a = high ^ Math.imul(low ^ (low >>> 16), 0x85ebca6b);
  let b = low ^ Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
  a = Math.imul(a ^ (b >>> 16), 0x27d4eb2d);
  b = Math.imul(b ^ (a >>> 15), 0x165667b1);
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/** Hashes a string's UTF-16 code units into a signed 32-bit value (FNV-1a, src/core/hash.ts). */
export function hashString(text: string, seed = 0x811c9dc5): number {
  return fnv1a32(text, seed) | 0;
}

const depthMax = 32;

/**
 * A structural 32-bit hash of a plain value: numbers, strings, booleans, null/undefined, bigint,
 * arrays, typed arrays, Maps, Sets and plain objects (keys in insertion order, which is
 * deterministic for deterministic code). The default content hash of the trace; protocols on a
 * hot path can supply a cheaper one. Nesting deeper than 32 levels hashes as a marker.
 */
export function structuralHash(value: unknown): number {
  return hashValue(value, 0x9747b28c, 0);
}

function hashValue(value: unknown, hash: number, depth: number): number {
  switch (typeof value) {
    case 'number':
      return mixNumber(hash, value);
    case 'string':
      return hashString(value, Math.imul(hash ^ 0x53, 0x01000193));
    case 'boolean':
      return Math.imul(hash ^ (value ? 0x7b : 0x7c), 0x01000193);
    case 'undefined':
      return Math.imul(hash ^ 0x75, 0x01000193);
    case 'bigint':
      return hashString(value.toString(), Math.imul(hash ^ 0x62, 0x01000193));
    case 'object':
      return value === null ? Math.imul(hash ^ 0x6e, 0x01000193) : hashObject(value, hash, depth);
    default:
      return Math.imul(hash ^ 0x3f, 0x01000193);
  }
}

function mixNumber(hash: number, value: number): number {
  const word = value | 0;
  if (word === value) return Math.imul(hash ^ word, 0x01000193) ^ 0x2b;
  return hashString(String(value), Math.imul(hash ^ 0x66, 0x01000193));
}

function hashObject(value: object, hash: number, depth: number): number {
  if (depth >= depthMax) return Math.imul(hash ^ 0x2e2e, 0x01000193);
  const next = depth + 1;
  if (Array.isArray(value)) {
    let result = Math.imul(hash ^ 0x5b ^ value.length, 0x01000193);
    for (const item of value) result = hashValue(item, result, next);
    return result;
  }
  if (ArrayBuffer.isView(value)) {
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    let result = Math.imul(hash ^ 0x42 ^ bytes.length, 0x01000193);
    for (const byte of bytes) result = Math.imul(result ^ byte, 0x01000193);
    return result;
  }
  if (value instanceof Map) {
    let result = Math.imul(hash ^ 0x4d ^ value.size, 0x01000193);
    for (const [key, item] of value) result = hashValue(item, hashValue(key, result, next), next);
    return result;
  }
  if (value instanceof Set) {
    let result = Math.imul(hash ^ 0x53 ^ value.size, 0x01000193);
    for (const item of value) result = hashValue(item, result, next);
    return result;
  }
  let result = Math.imul(hash ^ 0x7b, 0x01000193);
  for (const key of Object.keys(value)) {
    result = hashString(key, result);
    result = hashValue((value as Record<string, unknown>)[key], result, next);
  }
  return result;
}
