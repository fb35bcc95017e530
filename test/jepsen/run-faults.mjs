#!/usr/bin/env node
// `npm run test:faults [-- --long] [vitest args…]`: the real-process fault suite (test/jepsen).
// `--long` adds the ≥ 10-minute mixed-fault run (same as CONCORD_FAULTS_LONG=1); other arguments
// go to vitest (e.g. a file filter).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const env = { ...process.env };
const rest = args.filter((arg) => {
  if (arg !== '--long') return true;
  env.CONCORD_FAULTS_LONG = '1';
  return false;
});
// vitest's package exports do not include its bin script: locate it in node_modules directly.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
const result = spawnSync(process.execPath, [vitest, 'run', '--config', 'vitest.faults.config.ts', ...rest], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
