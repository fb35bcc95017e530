import type { Socket } from 'node:net';
import type { NodeId } from '../core/ids.js';
import { isConcordError } from '../core/errors.js';
import { decodeFramePayload, encodeFrame, FrameDecoder } from './frame.js';
import { validateHandshakeFrame, type HandshakeFrame } from './handshake.js';

/** Frames after the handshake. Data carries one protocol message; ping keeps an idle link observable. */
export type WireFrame = { readonly type: 'data'; readonly message: unknown } | { readonly type: 'ping' };

/** Handshake frames are tiny; an unauthenticated stranger may make us buffer at most this much. */
export const maxHandshakeFrameBytes = 1024;

export type ConnectionRole = 'dialer' | 'acceptor';

export interface ConnectionEvents {
  /** A decoded handshake frame (before `ready`). */
  onHandshakeFrame(connection: PeerConnection, frame: HandshakeFrame): void;
  /** A decoded, validated wire frame (after `ready`). */
  onWireFrame(connection: PeerConnection, frame: WireFrame, frameBytes: number): void;
  /** The stream broke framing or validation; the connection is being destroyed. */
  onProtocolError(connection: PeerConnection, error: Error): void;
  onClosed(connection: PeerConnection): void;
}

/**
 * One TCP (or TLS) connection to a peer: framing, the handshake/ready phase switch and
 * liveness bookkeeping. Policy (who is allowed, what to deliver) lives in the transport.
 */
export class PeerConnection {
  private readonly decoder = new FrameDecoder(maxHandshakeFrameBytes);
  private phase: 'handshake' | 'ready' | 'closed' = 'handshake';
  /** The authenticated peer (acceptor side: claimed in hello; dialer side: the peer dialled). */
  peer: NodeId | null;
  lastReceivedAtMs: number;
  lastSentAtMs: number;
  handshakeTimer: NodeJS.Timeout | null = null;
  /** Handshake scratch state (nonces), owned by the transport. */
  handshakeState: unknown = null;

  constructor(
    readonly socket: Socket,
    readonly role: ConnectionRole,
    private readonly events: ConnectionEvents,
    private readonly wireValidator: (value: unknown) => string | null,
    private readonly maxFrameBytes: number,
    dialedPeer: NodeId | null,
    nowMs: number,
  ) {
    this.peer = dialedPeer;
    this.lastReceivedAtMs = nowMs;
    this.lastSentAtMs = nowMs;
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => undefined); // 'close' follows; the transport logs the reason there
    socket.on('close', () => this.closed());
  }

  get isReady(): boolean {
    return this.phase === 'ready';
  }

  get isClosed(): boolean {
    return this.phase === 'closed';
  }

  get remoteAddress(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  /** Switches to the post-handshake phase: larger frames, wire-frame validation. */
  markReady(): void {
    this.phase = 'ready';
    this.decoder.setMaxFrameBytes(this.maxFrameBytes);
    if (this.handshakeTimer !== null) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
  }

  sendHandshake(frame: HandshakeFrame, nowMs: number): void {
    this.write(encodeFrame(frame, maxHandshakeFrameBytes), nowMs);
  }

  write(bytes: Buffer, nowMs: number): void {
    if (this.phase === 'closed' || this.socket.destroyed) return;
    this.lastSentAtMs = nowMs;
    this.socket.write(bytes);
  }

  destroy(): void {
    if (this.handshakeTimer !== null) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    this.lastReceivedAtMs = Date.now();
    try {
      this.decoder.push(chunk);
    } catch (error) {
      this.fail(error);
      return;
    }
    while (!this.isClosed && !this.socket.destroyed) {
      const payload = this.nextPayload();
      if (payload === null) return;
      // Handlers run outside any try: an exception thrown by the host's handler is the host's bug
      // and must not be mistaken for a corrupt frame.
      const frame = this.decode(payload);
      if (frame === null) return;
      if (this.phase === 'handshake') this.events.onHandshakeFrame(this, frame as HandshakeFrame);
      else this.events.onWireFrame(this, frame as WireFrame, payload.length);
    }
  }

  private nextPayload(): Buffer | null {
    try {
      return this.decoder.next();
    } catch (error) {
      this.fail(error);
      return null;
    }
  }

  private decode(payload: Buffer): unknown {
    try {
      return decodeFramePayload(payload, this.phase === 'handshake' ? validateHandshakeFrame : this.wireValidator);
    } catch (error) {
      this.fail(error);
      return null;
    }
  }

  private fail(error: unknown): void {
    if (!isConcordError(error)) throw error;
    this.events.onProtocolError(this, error);
    this.destroy();
  }

  private closed(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    if (this.handshakeTimer !== null) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.events.onClosed(this);
  }
}
