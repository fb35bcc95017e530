import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { KvClient } from '../kv/client.js';

/** Endpoints of the local cluster that `concord cluster up` / `npm start` starts. */
export const defaultEndpoints = '127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003';

export interface ClientFlags {
  endpoints: string;
  token?: string;
  caFile?: string;
  timeoutMs: string;
}

/** Adds the options every command that talks to a cluster shares. */
export function withClientOptions(command: Command): Command {
  return command
    .option('--endpoints <list>', 'comma-separated HTTP endpoints (env CONCORD_ENDPOINTS)', process.env.CONCORD_ENDPOINTS ?? defaultEndpoints)
    .option('--token <token>', 'bearer token for the HTTP API (env CONCORD_TOKEN)', process.env.CONCORD_TOKEN)
    .option('--ca-file <file>', 'CA certificate (PEM) for https endpoints')
    .option('--timeout-ms <ms>', 'per-request timeout', '10000');
}

export function endpointList(flags: ClientFlags): string[] {
  return flags.endpoints.split(',').map((item) => item.trim()).filter(Boolean);
}

export function clientFrom(flags: ClientFlags): KvClient {
  return new KvClient({
    endpoints: endpointList(flags),
    token: flags.token,
    timeoutMs: Number(flags.timeoutMs),
    ca: flags.caFile === undefined ? undefined : readFileSync(flags.caFile),
  });
}

/** Runs a client action, prints a failure as `error CODE: message`, sets the exit code. */
export async function runClient(flags: ClientFlags, action: (client: KvClient) => Promise<void>): Promise<void> {
  const client = clientFrom(flags);
  try {
    await action(client);
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'ERROR';
    process.stderr.write(`error ${code}: ${(error as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    client.close();
  }
}
