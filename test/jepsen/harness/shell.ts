import { execFile, execFileSync } from 'node:child_process';

/**
 * Running system commands (ip, iptables) with a bounded time. Only ever called with fixed
 * argument vectors (no shell), so names built from ids cannot inject anything.
 */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(command: string, args: readonly string[], timeoutMs = 10_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1;
      resolve({ code, stdout, stderr: stderr || (error?.message ?? '') });
    });
  });
}

/** Runs a command and throws with its stderr when it fails. */
export async function runChecked(command: string, args: readonly string[], timeoutMs = 10_000): Promise<string> {
  const result = await run(command, args, timeoutMs);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

/** Synchronous variant for exit-time cleanup; never throws. */
export function runSyncQuietly(command: string, args: readonly string[]): void {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 5_000 });
  } catch {
    // best effort at exit
  }
}
