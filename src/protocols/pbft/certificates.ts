import type { NodeId } from '../../core/ids.js';
import { checkpointPayload, prePreparePayload, preparePayload, requestDigest, requestPayload, verifyPayload, viewChangePayload } from './crypto.js';
import { CounterMachine, snapshotDigest } from './state-machine.js';
import { type Checkpoint, type CheckpointProof, type ClientRequest, nullDigest, type PreparedCertificate, type Prepare, type PrePrepare, type ViewChange } from './types.js';

/**
 * Checks of signed messages and of the certificates built from them (§4.2–4.4), shared by the
 * replica that assembles a certificate and every replica that receives one.
 */
export interface Quorums {
  readonly keySeed: string;
  /** Sorted members; the primary of view v is `members[v mod n]`. */
  readonly members: readonly NodeId[];
  readonly f: number;
  /** Log window L: a certificate in a view-change lies in (stable, stable + L]. */
  readonly windowSeqs: number;
  /** TEST-ONLY: matching prepares that make a request prepared (honest: 2f). */
  readonly prepareQuorum: number;
  /** TEST-ONLY: a new primary re-issues null requests everywhere, ignoring prepared certificates. */
  readonly ignorePreparedCertificates: boolean;
}

export const genesisDigest = snapshotDigest(new CounterMachine().snapshot());

export function primaryOf(quorums: Quorums, view: number): NodeId {
  return quorums.members[view % quorums.members.length]!;
}

export function verifyRequest(quorums: Quorums, request: ClientRequest): boolean {
  return verifyPayload(quorums.keySeed, request.client, requestPayload(request), request.signature);
}

/** Signed by the primary of its view, and its digest names the request it carries. */
export function verifyPrePrepare(quorums: Quorums, message: PrePrepare): boolean {
  if (message.replica !== primaryOf(quorums, message.view)) return false;
  if (message.request === null ? message.digest !== nullDigest : message.digest !== requestDigest(message.request) || !verifyRequest(quorums, message.request)) return false;
  return verifyPayload(quorums.keySeed, message.replica, prePreparePayload(message), message.signature);
}

/** Signed by a backup of its view (the primary's pre-prepare stands for its prepare). */
export function verifyPrepare(quorums: Quorums, message: Prepare): boolean {
  if (!quorums.members.includes(message.replica) || message.replica === primaryOf(quorums, message.view)) return false;
  return verifyPayload(quorums.keySeed, message.replica, preparePayload(message), message.signature);
}

export function verifyCheckpoint(quorums: Quorums, message: Checkpoint): boolean {
  return quorums.members.includes(message.replica) && verifyPayload(quorums.keySeed, message.replica, checkpointPayload(message), message.signature);
}

const distinctSigners = (messages: readonly { readonly replica: NodeId }[]): number => new Set(messages.map((message) => message.replica)).size;

/** 2f + 1 matching, valid checkpoints from distinct replicas, or the initial state. */
export function verifyProof(quorums: Quorums, proof: CheckpointProof): boolean {
  if (proof.seq === 0) return proof.stateDigest === genesisDigest && proof.checkpoints.length === 0;
  if (distinctSigners(proof.checkpoints) < 2 * quorums.f + 1) return false;
  return proof.checkpoints.every((checkpoint) => checkpoint.seq === proof.seq && checkpoint.stateDigest === proof.stateDigest && verifyCheckpoint(quorums, checkpoint));
}

export function verifyCertificate(quorums: Quorums, certificate: PreparedCertificate): boolean {
  const { prePrepare, prepares } = certificate;
  if (!verifyPrePrepare(quorums, prePrepare) || distinctSigners(prepares) < quorums.prepareQuorum) return false;
  return prepares.every((prepare) => prepare.view === prePrepare.view && prepare.seq === prePrepare.seq && prepare.digest === prePrepare.digest && verifyPrepare(quorums, prepare));
}

/** Signed by its sender; its proof and certificates are valid and lie in its window, one per sequence number. */
export function verifyViewChange(quorums: Quorums, message: ViewChange): boolean {
  if (!quorums.members.includes(message.replica) || !verifyProof(quorums, message.stable)) return false;
  const seqs = new Set<number>();
  for (const certificate of message.prepared) {
    const { view, seq } = certificate.prePrepare;
    if (view >= message.view || seq <= message.stable.seq || seq > message.stable.seq + quorums.windowSeqs || seqs.has(seq)) return false;
    seqs.add(seq);
    if (!verifyCertificate(quorums, certificate)) return false;
  }
  return verifyPayload(quorums.keySeed, message.replica, viewChangePayload(message), message.signature);
}

/** What a new primary must re-issue (§4.4), recomputed by every replica that checks a new-view. */
export interface NewViewPlan {
  /** The latest stable checkpoint among the view-changes (min-s) and its proof. */
  readonly stable: CheckpointProof;
  /** max-s: the highest sequence number in any prepared certificate (≥ min-s). */
  readonly maxSeq: number;
  /** For each n in (min-s, max-s]: the request to re-issue, or null for a null request. */
  readonly slots: readonly { readonly seq: number; readonly digest: string; readonly request: ClientRequest | null }[];
}

export function planNewView(quorums: Quorums, viewChanges: readonly ViewChange[]): NewViewPlan {
  let stable = viewChanges[0]!.stable;
  for (const message of viewChanges) if (message.stable.seq > stable.seq) stable = message.stable;
  // Per sequence number, the certificate of the highest view.
  const chosen = new Map<number, PrePrepare>();
  let maxSeq = stable.seq;
  for (const message of viewChanges) {
    for (const { prePrepare } of message.prepared) {
      if (prePrepare.seq <= stable.seq) continue;
      maxSeq = Math.max(maxSeq, prePrepare.seq);
      const known = chosen.get(prePrepare.seq);
      if (known === undefined || prePrepare.view > known.view) chosen.set(prePrepare.seq, prePrepare);
    }
  }
  const slots: { seq: number; digest: string; request: ClientRequest | null }[] = [];
  for (let seq = stable.seq + 1; seq <= maxSeq; seq += 1) {
    const prePrepare = quorums.ignorePreparedCertificates ? undefined : chosen.get(seq);
    slots.push(prePrepare === undefined ? { seq, digest: nullDigest, request: null } : { seq, digest: prePrepare.digest, request: prePrepare.request });
  }
  return { stable, maxSeq, slots };
}
