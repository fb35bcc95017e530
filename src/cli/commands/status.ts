import type { Command } from 'commander';
import { endpointList, runClient, withClientOptions, type ClientFlags } from '../kv-options.js';

/** `concord status`: every endpoint's view of the cluster, as a table (or --json). */
export function registerStatus(program: Command): void {
  withClientOptions(program.command('status').description('show leader, term, commit index and members as each endpoint sees them'))
    .option('--json', 'one JSON object per endpoint')
    .action((flags: ClientFlags & { json?: boolean }) => runClient(flags, async (client) => {
      const endpoints = endpointList(flags);
      const rows: string[][] = [['endpoint', 'node', 'role', 'leader', 'term', 'commit', 'applied', 'revision', 'members']];
      let reachable = 0;
      for (const [index, endpoint] of endpoints.entries()) {
        try {
          const status = await client.cluster(index);
          reachable += 1;
          if (flags.json === true) process.stdout.write(`${JSON.stringify({ endpoint, ...status })}\n`);
          const members = status.members.map((member) => `${member.id}${member.voter ? '' : '(learner)'}`).join(' ');
          rows.push([endpoint, status.id, status.role, status.leader ?? '-', String(status.term), String(status.commitIndex), String(status.appliedIndex), String(status.revision), members]);
        } catch (error) {
          if (flags.json === true) process.stdout.write(`${JSON.stringify({ endpoint, error: (error as Error).message })}\n`);
          rows.push([endpoint, '-', 'unreachable', '-', '-', '-', '-', '-', (error as Error).message.slice(0, 40)]);
        }
      }
      if (flags.json !== true) process.stdout.write(table(rows));
      if (reachable === 0) process.exitCode = 1;
    }));
}

function table(rows: readonly string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n') + '\n';
}
