/**
 * A small reader for the EDN subset Jepsen writes in history lines: maps, vectors, lists,
 * keywords, strings, integers, floats, nil, true and false. Commas are whitespace.
 */
export type EdnValue = null | boolean | number | string | EdnKeyword | EdnValue[] | Map<EdnValue, EdnValue>;

/** A keyword `:name`, kept apart from strings. */
export class EdnKeyword {
  constructor(readonly name: string) {}
  toString(): string {
    return `:${this.name}`;
  }
}

export class EdnSyntaxError extends Error {
  constructor(
    readonly expected: string,
    readonly column: number,
  ) {
    super(`expected ${expected} at column ${column}`);
    this.name = 'EdnSyntaxError';
  }
}

const DELIMITERS = new Set([' ', '\t', ',', '\n', '\r', '{', '}', '[', ']', '(', ')', '"']);

/** Parses exactly one EDN value from `text` (surrounding whitespace allowed). */
export function parseEdn(text: string): EdnValue {
  const reader = new Reader(text);
  const value = reader.value();
  reader.skipSpace();
  if (reader.position < text.length) throw new EdnSyntaxError('the end of the line', reader.position + 1);
  return value;
}

class Reader {
  position = 0;
  constructor(private readonly text: string) {}

  skipSpace(): void {
    while (this.position < this.text.length) {
      const char = this.text[this.position]!;
      if (char !== ' ' && char !== '\t' && char !== ',' && char !== '\n' && char !== '\r') break;
      this.position++;
    }
  }

  value(): EdnValue {
    this.skipSpace();
    const char = this.text[this.position];
    if (char === undefined) throw new EdnSyntaxError('a value', this.position + 1);
    if (char === '{') return this.map();
    if (char === '[' || char === '(') return this.sequence(char === '[' ? ']' : ')');
    if (char === '"') return this.string();
    return this.atom();
  }

  private map(): Map<EdnValue, EdnValue> {
    this.position++;
    const map = new Map<EdnValue, EdnValue>();
    for (;;) {
      this.skipSpace();
      if (this.text[this.position] === '}') {
        this.position++;
        return map;
      }
      const key = this.value();
      this.skipSpace();
      if (this.text[this.position] === '}') throw new EdnSyntaxError('a value after the map key', this.position + 1);
      // Keywords are interned by name so that map lookups by keyword work.
      map.set(key instanceof EdnKeyword ? `:${key.name}` : key, this.value());
    }
  }

  private sequence(close: string): EdnValue[] {
    this.position++;
    const items: EdnValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.text[this.position] === close) {
        this.position++;
        return items;
      }
      if (this.position >= this.text.length) throw new EdnSyntaxError(`'${close}'`, this.position + 1);
      items.push(this.value());
    }
  }

  private string(): string {
    const start = this.position;
    this.position++;
    let result = '';
    for (;;) {
      const char = this.text[this.position];
      if (char === undefined) throw new EdnSyntaxError('a closing quote for the string', start + 1);
      this.position++;
      if (char === '"') return result;
      if (char !== '\\') {
        result += char;
        continue;
      }
      const escaped = this.text[this.position++];
      const replacement = escaped === 'n' ? '\n' : escaped === 't' ? '\t' : escaped === 'r' ? '\r' : escaped === '"' || escaped === '\\' ? escaped : undefined;
      if (replacement === undefined) throw new EdnSyntaxError('an escape (\\n \\t \\r \\" \\\\)', this.position);
      result += replacement;
    }
  }

  private atom(): EdnValue {
    const start = this.position;
    while (this.position < this.text.length && !DELIMITERS.has(this.text[this.position]!)) this.position++;
    const token = this.text.slice(start, this.position);
    if (token === '') throw new EdnSyntaxError('a value', start + 1);
    if (token === 'nil') return null;
    if (token === 'true') return true;
    if (token === 'false') return false;
    if (token.startsWith(':') && token.length > 1) return new EdnKeyword(token.slice(1));
    if (/^[-+]?\d+$/.test(token)) return Number(token);
    if (/^[-+]?\d+\.\d*([eE][-+]?\d+)?$/.test(token)) return Number(token);
    throw new EdnSyntaxError('nil, true, false, a number, a keyword, a string, a vector or a map', start + 1);
  }
}
