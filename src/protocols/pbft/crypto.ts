import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import type { Checkpoint, ClientRequest, PreparedCertificate, Prepare, PrePrepare, ViewChange } from './types.js';

/**
 * Signatures: Ed25519 (deterministic and synchronous in node:crypto, so cores stay pure).
 *
 * Why signatures and not the MAC vectors of the paper's optimized variant: view-change and
 * new-view messages embed other replicas' pre-prepares, prepares and checkpoints, and a Byzantine
 * replica must not be able to fabricate those. A signature is a proof any third replica can check.
 *
 * SIMULATION KEY SETUP: each key pair is derived from `keySeed` and the signer's name (a node id
 * or a client id), so every party computes every public key without a PKI. Soundness in the
 * simulator rests on the adversary code only ever signing with its own node's key. A deployment
 * would load per-node key pairs from configuration instead.
 */
const pkcs8Ed25519Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
const keysMax = 4096;
const keys = new Map<string, { readonly privateKey: KeyObject; readonly publicKey: KeyObject }>();

function keyPair(keySeed: string, signer: string): { readonly privateKey: KeyObject; readonly publicKey: KeyObject } {
  const name = `${keySeed}\u0000${signer}`;
  let pair = keys.get(name);
  if (pair === undefined) {
    const seed = createHash('sha256').update(`concord-pbft-simulation-key\u0000${name}`).digest();
    const privateKey = createPrivateKey({ key: Buffer.concat([pkcs8Ed25519Prefix, seed]), format: 'der', type: 'pkcs8' });
    pair = { privateKey, publicKey: createPublicKey(privateKey) };
    if (keys.size >= keysMax) keys.clear();
    keys.set(name, pair);
  }
  return pair;
}

export function signPayload(keySeed: string, signer: string, payload: string): string {
  return sign(null, Buffer.from(payload), keyPair(keySeed, signer).privateKey).toString('base64');
}

/**
 * Verification is a pure function of (key, payload, signature), so its answers are memoized: the
 * same signed prepare reaches every replica and reappears inside certificates. Bounded: cleared
 * when full.
 */
const verifiedMax = 65_536;
const verified = new Map<string, boolean>();

export function verifyPayload(keySeed: string, signer: string, payload: string, signature: string): boolean {
  const memo = `${keySeed}\u0000${signer}\u0000${signature}\u0000${payload}`;
  const known = verified.get(memo);
  if (known !== undefined) return known;
  let valid = false;
  try {
    valid = verify(null, Buffer.from(payload), keyPair(keySeed, signer).publicKey, Buffer.from(signature, 'base64'));
  } catch {
    valid = false;
  }
  if (verified.size >= verifiedMax) verified.clear();
  verified.set(memo, valid);
  return valid;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

// ----- canonical payloads (what each signature covers) -----

export function requestPayload(request: Omit<ClientRequest, 'signature'>): string {
  return JSON.stringify(['request', request.client, request.timestamp, request.operation]);
}

/** The digest a pre-prepare names for a request (covers its signature too, so it binds one signed request). */
export function requestDigest(request: ClientRequest): string {
  return sha256(JSON.stringify([requestPayload(request), request.signature]));
}

export function prePreparePayload(message: Omit<PrePrepare, 'signature' | 'request' | 'type'>): string {
  return JSON.stringify(['pre-prepare', message.view, message.seq, message.digest, message.replica]);
}

export function preparePayload(message: Omit<Prepare, 'signature' | 'type'>): string {
  return JSON.stringify(['prepare', message.view, message.seq, message.digest, message.replica]);
}

export function checkpointPayload(message: Omit<Checkpoint, 'signature' | 'type'>): string {
  return JSON.stringify(['checkpoint', message.seq, message.stateDigest, message.replica]);
}

const signed = (payload: string, signature: string): string => `${payload}#${signature}`;

function certificateText(certificate: PreparedCertificate): string {
  const prePrepare = certificate.prePrepare;
  return [signed(prePreparePayload(prePrepare), prePrepare.signature), ...certificate.prepares.map((prepare) => signed(preparePayload(prepare), prepare.signature))].join('|');
}

/** A view-change's signature covers everything it carries, embedded signatures included. */
export function viewChangePayload(message: Omit<ViewChange, 'signature' | 'type'>): string {
  const stable = message.stable.checkpoints.map((checkpoint) => signed(checkpointPayload(checkpoint), checkpoint.signature));
  const prepared = message.prepared.map(certificateText);
  return sha256(JSON.stringify(['view-change', message.view, message.replica, message.stable.seq, message.stable.stateDigest, stable, prepared]));
}
