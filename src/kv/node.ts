import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import type { NodeId } from '../core/ids.js';
import { Runtime } from '../net/runtime.js';
import { TcpTransport } from '../net/tcp-transport.js';
import { WriteAheadLog } from '../net/wal.js';
import { KvStateMachine, type KvTypes } from '../protocols/raft/kv.js';
import { RaftCore } from '../protocols/raft/raft.js';
import { resolveRaftConfig, type RaftConfig } from '../protocols/raft/config.js';
import { isRaftCheckpoint } from '../protocols/raft/types.js';
import { defaultKvLimits } from './api.js';
import type { NodeConfig } from './config.js';
import { KvHttpServer } from './http.js';
import { KvMetrics } from './metrics.js';
import { kvRaftMessageProblem, raftCheckpointBlobs, raftRecordProblem } from './raft-wire.js';
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
  if (config.enableFaultInjection) log.warn('fault injection is enabled (/v1/debug/faults): for tests only');
  await mkdir(config.dataDir, { recursive: true });
  const wal = await WriteAheadLog.open<KvRaftRecord>({
    dir: path.join(config.dataDir, 'wal'),
    isCheckpoint: isRaftCheckpoint,
    validateRecord: raftRecordProblem,
    snapshots: { dir: path.join(config.dataDir, 'snap'), blobs: raftCheckpointBlobs },
    io: config.walIo,
    logger: log,
  });
  log.info({ recovered: wal.recovered().length, report: wal.recoveryReport }, 'write-ahead log opened');
  let transport: TcpTransport<KvRaftMessage>;
  let httpTls: { cert: Buffer; key: Buffer } | undefined;
  try {
    transport = await startTransport(config, log);
    httpTls = config.tls === undefined ? undefined : { cert: await readFile(config.tls.certFile), key: await readFile(config.tls.keyFile) };
  } catch (error) {
    await wal.close();
    throw error;
  }
  const node = new KvNode(config, log, wal, transport, httpTls);
  return node.start();
}

function startTransport(config: NodeConfig, log: Logger): Promise<TcpTransport<KvRaftMessage>> {
  const tls = config.tls === undefined || config.tls.caFile === undefined ? undefined : { certFile: config.tls.certFile, keyFile: config.tls.keyFile, caFile: config.tls.caFile };
  const others: Record<NodeId, { host: string; port: number }> = {};
  for (const [id, address] of config.peers) if (id !== config.id) others[id] = address;
  return TcpTransport.start<KvRaftMessage>({
    self: config.id,
    listen: config.peers.get(config.id)!,
    peers: others,
    clusterSecret: config.secret,
    validateMessage: kvRaftMessageProblem,
    logger: log,
    tls,
  });
}

function raftConfigOf(config: NodeConfig, stateMachine: () => KvStateMachine, bugs: TestingBugs): RaftConfig<KvTypes> {
  return resolveRaftConfig<KvTypes>({
    stateMachine,
    electionTimeoutTicks: config.electionTimeoutTicks,
    electionTimeoutRandomTicks: config.electionTimeoutTicks,
    heartbeatTicks: config.heartbeatIntervalTicks,
    // The core answers TIMEOUT itself a little before the host's deadline would.
    requestTimeoutTicks: Math.max(1, Math.floor(config.requestTimeoutMs / config.tickIntervalMs)),
    snapshotThresholdEntries: config.snapshotThresholdEntries,
    snapshotCatchUpEntries: Math.min(5_000, Math.floor(config.snapshotThresholdEntries / 10)),
    joinExisting: config.join,
    linearizableReadMode: config.readMode,
    forwardPerTurn: true, // the net runtime calls endTurn once per event-loop turn
    ...bugs.raftOverrides(),
  });
}

/** Upper bound on how long a stopping leader waits for its hand-over (see `handOffLeadership`). */
const maxHandOffMs = 500;

/** The parts of one running node and their start / stop order. */
class KvNode {
  private machine: KvStateMachine | null = null;
  private core: RaftCore<KvTypes> | null = null;
  private readonly faultClock: FaultClock | null;
  private readonly bugs: TestingBugs;
  private readonly runtime: KvRuntime;
  private readonly service: RaftKvService;
  private readonly metrics: KvMetrics;
  private readonly http: KvHttpServer;
  private readonly timers: NodeJS.Timeout[] = [];
  private stopping: Promise<void> | null = null;
  private resolveStopped!: (value: { fatal: unknown }) => void;
  private readonly stopped = new Promise<{ fatal: unknown }>((resolve) => (this.resolveStopped = resolve));

  constructor(
    private readonly config: NodeConfig,
    private readonly log: Logger,
    private readonly wal: WriteAheadLog<KvRaftRecord>,
    private readonly transport: TcpTransport<KvRaftMessage>,
    httpTls: { cert: Buffer; key: Buffer } | undefined,
  ) {
    this.faultClock = config.enableFaultInjection ? new FaultClock() : null;
    this.bugs = new TestingBugs(new Set(config.testingBugs ?? []), log);
    this.runtime = this.buildRuntime();
    this.service = new RaftKvService({
      id: config.id,
      runtime: this.runtime,
      status: () => this.liveCore().status(),
      stateMachine: () => this.machine!,
      configuredPeers: new Map([...config.peers].map(([id, address]) => [id, `${address.host}:${address.port}`])),
      onProposal: (op) => this.metrics.countProposal(op),
    });
    this.metrics = new KvMetrics(config.id, {
      status: () => {
        const status = this.liveCore().status();
        return { term: status.term, commitIndex: status.commitIndex, appliedIndex: status.appliedIndex, isLeader: status.role === 'leader', revision: this.machine!.revision };
      },
      runtime: () => ({ ...this.runtime.stats, pendingRequests: this.runtime.pendingRequests }),
      wal: () => ({ inlineIo: this.wal.inlineIoActive, inlineBatches: this.wal.stats().inlineBatches }),
    });
    this.http = this.buildHttp(httpTls);
  }

  async start(): Promise<RunningNode> {
    const { config, log } = this;
    this.runtime.start();
    // Elections are counted from term changes, sampled (status() is too costly for every input).
    this.timers.push(unrefInterval(() => this.metrics.observeTerm(this.liveCore().status().term), 100));
    this.timers.push(followPeerAddresses(this.service, this.transport, config, log));
    const httpAddress = await this.http.listen(config.http.host, config.http.port).catch(async (error: unknown) => {
      await this.shutdown(error);
      throw error;
    });
    const advertised = `${config.http.host}:${httpAddress.port}`;
    this.timers.push(advertiseLoop(this.service, advertised, config.requestTimeoutMs, log));
    log.info({ http: advertised, peer: this.transport.address, members: [...config.peers.keys()] }, 'node serving');
    return {
      id: config.id,
      service: this.service,
      runtime: this.runtime,
      httpAddress: { host: config.http.host, port: httpAddress.port },
      peerAddress: this.transport.address,
      stop: () => this.shutdown(null),
      stopped: this.stopped,
    };
  }

  private liveCore(): RaftCore<KvTypes> {
    return this.core!;
  }

  private buildRuntime(): KvRuntime {
    const raftConfig = raftConfigOf(this.config, () => (this.machine = new KvStateMachine({ shareCommands: false })), this.bugs);
    return new Runtime<KvRaftMessage, KvRaftRecord, KvRaftRequest, KvRaftReply>({
      id: this.config.id,
      peers: [...this.config.peers.keys()].sort(),
      factory: (context) => (this.core = new RaftCore<KvTypes>(context, raftConfig)),
      transport: this.transport,
      log: this.bugs.wrapLog(this.wal),
      tickIntervalMs: this.config.tickIntervalMs,
      requestTimeoutMs: this.config.requestTimeoutMs,
      maxPendingRequests: 20_000,
      clock: this.faultClock?.now,
      // Commit-index-only hard states need no fsync of their own (etcd: MustSync); entries do.
      isPromptRecord: (record) => record.type !== 'hardState',
      // The service exists by the time the first input arrives (start() runs after construction).
      afterInputs: () => this.service.watchHub.check(),
      onSync: ({ records, durationMs }) => {
        this.metrics.syncRecords.observe(records);
        this.metrics.syncDuration.observe(durationMs / 1000);
      },
      onFatal: (error) => {
        this.log.fatal({ err: error }, 'node halted (fail-stop): restart it to recover from the write-ahead log');
        void this.shutdown(error);
      },
    });
  }

  private buildHttp(tls: { cert: Buffer; key: Buffer } | undefined): KvHttpServer {
    const { config } = this;
    return new KvHttpServer({
      service: this.bugs.wrapService(this.service),
      limits: defaultKvLimits,
      requestTimeoutMs: config.requestTimeoutMs,
      logger: this.log.child({ component: 'http' }),
      metrics: this.metrics,
      token: config.token,
      tls,
      forwardWrites: config.forwardWrites,
      faults: this.faultClock === null ? undefined : { clock: this.faultClock, links: this.transport.faults, members: () => this.service.memberIds().filter((id) => id !== config.id) },
      healthy: () => {
        const status = this.liveCore().status();
        return { ok: this.runtime.running && status.leader !== null, detail: { id: config.id, role: status.role, leader: status.leader, term: status.term } };
      },
    });
  }

  private shutdown(fatal: unknown): Promise<void> {
    if (this.stopping !== null) return this.stopping;
    this.stopping = (async () => {
      if (fatal === null) await this.handOffLeadership();
      for (const timer of this.timers) clearInterval(timer);
      this.service.watchHub.closeAll(new Error('node stopping'));
      await this.http.close().catch(() => undefined);
      await this.runtime.stop();
      await this.transport.close().catch(() => undefined);
      // After a fatal storage error the WAL is poisoned: close() then only releases files.
      await this.wal.close().catch(() => undefined);
      this.log.info('node stopped');
      this.resolveStopped({ fatal });
    })();
    return this.stopping;
  }

  /**
   * A leader that stops on purpose first hands leadership to its most caught-up voter (as etcd
   * does): a planned restart then costs no election timeout, and writes forwarded to it are
   * refused (and retried by followers) instead of left without an answer. A transfer to a live,
   * caught-up voter takes a few round trips; the wait is bounded by one election timeout and at
   * most `maxHandOffMs` (when the whole cluster stops at once the target is stopping too, and the
   * stop must not hang on it). A failed hand-over just lets the stop go on.
   */
  private async handOffLeadership(): Promise<void> {
    if (!this.runtime.running) return;
    const status = this.liveCore().brief();
    if (status.role !== 'leader' || status.membership.voters.length < 2) return;
    const timeoutMs = Math.min(maxHandOffMs, this.config.electionTimeoutTicks * this.config.tickIntervalMs);
    try {
      const after = await this.service.transferLeader(null, { timeoutMs });
      this.log.info({ leader: after.leader, term: after.term }, 'handed leadership over before stopping');
    } catch (error) {
      this.log.info({ reason: error instanceof Error ? error.message : String(error) }, 'stopping without handing leadership over');
    }
  }
}

function unrefInterval(action: () => void, intervalMs: number): NodeJS.Timeout {
  const timer = setInterval(action, intervalMs);
  timer.unref();
  return timer;
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
