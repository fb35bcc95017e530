import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeId } from '../../src/core/ids.js';
import type { CoreFactory, ProtocolCore } from '../../src/core/protocol.js';
import { decodeFramePayload, encodeFrame, FrameDecoder } from '../../src/net/frame.js';
import { computeProof, type HandshakeFrame, newNonce, validateHandshakeFrame } from '../../src/net/handshake.js';
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
  /** The members hosted here (default: all). The others (a raw peer may play them) are known to the transports at an unreachable address. */
  readonly hosted?: readonly NodeId[];
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
  private readonly cutting = new Set<Runtime<M, P, Req, Rep>>();
  /** The slowest group commit (write + fsync) so far, in ms, and on which node: a diagnostic for timing-dependent failures. */
  slowestSync = { id: '', durationMs: 0 };
  /**
   * Runtimes that stopped themselves (a broken invariant or a storage failure), every incarnation
   * so far: a test expects none. Not counted: a node being power-cut (its log is abandoned first,
   * so a timer firing before the runtime stops meets a closed log — the crash happening anyway).
   */
  readonly fatalErrors: { readonly id: NodeId; readonly error: string }[] = [];

  private constructor(private readonly options: RealClusterOptions<M, P, Req, Rep>, readonly root: string) {
    this.secret = `${options.name}-real-host-test-secret-0123456789`;
  }

  /** Opens and runs every hosted member. */
  static async start<M, P, Req, Rep, C extends ProtocolCore<M, P, Req, Rep>>(options: RealClusterOptions<M, P, Req, Rep>): Promise<RealCluster<M, P, Req, Rep, C>> {
    const cluster = new RealCluster<M, P, Req, Rep, C>(options, await mkdtemp(join(tmpdir(), `concord-${options.name}-`)));
    const hosted = options.hosted ?? options.ids;
    for (const id of hosted) await cluster.open(id);
    cluster.run(...hosted);
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
      onSync: ({ durationMs }) => {
        if (durationMs > this.slowestSync.durationMs) this.slowestSync = { id, durationMs };
      },
      onFatal: (error) => {
        if (!this.cutting.has(runtime)) this.fatalErrors.push({ id, error: error instanceof Error ? error.stack ?? error.message : String(error) });
      },
    });
    const node: HostedNode<M, P, Req, Rep, C> = { id, transport, wal, runtime, core: runtime.core as C };
    this.nodes.set(id, node);
    return node;
  }

  /** Tells every open node where the others listen, then starts the runtimes of `ids`. */
  run(...ids: NodeId[]): void {
    for (const [id, node] of this.nodes) {
      for (const peer of this.options.ids) {
        if (peer !== id) node.transport.addPeer(peer, this.ports.has(peer) ? { host: '127.0.0.1', port: this.ports.get(peer)! } : unreachable);
      }
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
    this.cutting.add(node.runtime);
    await node.wal.abandon();
    await node.runtime.stop();
    await node.transport.close();
    this.cutting.delete(node.runtime);
  }

  /** True once every record `id` appended is durable (the runtime counts a record when a sync covering it completes). */
  settled(id: NodeId): boolean {
    const node = this.node(id);
    return node.runtime.stats.recordsPersisted === node.wal.stats().appendedRecords;
  }

  /** The fatal errors so far as lines (`id: stack`), for an assertion that prints them. */
  fatalLines(): string[] {
    return this.fatalErrors.map((fatal) => `${fatal.id}: ${fatal.error}`);
  }

  request(id: NodeId, request: Req, timeoutMs?: number): Promise<Rep> {
    return this.node(id).runtime.request(request, timeoutMs === undefined ? undefined : { timeoutMs });
  }

  async close(): Promise<void> {
    for (const id of this.liveIds) await this.powerCut(id);
    await rm(this.root, { recursive: true, force: true });
  }
}

/**
 * A member gone bad: a raw socket that completes the dialer side of the handshake as `from`
 * (which must sort below `to`: the lower id dials) and then writes whatever bytes it likes.
 */
export async function rawPeerSocket(options: { readonly port: number; readonly from: NodeId; readonly to: NodeId; readonly secret: string }): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port: options.port });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const decoder = new FrameDecoder(1024);
  const frames: HandshakeFrame[] = [];
  let arrived: () => void = () => undefined;
  socket.on('data', (chunk: Buffer) => {
    for (const payload of decoder.feed(chunk)) frames.push(decodeFramePayload<HandshakeFrame>(payload, validateHandshakeFrame));
    arrived();
  });
  const next = async (type: HandshakeFrame['type']): Promise<HandshakeFrame> => {
    const deadline = Date.now() + 3_000;
    while (frames.length === 0) {
      if (socket.destroyed || Date.now() > deadline) throw new Error(`raw peer ${options.from}: no ${type} from ${options.to}`);
      await new Promise<void>((resolve) => {
        arrived = resolve;
        setTimeout(resolve, 20);
      });
    }
    const frame = frames.shift()!;
    if (frame.type !== type) throw new Error(`raw peer ${options.from}: expected ${type}, got ${frame.type}`);
    return frame;
  };
  const nonce = newNonce();
  socket.write(encodeFrame({ type: 'hello', version: 1, from: options.from, to: options.to, nonce } satisfies HandshakeFrame, 1024));
  const challenge = await next('challenge');
  if (challenge.type !== 'challenge') throw new Error('unreachable');
  const transcript = { dialer: options.from, acceptor: options.to, dialerNonce: nonce, acceptorNonce: challenge.nonce };
  socket.write(encodeFrame({ type: 'auth', proof: computeProof(Buffer.from(options.secret), 'dialer', transcript) } satisfies HandshakeFrame, 1024));
  await next('welcome');
  socket.removeAllListeners('data');
  return socket;
}

/** A data frame carrying `message`, as a member's transport would write it. */
export const dataFrame = (message: unknown): Buffer => encodeFrame({ type: 'data', message }, 1024 * 1024);

export function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
}
