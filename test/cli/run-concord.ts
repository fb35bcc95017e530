import { spawnSync } from 'node:child_process';

/** Runs the compiled CLI as a real process (`npm test` builds first through `pretest`). */
export function concord(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
