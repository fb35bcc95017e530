import type { Command } from 'commander';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { LocalCluster, cliEntryPoint } from '../../kv/local-cluster.js';
import { runClient, withClientOptions, type ClientFlags } from '../kv-options.js';

interface UpFlags {
  nodes: string;
  host: string;
  httpPort: string;
  peerPort: string;
  data: string;
  fresh?: boolean;
  token?: string;
  secret?: string;
}

/** `concord cluster up|add-member|remove-member|transfer-leader`. */
export function registerCluster(program: Command): void {
  const cluster = program.command('cluster').description('run and manage a cluster');
  cluster.command('up')
    .description('start a local cluster of real node processes; Ctrl-C stops them all')
    .option('-n, --nodes <n>', 'number of nodes', '3')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--http-port <port>', 'HTTP port of n1 (n2 gets the next, …)', '7001')
    .option('--peer-port <port>', 'peer port of n1 (n2 gets the next, …)', '7101')
    .option('--data <dir>', 'data root (one directory per node, logs beside them)', 'data')
    .option('--fresh', 'delete the data root first')
    .option('--token <token>', 'require this bearer token on the HTTP API')
    .option('--secret <secret>', 'cluster secret for peer authentication (env CONCORD_SECRET; default: a dev secret)')
    .action(async (flags: UpFlags) => up(flags));
  withClientOptions(cluster.command('add-member <id> <peerAddress>').description('add a member (start it with `concord node … --join` first)'))
    .option('--learner', 'add as a non-voting learner')
    .action((id: string, address: string, flags: ClientFlags & { learner?: boolean }) => runClient(flags, async (client) => {
      process.stdout.write(`${JSON.stringify(await client.addMember(id, address, flags.learner === true))}\n`);
    }));
  withClientOptions(cluster.command('remove-member <id>').description('remove a member'))
    .action((id: string, flags: ClientFlags) => runClient(flags, async (client) => {
      process.stdout.write(`${JSON.stringify(await client.removeMember(id))}\n`);
    }));
  withClientOptions(cluster.command('transfer-leader [to]').description('hand leadership to a member (default: the most up-to-date)'))
    .action((to: string | undefined, flags: ClientFlags) => runClient(flags, async (client) => {
      process.stdout.write(`${JSON.stringify(await client.transferLeader(to ?? null))}\n`);
    }));
}

async function up(flags: UpFlags): Promise<void> {
  const size = Number(flags.nodes);
  if (!Number.isInteger(size) || size < 1 || size > 15) throw new Error('--nodes must be in 1..15');
  const httpBase = Number(flags.httpPort);
  const peerBase = Number(flags.peerPort);
  const dataRoot = path.resolve(flags.data);
  if (flags.fresh === true) rmSync(dataRoot, { recursive: true, force: true });
  let stopping = false;
  const cluster = new LocalCluster({
    size,
    host: flags.host,
    httpPorts: Array.from({ length: size }, (_, index) => httpBase + index),
    peerPorts: Array.from({ length: size }, (_, index) => peerBase + index),
    dataRoot,
    secret: flags.secret,
    token: flags.token,
    onExit: (id, code, signal) => {
      if (stopping) return;
      const restart = `node ${cliEntryPoint()} ${cluster.nodeArguments(id).join(' ')}`;
      process.stderr.write(`node ${id} exited (${signal ?? `code ${code}`}); log ${cluster.node(id).logFile}\nrestart it (it recovers from its write-ahead log) with${flags.secret === undefined ? '' : ' the same CONCORD_SECRET'}:\n  ${restart}\n`);
    },
  });
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('\nstopping nodes…\n');
    await cluster.stopAll();
    process.stderr.write('all nodes stopped\n');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  cluster.startAll();
  process.stdout.write(`starting ${size} nodes, data under ${dataRoot}\n`);
  try {
    await cluster.waitHealthy(30_000);
    const leader = await cluster.waitForLeader(15_000);
    process.stdout.write(`cluster up, leader ${leader}\n`);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    await stop();
    return;
  }
  for (const node of cluster.nodes.values()) process.stdout.write(`  ${node.id}  http ${node.httpUrl}  peer ${node.peerAddress}  log ${node.logFile}\n`);
  const first = cluster.endpoints[0]!;
  const auth = flags.token === undefined ? '' : ` -H 'authorization: Bearer ${flags.token}'`;
  process.stdout.write(`try:\n  curl -X PUT${auth} ${first}/v1/kv/hello -d '{"value":"world"}'\n  curl${auth} ${cluster.endpoints.at(-1)}/v1/kv/hello\n  curl${auth} ${first}/v1/cluster\nCtrl-C stops the cluster.\n`);
}
