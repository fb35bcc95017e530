import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runScript } from './harness/script.js';

// Scripted interaction tests (etcd testdata style). Set REWRITE=1 to regenerate expectations,
// then review the diff: a rewrite records behaviour, it does not judge it.
const directory = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const rewrite = process.env['REWRITE'] === '1';

describe('raft interaction scripts', () => {
  for (const file of readdirSync(directory).filter((name) => name.endsWith('.txt')).sort()) {
    it(file, () => {
      const path = join(directory, file);
      const original = readFileSync(path, 'utf8');
      const actual = runScript(original);
      if (rewrite) writeFileSync(path, actual);
      else expect(actual).toBe(original);
    });
  }
});
