/**
 * Interning of history values: every distinct value gets a small integer id, so models compare
 * and hash values as integers. Id 0 is always `null` (nil / absent).
 */
export const NIL = 0;

export class ValueTable {
  private readonly numbers = new Map<number, number>();
  private readonly strings = new Map<string, number>();
  /** Other values (booleans, arrays, objects) keyed by their canonical JSON. */
  private readonly others = new Map<string, number>();
  private readonly values: unknown[] = [null];

  intern(value: unknown): number {
    if (value === null || value === undefined) return NIL;
    if (typeof value === 'number') return this.lookup(this.numbers, value, value);
    if (typeof value === 'string') return this.lookup(this.strings, value, value);
    return this.lookup(this.others, canonicalJson(value), value);
  }

  /** Id of a string, interning it if new (the fast path for string-valued models). */
  internString(text: string): number {
    return this.lookup(this.strings, text, text);
  }

  value(id: number): unknown {
    return this.values[id];
  }

  /** The value as text for explanations: `nil`, numbers bare, strings quoted. */
  describe(id: number): string {
    if (id < 0) return '?';
    const value = this.values[id];
    if (value === null) return 'nil';
    return typeof value === 'number' ? String(value) : JSON.stringify(value);
  }

  get size(): number {
    return this.values.length;
  }

  private lookup<K>(map: Map<K, number>, key: K, value: unknown): number {
    let id = map.get(key);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
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
