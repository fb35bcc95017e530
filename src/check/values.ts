/**
 * Interning of history values: every distinct value gets a small integer id, so models compare
 * and hash values as integers. Id 0 is always `null` (nil / absent).
 *
 * Strings built by appending during the search are hash-consed without being materialized: a
 * derived string is (prefix id, suffix id) with its length and two polynomial hashes, and a new
 * concatenation is matched against existing strings of the same signature (verified character by
 * character on a signature match, so equal strings always get the same id and different strings
 * never share one).
 */
export const NIL = 0;

const BASE_1 = 0x01000193;
const BASE_2 = 0x9e3779b1;
const NONE = -1;

// Per-string record in `strings32`, STRIDE int32 fields per id.
const STRIDE = 8;
const LENGTH = 0;
const HASH_1 = 1;
const HASH_2 = 2;
const POWER_1 = 3;
const POWER_2 = 4;
const PREFIX = 5;
const SUFFIX = 6;
/** Next string id with the same signature bucket. */
const CHAIN = 7;

export class ValueTable {
  private readonly numbers = new Map<number, number>();
  private readonly strings = new Map<string, number>();
  /** Other values (booleans, arrays, objects) keyed by their canonical JSON. */
  private readonly others = new Map<string, number>();
  /** The value of each id; `undefined` for a derived string not materialized yet. */
  private readonly values: unknown[] = [null];
  /** Per-id string records (LENGTH is NONE for ids that are not strings). */
  private strings32 = new Int32Array(STRIDE * 1024);
  /** Open-addressing table: signature bucket → first string id + 1 (chained through CHAIN). */
  private bySignature = new Int32Array(2048);
  /** Open-addressing table of concatenations: (prefix, suffix, result) triples, prefix + 1 = 0 when empty. */
  private concatenations = new Int32Array(3 * 2048);
  private concatenationCount = 0;

  constructor() {
    this.strings32[LENGTH] = NONE;
  }

  intern(value: unknown): number {
    if (value === null || value === undefined) return NIL;
    if (typeof value === 'number') return this.lookup(this.numbers, value, value);
    if (typeof value === 'string') return this.internString(value);
    return this.lookup(this.others, canonicalJson(value), value);
  }

  /** Id of a string, interning it if new. */
  internString(text: string): number {
    const known = this.strings.get(text);
    if (known !== undefined) return known;
    let hash1 = 0;
    let hash2 = 0;
    let power1 = 1;
    let power2 = 1;
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index);
      hash1 = (Math.imul(hash1, BASE_1) + code) | 0;
      hash2 = (Math.imul(hash2, BASE_2) + code) | 0;
      power1 = Math.imul(power1, BASE_1);
      power2 = Math.imul(power2, BASE_2);
    }
    // The same string may already exist as a concatenation made during a search.
    let id = this.findString(text.length, hash1, hash2, NONE, NONE, text);
    if (id === NONE) id = this.addString(text, text.length, hash1, hash2, power1, power2, NONE, NONE);
    this.strings.set(text, id);
    return id;
  }

  /** Id of the string `prefix + suffix` (non-strings are taken as their text, nil as ""). */
  concat(prefix: number, suffix: number): number {
    const records = this.strings32;
    if (records[prefix * STRIDE + LENGTH] === NONE) prefix = this.internString(prefix === NIL ? '' : String(this.values[prefix]));
    if (records[suffix * STRIDE + LENGTH] === NONE) suffix = this.internString(suffix === NIL ? '' : String(this.values[suffix]));
    const table = this.concatenations;
    const mask = table.length / 3 - 1;
    let slot = (Math.imul(prefix, 0x9e3779b1) ^ Math.imul(suffix, 0x85ebca77)) & mask;
    for (;;) {
      const stored = table[slot * 3]!;
      if (stored === 0) break;
      if (stored === prefix + 1 && table[slot * 3 + 1] === suffix) return table[slot * 3 + 2]!;
      slot = (slot + 1) & mask;
    }
    const p = prefix * STRIDE;
    const q = suffix * STRIDE;
    const length = records[p + LENGTH]! + records[q + LENGTH]!;
    const hash1 = (Math.imul(records[p + HASH_1]!, records[q + POWER_1]!) + records[q + HASH_1]!) | 0;
    const hash2 = (Math.imul(records[p + HASH_2]!, records[q + POWER_2]!) + records[q + HASH_2]!) | 0;
    let id = this.findString(length, hash1, hash2, prefix, suffix, undefined);
    if (id === NONE) {
      const power1 = Math.imul(records[p + POWER_1]!, records[q + POWER_1]!);
      const power2 = Math.imul(records[p + POWER_2]!, records[q + POWER_2]!);
      id = this.addString(undefined, length, hash1, hash2, power1, power2, prefix, suffix);
    }
    table[slot * 3] = prefix + 1;
    table[slot * 3 + 1] = suffix;
    table[slot * 3 + 2] = id;
    if (++this.concatenationCount * 2 > mask + 1) this.growConcatenations();
    return id;
  }

  value(id: number): unknown {
    return this.strings32[id * STRIDE + LENGTH] !== NONE ? this.text(id) : this.values[id];
  }

  /** The value as text for explanations: `nil`, numbers bare, strings quoted. */
  describe(id: number): string {
    if (id < 0) return '?';
    const value = this.value(id);
    if (value === null) return 'nil';
    return typeof value === 'number' ? String(value) : JSON.stringify(value);
  }

  get size(): number {
    return this.values.length;
  }

  private text(id: number): string {
    const stored = this.values[id];
    if (typeof stored === 'string') return stored;
    // Materialize a derived string: walk down the prefix chain, then join the suffixes.
    const parts: string[] = [];
    let cursor = id;
    while (typeof this.values[cursor] !== 'string') {
      parts.push(this.text(this.strings32[cursor * STRIDE + SUFFIX]!));
      cursor = this.strings32[cursor * STRIDE + PREFIX]!;
    }
    parts.push(this.values[cursor] as string);
    const text = parts.reverse().join('');
    this.values[id] = text;
    return text;
  }

  private bucketOf(length: number, hash1: number, hash2: number): number {
    return (hash1 ^ Math.imul(hash2, 0x27d4eb2f) ^ Math.imul(length, 0x165667b1)) & (this.bySignature.length - 1);
  }

  /**
   * An existing string id with this signature whose text equals `text`, or `prefix + suffix` when
   * `text` is undefined (compared character-wise only on a full signature match), or NONE.
   */
  private findString(length: number, hash1: number, hash2: number, prefix: number, suffix: number, text: string | undefined): number {
    const records = this.strings32;
    for (let candidate = this.bySignature[this.bucketOf(length, hash1, hash2)]! - 1; candidate !== NONE; candidate = records[candidate * STRIDE + CHAIN]!) {
      const c = candidate * STRIDE;
      if (records[c + LENGTH] !== length || records[c + HASH_1] !== hash1 || records[c + HASH_2] !== hash2) continue;
      const expected = text ?? this.text(prefix) + this.text(suffix);
      if (this.text(candidate) === expected) return candidate;
    }
    return NONE;
  }

  private addString(text: string | undefined, length: number, hash1: number, hash2: number, power1: number, power2: number, prefix: number, suffix: number): number {
    const id = this.push(text);
    const records = this.strings32;
    const r = id * STRIDE;
    records[r + LENGTH] = length;
    records[r + HASH_1] = hash1;
    records[r + HASH_2] = hash2;
    records[r + POWER_1] = power1;
    records[r + POWER_2] = power2;
    records[r + PREFIX] = prefix;
    records[r + SUFFIX] = suffix;
    const bucket = this.bucketOf(length, hash1, hash2);
    records[r + CHAIN] = this.bySignature[bucket]! - 1;
    this.bySignature[bucket] = id + 1;
    if (id * 2 > this.bySignature.length) this.growSignatures();
    return id;
  }

  private push(value: unknown): number {
    const id = this.values.length;
    this.values.push(value);
    if ((id + 1) * STRIDE > this.strings32.length) {
      const grown = new Int32Array(this.strings32.length * 2);
      grown.set(this.strings32);
      this.strings32 = grown;
    }
    this.strings32[id * STRIDE + LENGTH] = NONE;
    return id;
  }

  private growSignatures(): void {
    const records = this.strings32;
    this.bySignature = new Int32Array(this.bySignature.length * 4);
    for (let id = 0; id < this.values.length; id++) {
      const r = id * STRIDE;
      if (records[r + LENGTH] === NONE) continue;
      const bucket = this.bucketOf(records[r + LENGTH]!, records[r + HASH_1]!, records[r + HASH_2]!);
      records[r + CHAIN] = this.bySignature[bucket]! - 1;
      this.bySignature[bucket] = id + 1;
    }
  }

  private growConcatenations(): void {
    const old = this.concatenations;
    const table = new Int32Array(old.length * 4);
    const mask = table.length / 3 - 1;
    for (let index = 0; index < old.length; index += 3) {
      if (old[index] === 0) continue;
      const prefix = old[index]! - 1;
      const suffix = old[index + 1]!;
      let slot = (Math.imul(prefix, 0x9e3779b1) ^ Math.imul(suffix, 0x85ebca77)) & mask;
      while (table[slot * 3] !== 0) slot = (slot + 1) & mask;
      table[slot * 3] = old[index]!;
      table[slot * 3 + 1] = suffix;
      table[slot * 3 + 2] = old[index + 2]!;
    }
    this.concatenations = table;
  }

  private lookup<K>(map: Map<K, number>, key: K, value: unknown): number {
    let id = map.get(key);
    if (id === undefined) {
      id = this.push(value);
      map.set(key, id);
    }
    return id;
  }
}

/** JSON with object keys sorted, so structurally equal values get the same text. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
}
