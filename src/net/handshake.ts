import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isNodeId, type NodeId } from '../core/ids.js';

/**
 * The peer handshake: mutual HMAC-SHA256 challenge–response over a shared cluster secret.
 *
 *   dialer   → acceptor : hello     { from: dialer, to: acceptor, nonce: Nd }
 *   acceptor → dialer   : challenge { nonce: Na, proof: HMAC(k, "acceptor" ‖ ids ‖ Nd ‖ Na) }
 *   dialer   → acceptor : auth      { proof: HMAC(k, "dialer" ‖ ids ‖ Nd ‖ Na) }
 *   acceptor → dialer   : welcome   {}
 *
 * Fresh 32-byte nonces from both sides make every proof single-use (no replay); the role label
 * keeps one side's proof from being reflected as the other's; both ids are bound into the MAC so a
 * proof for one pair is worthless for another. Proofs are compared in constant time. Without TLS
 * the handshake authenticates membership at connect time only: it does not protect the stream
 * against an active man-in-the-middle (configure TLS for that).
 */
export const handshakeVersion = 1;
export const nonceBytes = 32;
const proofBytes = 32;

export type HandshakeFrame =
  | { readonly type: 'hello'; readonly version: number; readonly from: NodeId; readonly to: NodeId; readonly nonce: Uint8Array }
  | { readonly type: 'challenge'; readonly nonce: Uint8Array; readonly proof: Uint8Array }
  | { readonly type: 'auth'; readonly proof: Uint8Array }
  | { readonly type: 'welcome' };

export interface HandshakeTranscript {
  readonly dialer: NodeId;
  readonly acceptor: NodeId;
  readonly dialerNonce: Uint8Array;
  readonly acceptorNonce: Uint8Array;
}

export function newNonce(): Buffer {
  return randomBytes(nonceBytes);
}

export function computeProof(secret: Uint8Array, role: 'dialer' | 'acceptor', transcript: HandshakeTranscript): Buffer {
  const mac = createHmac('sha256', secret);
  // Ids cannot contain NUL (isNodeId), so NUL-separated fields are unambiguous; nonces are fixed-size.
  mac.update(`concord-peer-handshake/${handshakeVersion}\0${role}\0${transcript.dialer}\0${transcript.acceptor}\0`);
  mac.update(transcript.dialerNonce);
  mac.update(transcript.acceptorNonce);
  return mac.digest();
}

/** Constant-time check of a received proof (length checked first; proofs have a fixed size). */
export function verifyProof(secret: Uint8Array, role: 'dialer' | 'acceptor', transcript: HandshakeTranscript, received: Uint8Array): boolean {
  if (received.length !== proofBytes) return false;
  return timingSafeEqual(computeProof(secret, role, transcript), received);
}

/** Structural validation of a decoded handshake frame (the frame codec's validator). */
export function validateHandshakeFrame(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'handshake frame is not an object';
  const frame = value as Record<string, unknown>;
  switch (frame.type) {
    case 'hello':
      if (frame.version !== handshakeVersion) return `unsupported handshake version ${String(frame.version)}`;
      if (!isNodeId(frame.from) || !isNodeId(frame.to)) return 'hello with malformed node ids';
      return isBytes(frame.nonce, nonceBytes) ? null : 'hello without a 32-byte nonce';
    case 'challenge':
      return isBytes(frame.nonce, nonceBytes) && isBytes(frame.proof, proofBytes) ? null : 'malformed challenge';
    case 'auth':
      return isBytes(frame.proof, proofBytes) ? null : 'malformed auth';
    case 'welcome':
      return null;
    default:
      return `unexpected handshake frame type ${JSON.stringify(frame.type)?.slice(0, 40)}`;
  }
}

function isBytes(value: unknown, length: number): value is Uint8Array {
  return value instanceof Uint8Array && value.length === length;
}
