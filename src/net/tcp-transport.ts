import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import pino, { type Logger } from 'pino';
import { ConcordError, ErrorCode, isConcordError } from '../core/errors.js';
import type { Transport } from '../core/host.js';
import { isNodeId, type NodeId } from '../core/ids.js';
import { Backoff } from './backoff.js';
import { PeerConnection, type ConnectionEvents, type WireFrame } from './connection.js';
import { encodeFrame } from './frame.js';
import { computeProof, handshakeVersion, newNonce, verifyProof, type HandshakeFrame, type HandshakeTranscript } from './handshake.js';
import { LinkFaults } from './link-faults.js';
import { decodeValue, encodeValue } from './msgpack.js';
import { BoundedFrameQueue } from './send-queue.js';

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/** PEM files for mutual TLS between peers; every node's certificate must be signed by `caFile`. */
export interface PeerTlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

export interface TcpTransportOptions {
  readonly self: NodeId;
  /** Where to listen; host defaults to 127.0.0.1 (never all interfaces unless told), port to 0 (ephemeral). */
  readonly listen?: { readonly host?: string; readonly port?: number };
  /** The other members and their peer addresses (an entry for `self` is ignored). */
  readonly peers?: Readonly<Record<NodeId, PeerAddress>>;
  /** Shared cluster secret, at least 16 bytes. */
  readonly clusterSecret: string | Uint8Array;
  /** Refuses decoded messages that are not of the protocol's message type (reason, or null = ok). */
  readonly validateMessage?: (value: unknown) => string | null;
  readonly logger?: Logger;
  readonly tls?: PeerTlsFiles;
  /** Largest frame payload sent or accepted after the handshake. Default 16 MiB. */
  readonly maxFrameBytes?: number;
  /** Per-peer send queue bounds; overflow drops the oldest queued frames. Defaults 10 000 / 64 MiB. */
  readonly sendQueueMaxMessages?: number;
  readonly sendQueueMaxBytes?: number;
  /** Bytes handed to a socket before further frames wait in the (bounded) queue. Default 1 MiB. */
  readonly socketBufferMaxBytes?: number;
  /** Reconnect backoff bounds. Defaults 25 ms / 1000 ms. */
  readonly reconnectDelayMsMin?: number;
  readonly reconnectDelayMsMax?: number;
  /** A connection that has not authenticated within this time is dropped. Default 3000 ms. */
  readonly handshakeTimeoutMs?: number;
  /** A ping goes out on a link idle this long. Default 500 ms. */
  readonly keepaliveIntervalMs?: number;
  /** A ready link that received nothing (not even a ping) for this long is torn down. Default 5000 ms. */
  readonly idleTimeoutMs?: number;
  /** Unauthenticated connections held at once; beyond it the oldest is dropped. Default 64. */
  readonly maxPendingConnections?: number;
  /** Uniform [0, 1) source for backoff jitter. Default Math.random. */
  readonly random?: () => number;
}

/** Counters for metrics. All are totals since start. */
export interface TransportStats {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  messagesDelivered: number;
  /** Dropped by the full-queue policy (oldest first). */
  queueDrops: number;
  /** Dropped by the fault hook. */
  faultDrops: number;
  /** Messages larger than maxFrameBytes, refused at send (logged). */
  oversizedDrops: number;
  /** Received while no handler was registered, or sent after close. */
  undeliverable: number;
  connectionsAccepted: number;
  dials: number;
  reconnects: number;
  authFailures: number;
  /** Connections closed for a malformed, oversized or invalid frame. */
  corruptFrames: number;
}

interface Peer {
  readonly id: NodeId;
  address: PeerAddress;
  readonly queue: BoundedFrameQueue;
  /** The authenticated connection, if any. One per peer pair: the lower id dials, the higher accepts. */
  connection: PeerConnection | null;
  readonly dials: boolean;
  readonly backoff: Backoff;
  reconnectTimer: NodeJS.Timeout | null;
  dialing: PeerConnection | null;
  flushScheduled: boolean;
  awaitingDrain: boolean;
  removed: boolean;
}

interface DialerHandshake {
  readonly nonce: Buffer;
}

interface AcceptorHandshake {
  transcript: HandshakeTranscript | null;
}

const defaultMaxFrameBytes = 16 * 1024 * 1024;
/** Frames are coalesced into writes of about this size. */
const writeBatchBytes = 64 * 1024;

/**
 * The TCP transport between cluster members (see the module docs in `handshake.ts` for the
 * handshake). Delivery is best effort and per-peer FIFO; `send` never blocks and never throws for
 * a slow or dead peer.
 */
export class TcpTransport<M> implements Transport<M> {
  readonly self: NodeId;
  readonly faults = new LinkFaults();
  private readonly peers = new Map<NodeId, Peer>();
  private readonly pending = new Set<PeerConnection>();
  private readonly counters: TransportStats = {
    framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, messagesDelivered: 0, queueDrops: 0, faultDrops: 0,
    oversizedDrops: 0, undeliverable: 0, connectionsAccepted: 0, dials: 0, reconnects: 0, authFailures: 0, corruptFrames: 0,
  };
  private handler: ((from: NodeId, message: M) => void) | null = null;
  private closed = false;
  private readonly secret: Buffer;
  private readonly logger: Logger;
  private readonly settings: Required<Omit<TcpTransportOptions, 'peers' | 'listen' | 'tls' | 'logger' | 'clusterSecret' | 'self'>>;
  private readonly tlsContext: { cert: Buffer; key: Buffer; ca: Buffer } | null;
  private server: net.Server | null = null;
  private keepaliveTimer: NodeJS.Timeout | null = null;
  private boundAddress: PeerAddress | null = null;
  private readonly events: ConnectionEvents;
  private readonly wireValidator: (value: unknown) => string | null;

  private constructor(options: TcpTransportOptions) {
    if (!isNodeId(options.self)) throw new ConcordError(ErrorCode.InvalidConfig, `invalid node id ${JSON.stringify(options.self)}`);
    this.self = options.self;
    this.secret = Buffer.from(options.clusterSecret);
    if (this.secret.length < 16) throw new ConcordError(ErrorCode.InvalidConfig, 'the cluster secret must be at least 16 bytes');
    this.logger = (options.logger ?? pino({ level: 'silent' })).child({ component: 'transport', node: options.self });
    this.settings = {
      validateMessage: options.validateMessage ?? (() => null),
      maxFrameBytes: options.maxFrameBytes ?? defaultMaxFrameBytes,
      sendQueueMaxMessages: options.sendQueueMaxMessages ?? 10_000,
      sendQueueMaxBytes: options.sendQueueMaxBytes ?? 64 * 1024 * 1024,
      socketBufferMaxBytes: options.socketBufferMaxBytes ?? 1024 * 1024,
      reconnectDelayMsMin: options.reconnectDelayMsMin ?? 25,
      reconnectDelayMsMax: options.reconnectDelayMsMax ?? 1000,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 3000,
      keepaliveIntervalMs: options.keepaliveIntervalMs ?? 500,
      idleTimeoutMs: options.idleTimeoutMs ?? 5000,
      maxPendingConnections: options.maxPendingConnections ?? 64,
      random: options.random ?? Math.random,
    };
    this.tlsContext = options.tls === undefined ? null : loadTlsFiles(options.tls);
    this.wireValidator = (value) => this.validateWireFrame(value);
    this.events = {
      onHandshakeFrame: (connection, frame) => this.onHandshakeFrame(connection, frame),
      onWireFrame: (connection, frame, bytes) => this.onWireFrame(connection, frame, bytes),
      onProtocolError: (connection, error) => this.onProtocolError(connection, error),
      onClosed: (connection) => this.onConnectionClosed(connection),
    };
    for (const [id, address] of Object.entries(options.peers ?? {})) if (id !== this.self) this.addPeer(id, address);
  }

  /** Creates the transport, binds the listener and starts dialling; resolves once listening. */
  static async start<M>(options: TcpTransportOptions): Promise<TcpTransport<M>> {
    const transport = new TcpTransport<M>(options);
    await transport.listen(options.listen?.host ?? '127.0.0.1', options.listen?.port ?? 0);
    return transport;
  }

  /** The bound listen address (the real port when 0 was asked for). */
  get address(): PeerAddress {
    if (this.boundAddress === null) throw new ConcordError(ErrorCode.Stopped, 'transport is not listening');
    return this.boundAddress;
  }

  stats(): Readonly<TransportStats> {
    return { ...this.counters };
  }

  /** Per-peer view for metrics and tests. */
  peerStatus(): { id: NodeId; connected: boolean; queued: number; queueDrops: number }[] {
    return [...this.peers.values()].map((peer) => ({
      id: peer.id,
      connected: peer.connection !== null,
      queued: peer.queue.length,
      queueDrops: peer.queue.dropped,
    }));
  }

  isConnected(peer: NodeId): boolean {
    const state = this.peers.get(peer);
    return state !== undefined && state.connection !== null;
  }

  /** Adds (or re-addresses) a member. */
  addPeer(id: NodeId, address: PeerAddress): void {
    if (!isNodeId(id)) throw new ConcordError(ErrorCode.InvalidConfig, `invalid node id ${JSON.stringify(id)}`);
    if (id === this.self) return;
    const existing = this.peers.get(id);
    if (existing !== undefined) {
      existing.address = address;
      return;
    }
    const peer: Peer = {
      id, address, connection: null, dialing: null, reconnectTimer: null, flushScheduled: false, awaitingDrain: false, removed: false,
      queue: new BoundedFrameQueue(this.settings.sendQueueMaxMessages, this.settings.sendQueueMaxBytes),
      dials: this.self < id,
      backoff: new Backoff({ delayMsMin: this.settings.reconnectDelayMsMin, delayMsMax: this.settings.reconnectDelayMsMax, random: this.settings.random }),
    };
    this.peers.set(id, peer);
    if (peer.dials && this.server !== null) this.dial(peer);
  }

  /** Forgets a member: drops its queue and connection; later sends to it throw UNKNOWN_NODE. */
  removePeer(id: NodeId): void {
    const peer = this.peers.get(id);
    if (peer === undefined) return;
    peer.removed = true;
    this.peers.delete(id);
    if (peer.reconnectTimer !== null) clearTimeout(peer.reconnectTimer);
    peer.queue.clear();
    peer.connection?.destroy();
    peer.dialing?.destroy();
  }

  onMessage(handler: (from: NodeId, message: M) => void): void {
    this.handler = handler;
  }

  send(to: NodeId, message: M): void {
    if (to === this.self) {
      this.sendToSelf(message);
      return;
    }
    const peer = this.peers.get(to);
    if (peer === undefined) throw new ConcordError(ErrorCode.UnknownNode, `unknown node ${JSON.stringify(to)}`);
    if (this.closed) {
      this.counters.undeliverable += 1;
      return;
    }
    if (this.faults.dropsOutbound(to)) {
      this.counters.faultDrops += 1;
      return;
    }
    const frame = this.encodeData(to, message);
    if (frame === null) return;
    this.counters.queueDrops += peer.queue.push(frame);
    this.scheduleFlush(peer);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.keepaliveTimer !== null) clearInterval(this.keepaliveTimer);
    for (const peer of this.peers.values()) {
      if (peer.reconnectTimer !== null) clearTimeout(peer.reconnectTimer);
      peer.reconnectTimer = null;
      peer.connection?.destroy();
      peer.dialing?.destroy();
    }
    for (const connection of this.pending) connection.destroy();
    const server = this.server;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ----- listening and dialling -----

  private async listen(host: string, port: number): Promise<void> {
    const server = this.tlsContext === null
      ? net.createServer((socket) => this.accept(socket))
      : tls.createServer(
        { ...this.tlsContext, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2', handshakeTimeout: this.settings.handshakeTimeoutMs },
        (socket) => this.accept(socket),
      );
    server.on('tlsClientError', (error: Error, socket: tls.TLSSocket) => {
      this.counters.authFailures += 1;
      this.logger.warn({ remote: `${socket.remoteAddress}:${socket.remotePort}`, err: error.message }, 'peer refused: TLS handshake failed');
    });
    server.on('error', (error) => this.logger.error({ err: error.message }, 'listener error'));
    await new Promise<void>((resolve, reject) => {
      const failed = (error: NodeJS.ErrnoException): void => {
        reject(new ConcordError(ErrorCode.InvalidConfig, `cannot listen on ${host}:${port}: ${error.code ?? error.message}`, { host, port, cause: error.code }));
      };
      server.once('error', failed);
      server.listen({ host, port }, () => {
        server.off('error', failed);
        resolve();
      });
    });
    this.server = server;
    const bound = server.address() as net.AddressInfo;
    this.boundAddress = { host: bound.address, port: bound.port };
    this.logger.info({ address: this.boundAddress, tls: this.tlsContext !== null }, 'transport listening');
    this.keepaliveTimer = setInterval(() => this.keepalive(), this.settings.keepaliveIntervalMs);
    this.keepaliveTimer.unref();
    for (const peer of this.peers.values()) if (peer.dials) this.dial(peer);
  }

  private accept(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    if (this.pending.size >= this.settings.maxPendingConnections) {
      // Evict the oldest unauthenticated connection rather than refuse the newest: a member
      // completes its handshake in one round trip, so a flood of idle strangers cannot lock it out.
      const oldest = this.pending.values().next().value!;
      this.pending.delete(oldest);
      this.logger.warn({ remote: oldest.remoteAddress }, 'unauthenticated connection evicted: too many pending handshakes');
      oldest.destroy();
    }
    this.counters.connectionsAccepted += 1;
    socket.setNoDelay(true);
    const connection = new PeerConnection(socket, 'acceptor', this.events, this.wireValidator, this.settings.maxFrameBytes, null, Date.now());
    connection.handshakeState = { transcript: null } satisfies AcceptorHandshake;
    this.trackHandshake(connection);
  }

  private dial(peer: Peer): void {
    if (this.closed || peer.removed || peer.dialing !== null || peer.connection !== null) return;
    peer.reconnectTimer = null;
    this.counters.dials += 1;
    if (peer.backoff.attempts > 0) this.counters.reconnects += 1;
    const { host, port } = peer.address;
    const socket = this.tlsContext === null
      ? net.connect({ host, port })
      : tls.connect({ host, port, ...this.tlsContext, rejectUnauthorized: true, minVersion: 'TLSv1.2', checkServerIdentity: () => undefined });
    socket.setNoDelay(true);
    const connection = new PeerConnection(socket, 'dialer', this.events, this.wireValidator, this.settings.maxFrameBytes, peer.id, Date.now());
    const nonce = newNonce();
    connection.handshakeState = { nonce } satisfies DialerHandshake;
    peer.dialing = connection;
    this.trackHandshake(connection);
    socket.once(this.tlsContext === null ? 'connect' : 'secureConnect', () => {
      connection.sendHandshake({ type: 'hello', version: handshakeVersion, from: this.self, to: peer.id, nonce }, Date.now());
    });
  }

  private trackHandshake(connection: PeerConnection): void {
    this.pending.add(connection);
    connection.handshakeTimer = setTimeout(() => {
      this.logger.warn({ remote: connection.remoteAddress, peer: connection.peer }, 'handshake timed out');
      connection.destroy();
    }, this.settings.handshakeTimeoutMs);
    connection.handshakeTimer.unref();
  }

  private scheduleReconnect(peer: Peer): void {
    if (this.closed || peer.removed || !peer.dials || peer.reconnectTimer !== null) return;
    const delayMs = peer.backoff.nextDelayMs();
    this.logger.debug({ peer: peer.id, delayMs: Math.round(delayMs) }, 'reconnect scheduled');
    peer.reconnectTimer = setTimeout(() => this.dial(peer), delayMs);
    peer.reconnectTimer.unref();
  }

  // ----- handshake -----

  private onHandshakeFrame(connection: PeerConnection, frame: HandshakeFrame): void {
    if (connection.role === 'acceptor') this.acceptorStep(connection, frame);
    else this.dialerStep(connection, frame);
  }

  private acceptorStep(connection: PeerConnection, frame: HandshakeFrame): void {
    const state = connection.handshakeState as AcceptorHandshake;
    if (frame.type === 'hello' && state.transcript === null) {
      const refusal = this.helloRefusal(frame.from, frame.to);
      if (refusal !== null) {
        this.refuse(connection, refusal, frame.from);
        return;
      }
      connection.peer = frame.from;
      state.transcript = { dialer: frame.from, acceptor: this.self, dialerNonce: frame.nonce, acceptorNonce: newNonce() };
      const proof = computeProof(this.secret, 'acceptor', state.transcript);
      connection.sendHandshake({ type: 'challenge', nonce: state.transcript.acceptorNonce, proof }, Date.now());
      return;
    }
    if (frame.type === 'auth' && state.transcript !== null) {
      if (!verifyProof(this.secret, 'dialer', state.transcript, frame.proof)) {
        this.refuse(connection, 'wrong cluster secret', state.transcript.dialer);
        return;
      }
      connection.sendHandshake({ type: 'welcome' }, Date.now());
      this.becomeReady(connection);
      return;
    }
    this.refuse(connection, `unexpected ${frame.type} frame during handshake`, connection.peer);
  }

  private helloRefusal(from: NodeId, to: NodeId): string | null {
    if (to !== this.self) return `hello addressed to ${to}, this node is ${this.self}`;
    if (!this.peers.has(from)) return 'unknown node id';
    // One connection per pair: the lower id dials. A hello from a higher id breaks the rule.
    if (!(from < this.self)) return 'dial direction violated (the lower id dials)';
    return null;
  }

  private dialerStep(connection: PeerConnection, frame: HandshakeFrame): void {
    const state = connection.handshakeState as DialerHandshake & { transcript?: HandshakeTranscript };
    const peerId = connection.peer!;
    if (frame.type === 'challenge' && state.transcript === undefined) {
      const transcript: HandshakeTranscript = { dialer: this.self, acceptor: peerId, dialerNonce: state.nonce, acceptorNonce: frame.nonce };
      if (!verifyProof(this.secret, 'acceptor', transcript, frame.proof)) {
        this.refuse(connection, 'wrong cluster secret', peerId);
        return;
      }
      state.transcript = transcript;
      connection.sendHandshake({ type: 'auth', proof: computeProof(this.secret, 'dialer', transcript) }, Date.now());
      return;
    }
    if (frame.type === 'welcome' && state.transcript !== undefined) {
      this.becomeReady(connection);
      return;
    }
    this.refuse(connection, `unexpected ${frame.type} frame during handshake`, peerId);
  }

  private refuse(connection: PeerConnection, reason: string, claimedId: unknown): void {
    this.counters.authFailures += 1;
    this.logger.warn({ remote: connection.remoteAddress, claimedId, role: connection.role, reason }, 'peer refused');
    connection.destroy();
  }

  private becomeReady(connection: PeerConnection): void {
    this.pending.delete(connection);
    const peer = this.peers.get(connection.peer!);
    if (peer === undefined || this.closed) {
      connection.destroy();
      return;
    }
    connection.markReady();
    if (peer.dialing === connection) peer.dialing = null;
    // A newer authenticated connection replaces an older one (the peer restarted, or the old link is half dead).
    const previous = peer.connection;
    peer.connection = connection;
    peer.awaitingDrain = false;
    previous?.destroy();
    peer.backoff.reset();
    this.logger.info({ peer: peer.id, remote: connection.remoteAddress, role: connection.role }, 'peer connected');
    this.scheduleFlush(peer);
  }

  // ----- data path -----

  private validateWireFrame(value: unknown): string | null {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'wire frame is not an object';
    const frame = value as Record<string, unknown>;
    if (frame.type === 'ping') return null;
    if (frame.type !== 'data') return 'unknown wire frame type';
    return this.settings.validateMessage(frame.message);
  }

  private onWireFrame(connection: PeerConnection, frame: WireFrame, frameBytes: number): void {
    this.counters.framesIn += 1;
    this.counters.bytesIn += frameBytes;
    if (frame.type === 'ping') return;
    const from = connection.peer!;
    if (this.faults.dropsInbound(from)) {
      this.counters.faultDrops += 1;
      return;
    }
    if (this.handler === null || this.closed) {
      this.counters.undeliverable += 1;
      return;
    }
    this.counters.messagesDelivered += 1;
    this.handler(from, frame.message as M);
  }

  private onProtocolError(connection: PeerConnection, error: Error): void {
    const code = isConcordError(error) ? error.code : 'UNKNOWN';
    if (connection.isReady) this.counters.corruptFrames += 1;
    else this.counters.authFailures += 1;
    this.logger.warn({ remote: connection.remoteAddress, peer: connection.peer, code, err: error.message }, 'connection closed: bad frame');
  }

  private onConnectionClosed(connection: PeerConnection): void {
    this.pending.delete(connection);
    const peer = connection.peer === null ? undefined : this.peers.get(connection.peer);
    if (peer === undefined) return;
    if (peer.dialing === connection) peer.dialing = null;
    if (peer.connection === connection) {
      peer.connection = null;
      this.logger.info({ peer: peer.id }, 'peer disconnected');
    }
    if (peer.dials && peer.connection === null && peer.dialing === null) this.scheduleReconnect(peer);
  }

  private encodeData(to: NodeId, message: M): Buffer | null {
    try {
      return encodeFrame({ type: 'data', message } satisfies WireFrame, this.settings.maxFrameBytes);
    } catch (error) {
      if (!isConcordError(error, ErrorCode.FrameTooLarge)) throw error;
      // Policy: an oversized message is dropped and logged, never sent in pieces and never thrown at
      // the caller's hot path (a protocol must cap its message size; this is a loud signal it did not).
      this.counters.oversizedDrops += 1;
      this.logger.error({ peer: to, details: error.details }, 'message dropped: larger than maxFrameBytes');
      return null;
    }
  }

  private sendToSelf(message: M): void {
    if (this.closed) {
      this.counters.undeliverable += 1;
      return;
    }
    // Round-trip through the codec so the receiver never aliases the sender's object, as over TCP.
    const copy = decodeValue(encodeValue(message)) as M;
    setImmediate(() => {
      if (this.handler === null || this.closed) {
        this.counters.undeliverable += 1;
        return;
      }
      this.counters.messagesDelivered += 1;
      this.handler(this.self, copy);
    });
  }

  private scheduleFlush(peer: Peer): void {
    if (peer.flushScheduled || peer.connection === null) return;
    peer.flushScheduled = true;
    // A microtask: every send made in the same synchronous turn (one core output) leaves in one write.
    queueMicrotask(() => {
      peer.flushScheduled = false;
      this.flush(peer);
    });
  }

  /** Moves queued frames into the socket until its buffer holds socketBufferMaxBytes; resumes on 'drain'. */
  private flush(peer: Peer): void {
    const connection = peer.connection;
    if (connection === null || connection.isClosed) return;
    const socket = connection.socket;
    while (peer.queue.length > 0 && socket.writableLength < this.settings.socketBufferMaxBytes) {
      const batch: Buffer[] = [];
      let batchBytes = 0;
      while (peer.queue.length > 0 && batchBytes < writeBatchBytes) {
        const frame = peer.queue.shift()!;
        batch.push(frame);
        batchBytes += frame.length;
      }
      this.counters.framesOut += batch.length;
      this.counters.bytesOut += batchBytes;
      connection.write(batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchBytes), Date.now());
    }
    if (peer.queue.length > 0 && !peer.awaitingDrain) {
      peer.awaitingDrain = true;
      socket.once('drain', () => {
        peer.awaitingDrain = false;
        this.flush(peer);
      });
    }
  }

  private keepalive(): void {
    const nowMs = Date.now();
    for (const peer of this.peers.values()) {
      const connection = peer.connection;
      if (connection === null) continue;
      if (nowMs - connection.lastReceivedAtMs > this.settings.idleTimeoutMs) {
        this.logger.warn({ peer: peer.id, idleMs: nowMs - connection.lastReceivedAtMs }, 'peer link idle too long; reconnecting');
        connection.destroy();
        continue;
      }
      if (nowMs - connection.lastSentAtMs >= this.settings.keepaliveIntervalMs && connection.socket.writableLength === 0) {
        connection.write(encodeFrame({ type: 'ping' } satisfies WireFrame, this.settings.maxFrameBytes), nowMs);
      }
    }
  }
}

function loadTlsFiles(files: PeerTlsFiles): { cert: Buffer; key: Buffer; ca: Buffer } {
  try {
    return { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile), ca: readFileSync(files.caFile) };
  } catch (error) {
    throw new ConcordError(ErrorCode.InvalidConfig, `cannot read TLS files: ${(error as Error).message}`);
  }
}
