import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import type { NodeId } from '../core/ids.js';
import { Runtime } from '../net/runtime.js';
import { TcpTransport } from '../net/tcp-transport.js';
import { WriteAheadLog } from '../net/wal.js';
import { KvStateMachine, type KvTypes } from '../protocols/raft/kv.js';
import { RaftCore } from '../protocols/raft/raft.js';
import { resolveRaftConfig } from '../protocols/raft/config.js';
import { isRaftCheckpoint } from '../protocols/raft/types.js';
import { defaultKvLimits } from './api.js';
import type { NodeConfig } from './config.js';
import { KvHttpServer } from './http.js';
import { KvMetrics } from './metrics.js';
import { kvRaftMessageProblem, raftRecordProblem } from './raft-wire.js';
import { RaftKvService, httpAddressKey, type KvRaftMessage, type KvRaftRecord, type KvRaftReply, type KvRaftRequest, type KvRuntime } from './service.js';
import { parseAddress } from './config.js';
import { FaultClock } from './faults.js';
import { TestingBugs } from './testing-bugs.js';

/**
 * One `concord node` process: WAL + TCP transport + the Raft core in the real runtime + the HTTP
 * API. `startNode` resolves once the node serves HTTP; `stop()` shuts down gracefully.
 */
export interface RunningNode {
  readonly id: NodeId;
  readonly service: RaftKvService;
  readonly runtime: KvRuntime;
  readonly httpAddress: { host: string; port: number };
  readonly peerAddress: { host: string; port: number };
  stop(): Promise<void>;
  /** Resolves when the node stopped by itself (fatal error) or through `stop()`. */
  readonly stopped: Promise<{ readonly fatal: unknown }>;
}

export async function startNode(config: NodeConfig, logger: Logger = pino({ level: config.logLevel })): Promise<RunningNode> {
  const log = logger.child({ node: config.id });
  if (config.secretIsDefault) log.warn('using the default development cluster secret: set --secret or CONCORD_SECRET outside local testing');
  await mkdir(config.dataDir, { recursive: true });
  const wal = await WriteAheadLog.open<KvRaftRecord>({
    dir: path.join(config.dataDir, 'wal'),
    isCheckpoint: isRaftCheckpoint,
    validateRecord: raftRecordProblem,
    logger: log,
  });
  log.info({ recovered: wal.recovered().length, report: wal.recoveryReport }, 'write-ahead log opened');
  const tls = config.tls === undefined || config.tls.caFile === undefined ? undefined : { certFile: config.tls.certFile, keyFile: config.tls.keyFile, caFile: config.tls.caFile };
  const others: Record<NodeId, { host: string; port: number }> = {};
  for (const [id, address] of config.peers) if (id !== config.id) others[id] = address;
  let transport: TcpTransport<KvRaftMessage>;
  try {
    transport = await TcpTransport.start<KvRaftMessage>({
      self: config.id,
      listen: config.peers.get(config.id)!,
      peers: others,
      clusterSecret: config.secret,
      validateMessage: kvRaftMessageProblem,
      logger: log,
      tls,
    });
  } catch (error) {
    await wal.close();
    throw error;
  }

  let machine: KvStateMachine | null = null;
  const faultClock = config.enableFaultInjection ? new FaultClock() : null;
  if (faultClock !== null) log.warn('fault injection is enabled (/v1/debug/faults): for tests only');
  const bugs = new TestingBugs(new Set(config.testingBugs ?? []), log);
  const ticksPerMs = 1 / config.tickIntervalMs;
  const raftConfig = resolveRaftConfig<KvTypes>({
    stateMachine: () => (machine = new KvStateMachine()),
    electionTimeoutTicks: config.electionTimeoutTicks,
    electionTimeoutRandomTicks: config.electionTimeoutTicks,
    heartbeatTicks: config.heartbeatIntervalTicks,
    requestTimeoutTicks: Math.max(1, Math.floor(config.requestTimeoutMs * ticksPerMs)),
    snapshotThresholdEntries: 50_000,
    snapshotCatchUpEntries: 5_000,
    joinExisting: config.join,
    linearizableReadMode: config.readMode,
    ...bugs.raftOverrides(),
  });
  let core: RaftCore<KvTypes> | null = null;
  let service: RaftKvService | null = null;
  let metrics: KvMetrics | null = null;
  let resolveStopped!: (value: { fatal: unknown }) => void;
  const stopped = new Promise<{ fatal: unknown }>((resolve) => (resolveStopped = resolve));
  let stopping: Promise<void> | null = null;

  const runtime: KvRuntime = new Runtime<KvRaftMessage, KvRaftRecord, KvRaftRequest, KvRaftReply>({
    id: config.id,
    peers: [...config.peers.keys()].sort(),
    factory: (context) => (core = new RaftCore<KvTypes>(context, raftConfig)),
    transport,
    log: bugs.wrapLog(wal),
    tickIntervalMs: config.tickIntervalMs,
    requestTimeoutMs: config.requestTimeoutMs,
    maxPendingRequests: 20_000,
    clock: faultClock?.now,
    // Commit-index-only hard states need no fsync of their own (etcd: MustSync); entries do.
    isPromptRecord: (record) => record.type !== 'hardState',
    afterInputs: () => service?.watchHub.check(),
    onSync: ({ records, durationMs }) => {
      metrics?.syncRecords.observe(records);
      metrics?.syncDuration.observe(durationMs / 1000);
    },
    onFatal: (error) => {
      log.fatal({ err: error }, 'node halted (fail-stop): restart it to recover from the write-ahead log');
      void shutdown(error);
    },
  });
  const liveCore = (): RaftCore<KvTypes> => core!;
  service = new RaftKvService({
    id: config.id,
    runtime,
    status: () => liveCore().status(),
    stateMachine: () => machine!,
    configuredPeers: new Map([...config.peers].map(([id, address]) => [id, `${address.host}:${address.port}`])),
    onProposal: (op) => metrics?.countProposal(op),
  });
  const kvService = service;
  const nodeMetrics = new KvMetrics(config.id, {
    status: () => {
      const status = liveCore().status();
      return { term: status.term, commitIndex: status.commitIndex, appliedIndex: status.appliedIndex, isLeader: status.role === 'leader', revision: machine!.revision };
    },
    runtime: () => ({ ...runtime.stats, pendingRequests: runtime.pendingRequests }),
  });
  metrics = nodeMetrics;
  const httpTls = config.tls === undefined ? undefined : { cert: await readFile(config.tls.certFile), key: await readFile(config.tls.keyFile) };
  const http = new KvHttpServer({
    service: bugs.wrapService(kvService),
    limits: defaultKvLimits,
    requestTimeoutMs: config.requestTimeoutMs,
    logger: log.child({ component: 'http' }),
    metrics: nodeMetrics,
    token: config.token,
    tls: httpTls,
    faults: faultClock === null ? undefined : { clock: faultClock, links: transport.faults, members: () => kvService.memberIds().filter((id) => id !== config.id) },
    healthy: () => {
      const status = liveCore().status();
      return { ok: runtime.running && status.leader !== null, detail: { id: config.id, role: status.role, leader: status.leader, term: status.term } };
    },
  });

  runtime.start();
  // Elections are counted from term changes, sampled (status() is too costly for every input).
  const termSampler = setInterval(() => nodeMetrics.observeTerm(liveCore().status().term), 100);
  termSampler.unref();
  const peerFollower = followPeerAddresses(kvService, transport, config, log);
  const httpAddress = await http.listen(config.http.host, config.http.port).catch(async (error: unknown) => {
    await runtime.stop();
    await transport.close();
    await wal.close();
    throw error;
  });
  const advertised = `${config.http.host}:${httpAddress.port}`;
  const advertiser = advertiseLoop(kvService, advertised, config.requestTimeoutMs, log);
  log.info({ http: advertised, peer: transport.address, members: [...config.peers.keys()] }, 'node serving');

  async function shutdown(fatal: unknown): Promise<void> {
    if (stopping !== null) return stopping;
    stopping = (async () => {
      clearInterval(advertiser);
      clearInterval(termSampler);
      clearInterval(peerFollower);
      kvService.watchHub.closeAll(new Error('node stopping'));
      await http.close().catch(() => undefined);
      await runtime.stop();
      await transport.close().catch(() => undefined);
      // After a fatal storage error the WAL is poisoned: close() then only releases files.
      await wal.close().catch(() => undefined);
      log.info('node stopped');
      resolveStopped({ fatal });
    })();
    return stopping;
  }

  return {
    id: config.id,
    service: kvService,
    runtime,
    httpAddress: { host: config.http.host, port: httpAddress.port },
    peerAddress: transport.address,
    stop: () => shutdown(null),
    stopped,
  };
}

/**
 * Keeps the transport's peer table in step with the membership: every `intervalMs` it compares
 * the configuration's members with the ones it knows and looks up the replicated address of each
 * new one (written before the member was added, so it is there). O(members), never a scan of the
 * key space; a membership change takes a log round trip of its own anyway.
 */
function followPeerAddresses(service: RaftKvService, transport: TcpTransport<KvRaftMessage>, config: NodeConfig, log: Logger, intervalMs = 200): NodeJS.Timeout {
  const known = new Map<NodeId, string>();
  let lastMembers = '';
  const refresh = (): void => {
    const members = service.memberIds();
    const signature = members.join(',');
    if (signature === lastMembers) return;
    let complete = true;
    for (const id of members) {
      if (id === config.id) continue;
      const address = service.peerAddress(id);
      if (address === null) {
        complete = false; // address not applied here yet: try again next time
        continue;
      }
      if (known.get(id) === address) continue;
      try {
        transport.addPeer(id, parseAddress(address, `address of ${id}`));
        known.set(id, address);
        log.info({ peer: id, address }, 'peer address learned');
      } catch (error) {
        log.warn({ peer: id, err: error }, 'ignoring a bad replicated peer address');
      }
    }
    for (const id of [...known.keys()]) {
      if (members.includes(id)) continue;
      known.delete(id);
      if (!config.peers.has(id)) transport.removePeer(id);
    }
    if (complete) lastMembers = signature;
  };
  refresh();
  const timer = setInterval(refresh, intervalMs);
  timer.unref();
  return timer;
}

/** Publishes this node's HTTP address in the replicated metadata (for admin proxying), retrying until it sticks. */
function advertiseLoop(service: RaftKvService, address: string, timeoutMs: number, log: Logger): NodeJS.Timeout {
  let busy = false;
  let done = false;
  const timer = setInterval(() => {
    if (busy || done) return;
    if (service.metadataValue(httpAddressKey(service.id)) === address) {
      done = true;
      clearInterval(timer);
      return;
    }
    if (service.cluster().leader === null) return;
    busy = true;
    service.advertiseHttpAddress(address, timeoutMs).then(
      () => log.debug({ address }, 'HTTP address advertised'),
      (error: unknown) => log.debug({ err: error }, 'advertising the HTTP address failed; will retry'),
    ).finally(() => {
      busy = false;
    });
  }, 500);
  timer.unref();
  return timer;
}
