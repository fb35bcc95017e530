import type { Command } from 'commander';
import pino from 'pino';
import { isConcordError } from '../../core/errors.js';
import { resolveNodeConfig, type RawNodeOptions } from '../../kv/config.js';
import { startNode } from '../../kv/node.js';

/** `concord node`: one member of a replicated KV cluster, in the foreground. */
export function registerNode(program: Command): void {
  program.command('node')
    .description('run one node of the replicated KV service (logs are JSON lines on stdout)')
    .option('--id <id>', 'this node\'s id, e.g. n1')
    .option('--peers <list>', 'every initial member: n1=127.0.0.1:7101,n2=127.0.0.1:7102,…')
    .option('--http <host:port>', 'HTTP API address (default 127.0.0.1:7001)')
    .option('--data <dir>', 'data directory (default ./data/<id>)')
    .option('--config <file>', 'JSON file with any of these options (flags win)')
    .option('--secret <secret>', 'cluster secret for peer authentication (env CONCORD_SECRET)')
    .option('--token <token>', 'require this bearer token on the HTTP API (env CONCORD_TOKEN)')
    .option('--tls-cert <file>', 'PEM certificate: HTTPS for the API (and peer TLS with --tls-ca)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--tls-ca <file>', 'PEM CA that signed every member\'s certificate: mutual TLS between peers')
    .option('--join', 'start empty and wait to be added with POST /v1/cluster/members')
    .option('--tick-interval-ms <ms>', 'length of one Raft tick')
    .option('--election-timeout-ticks <n>', 'minimum election timeout in ticks')
    .option('--heartbeat-interval-ticks <n>', 'leader heartbeat interval in ticks')
    .option('--request-timeout-ms <ms>', 'deadline of every API request')
    .option('--log-level <level>', 'pino level: fatal|error|warn|info|debug|trace')
    .option('--snapshot-threshold-entries <n>', 'snapshot the state machine and compact the log after this many entries (default 100000)')
    .option('--forward-writes <how>', 'how a follower passes writes to the leader: raft (proposal forwarding, default) or http (relay)')
    .option('--wal-io <where>', 'where WAL writes and fdatasyncs run: auto (default: inline while the disk syncs fast, else threadpool), inline (on the event loop; cheaper when the disk syncs in well under a millisecond) or threadpool (the event loop keeps serving during a sync)')
    .option('--read-mode <mode>', 'linearizable reads: read-index (default) or lease (needs bounded clock drift)')
    .option('--enable-fault-injection', 'serve /v1/debug/faults/{clock,links} for fault-injection tests (never in production)')
    .action(async (flags: RawNodeOptions & { join?: boolean }) => {
      let config;
      try {
        config = resolveNodeConfig(flags);
      } catch (error) {
        process.stderr.write(`concord node: ${(error as Error).message}\n`);
        process.exit(2);
      }
      const logger = pino({ level: config.logLevel });
      let node;
      try {
        node = await startNode(config, logger);
      } catch (error) {
        // e.g. a corrupted WAL record (file and offset in the message) or a port in use.
        logger.fatal({ err: error }, 'node failed to start');
        process.stderr.write(`concord node ${config.id}: cannot start: ${isConcordError(error) ? `${error.code}: ` : ''}${(error as Error).message}\n`);
        process.exit(isConcordError(error, 'CORRUPT_RECORD') ? 3 : 1);
      }
      let signalled = false;
      const onSignal = (signal: NodeJS.Signals): void => {
        if (signalled) return;
        signalled = true;
        logger.info({ signal }, 'shutting down');
        setTimeout(() => {
          logger.error('graceful shutdown took too long; exiting');
          process.exit(1);
        }, 10_000).unref();
        void node.stop();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      const { fatal } = await node.stopped;
      logger.flush();
      process.exit(fatal === null ? 0 : 1);
    });
}
