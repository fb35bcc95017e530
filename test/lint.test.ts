import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

// The purity rule of the host contract: cores never use ambient randomness, clocks, timers or I/O.
describe('lint purity rule', () => {
  const eslint = new ESLint({ cwd: process.cwd() });

  async function ruleIdsFor(filePath: string, code: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath });
    return result!.messages.map((message) => message.ruleId ?? 'fatal');
  }

  it('fails on Math.random() in src/protocols', async () => {
    const ids = await ruleIdsFor('src/protocols/example/core.ts', 'export const roll = (): number => Math.random();\n');
    expect(ids).toContain('no-restricted-properties');
  });

  it('fails on Date.now, timers and node I/O in src/core', async () => {
    const code = [
      "import { readFileSync } from 'node:fs';",
      'export const now = (): number => Date.now();',
      'export const later = (): unknown => setTimeout(() => readFileSync("x"), 1);',
      '',
    ].join('\n');
    const ids = await ruleIdsFor('src/core/example.ts', code);
    expect(ids).toEqual(expect.arrayContaining(['no-restricted-imports', 'no-restricted-properties', 'no-restricted-globals']));
  });

  it('allows the same code in a host (src/sim)', async () => {
    const ids = await ruleIdsFor('src/sim/example.ts', 'export const roll = (): number => Math.random();\n');
    expect(ids).toEqual([]);
  });
});
