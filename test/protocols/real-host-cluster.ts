import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeId } from '../../src/core/ids.js';
import type { CoreFactory, ProtocolCore } from '../../src/core/protocol.js';
import { Runtime } from '../../src/net/runtime.js';
import { TcpTransport } from '../../src/net/tcp-transport.js';
import { WriteAheadLog } from '../../src/net/wal.js';

/**
 * A few nodes of one protocol hosted by the real runtime on 127.0.0.1: a `TcpTransport` each
 * (authenticated handshake, MessagePack frames, the protocol's message validator), a
 * `WriteAheadLog` each in a temp directory, ephemeral ports kept across restarts. `powerCut` drops
 * unsynced writes and closes the sockets (`wal.abandon()` + stop); `open` + `run` restart a node
 * from its log. `close` tears everything down (call it in afterEach).
 */
export interface RealClusterOptions<M, P, Req, Rep> {
  /** Every member, in a stable order. */
  readonly ids: readonly NodeId[];
  readonly name: string;
  readonly factory: CoreFactory<M, P, Req, Rep>;
  readonly validateMessage: (value: unknown) => string | null;
  readonly validateRecord?: (value: unknown) => string | null;
  /** Members that are not hosted here (a raw peer plays them): known to the transports, never dialled. */
  readonly outsiders?: readonly NodeId[];
  readonly tickIntervalMs?: number;
  readonly requestTimeoutMs?: number;
}

export interface HostedNode<M, P, Req, Rep, C extends ProtocolCore<M, P, Req, Rep>> {
  readonly id: NodeId;
  readonly runtime: Runtime<M, P, Req, Rep>;
  readonly transport: TcpTransport<M>;
  readonly wal: WriteAheadLog<P>;
  /** The hosted core, typed. */
  readonly core: C;
}

/** A closed port on loopback: a member listed there is never reached (nobody listens on the discard port). */
export const unreachable = { host: '127.0.0.1', port: 9 } as const;

export class RealCluster<M, P, Req, Rep, C extends ProtocolCore<M, P, Req, Rep>> {
  readonly secret: string;
  readonly nodes = new Map<NodeId, HostedNode<M, P, Req, Rep, C>>();
  readonly ports = new Map<NodeId, number>();
  /** Runtimes that stopped themselves (a broken invariant or a storage failure), every incarnation so far: a test expects none. */
  readonly fatalErrors: { readonly id: NodeId; readonly error: string }[] = [];

  private constructor(private readonly options: RealClusterOptions<M, P, Req, Rep>, readonly root: string) {
    this.secret = `${options.name}-real-host-test-secret-0123456789`;
  }

  /** Opens and runs every member. */
  static async start<M, P, Req, Rep, C extends ProtocolCore<M, P, Req, Rep>>(options: RealClusterOptions<M, P, Req, Rep>): Promise<RealCluster<M, P, Req, Rep, C>> {
    const cluster = new RealCluster<M, P, Req, Rep, C>(options, await mkdtemp(join(tmpdir(), `concord-${options.name}-`)));
    for (const id of options.ids) await cluster.open(id);
    cluster.run(...options.ids);
    return cluster;
  }

  node(id: NodeId): HostedNode<M, P, Req, Rep, C> {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`${id} is not running`);
    return node;
  }

  get liveIds(): NodeId[] {
    return [...this.nodes.keys()];
  }

  /** Transport, log (recovered from disk) and runtime of `id`; not started, so its recovered state can be inspected. */
  async open(id: NodeId): Promise<HostedNode<M, P, Req, Rep, C>> {
    if (this.nodes.has(id)) throw new Error(`${id} is already running`);
    const transport = await TcpTransport.start<M>({
      self: id, clusterSecret: this.secret, listen: { host: '127.0.0.1', port: this.ports.get(id) ?? 0 },
      validateMessage: this.options.validateMessage, reconnectDelayMsMin: 5, reconnectDelayMsMax: 50,
    });
    this.ports.set(id, transport.address.port);
    const wal = await WriteAheadLog.open<P>({
      dir: join(this.root, id), segmentSizeBytes: 256 * 1024, ...(this.options.validateRecord === undefined ? {} : { validateRecord: this.options.validateRecord }),
    });
    const runtime = new Runtime<M, P, Req, Rep>({
      id, peers: this.options.ids, factory: this.options.factory, transport, log: wal,
      tickIntervalMs: this.options.tickIntervalMs ?? 10, requestTimeoutMs: this.options.requestTimeoutMs ?? 3_000, maxPendingRequests: 256,
      onFatal: (error) => this.fatalErrors.push({ id, error: error instanceof Error ? error.stack ?? error.message : String(error) }),
    });
    const node: HostedNode<M, P, Req, Rep, C> = { id, transport, wal, runtime, core: runtime.core as C };
    this.nodes.set(id, node);
    return node;
  }

  /** Tells every open node where the others listen, then starts the runtimes of `ids`. */
  run(...ids: NodeId[]): void {
    for (const [id, node] of this.nodes) {
      for (const peer of this.options.ids) if (peer !== id && this.ports.has(peer)) node.transport.addPeer(peer, { host: '127.0.0.1', port: this.ports.get(peer)! });
      for (const outsider of this.options.outsiders ?? []) if (outsider !== id && !this.ports.has(outsider)) node.transport.addPeer(outsider, unreachable);
    }
    for (const id of ids) this.node(id).runtime.start();
  }

  /** Opens `id` from its log and runs it. */
  async restart(id: NodeId): Promise<HostedNode<M, P, Req, Rep, C>> {
    const node = await this.open(id);
    this.run(id);
    return node;
  }

  /** A power cut: writes not yet synced are lost, sockets close, pending requests fail. */
  async powerCut(id: NodeId): Promise<void> {
    const node = this.node(id);
    this.nodes.delete(id);
    await node.wal.abandon();
    await node.runtime.stop();
    await node.transport.close();
  }

  /** True once every record `id` appended is durable (the runtime counts a record when a sync covering it completes). */
  settled(id: NodeId): boolean {
    const node = this.node(id);
    return node.runtime.stats.recordsPersisted === node.wal.stats().appendedRecords;
  }

  request(id: NodeId, request: Req, timeoutMs?: number): Promise<Rep> {
    return this.node(id).runtime.request(request, timeoutMs === undefined ? undefined : { timeoutMs });
  }

  async close(): Promise<void> {
    for (const id of this.liveIds) await this.powerCut(id);
    await rm(this.root, { recursive: true, force: true });
  }
}
