import type { NodeId } from '../core/ids.js';
import type { Rng } from '../core/rng.js';
import {
  checkpointPayload, type ClientRequest, nullDigest, type PbftMessage, type PbftReply, prePreparePayload, preparePayload, type PrePrepare, requestDigest, sha256, signPayload, viewChangePayload,
} from '../protocols/pbft/index.js';
import type { MessageMutator } from '../sim/adversary.js';

/**
 * Meaningful PBFT lies for the simulator's Byzantine adversaries: wrong digests, sequence
 * numbers and views, a different (real) request in a pre-prepare, view-changes that hide or
 * forge certificates, tampered state. A Byzantine node holds its own key, so a lie it tells in
 * its own name is re-signed — with its own key only (`byzantine` lists whose keys it holds);
 * embedded messages of other replicas cannot be re-signed, so forging those must be caught.
 */
export function pbftMutator(keySeed: string, byzantine: ReadonlySet<NodeId>): MessageMutator<PbftMessage> {
  const seen: ClientRequest[] = [];
  const remember = (request: ClientRequest | null): void => {
    if (request === null || seen.some((known) => known.signature === request.signature)) return;
    seen.push(request);
    if (seen.length > 32) seen.shift();
  };
  const resign = (replica: NodeId, payload: string, signature: string): string => (byzantine.has(replica) ? signPayload(keySeed, replica, payload) : signature);
  const fakeDigest = (rng: Rng): string => sha256(`lie-${rng.int(0, 1_000_000)}`);

  const prePrepare = (message: PrePrepare, rng: Rng): PrePrepare => {
    remember(message.request);
    const lie = rng.int(0, 4);
    const other = seen.length > 0 ? rng.pick(seen) : null;
    const changed: PrePrepare =
      lie === 0 ? { ...message, digest: fakeDigest(rng) }
      : lie === 1 && other !== null ? { ...message, request: other, digest: requestDigest(other) }
      : lie === 2 ? { ...message, seq: message.seq + rng.int(1, 3) }
      : lie === 3 ? { ...message, view: message.view + 1 }
      : { ...message, request: null, digest: nullDigest };
    return { ...changed, signature: resign(changed.replica, prePreparePayload(changed), message.signature) };
  };

  return (message, rng) => {
    switch (message.type) {
      case 'request':
        remember(message.request);
        return { ...message, request: { ...message.request, operation: 'add:k0:999' } };
      case 'pre-prepare':
        return prePrepare(message, rng);
      case 'prepare': {
        const lie = rng.int(0, 2);
        const changed = lie === 0 ? { ...message, digest: fakeDigest(rng) } : lie === 1 ? { ...message, seq: message.seq + 1 } : { ...message, view: message.view + 1 };
        return { ...changed, signature: resign(changed.replica, preparePayload(changed), message.signature) };
      }
      case 'commit':
        return rng.chance(0.5) ? { ...message, digest: fakeDigest(rng) } : { ...message, seq: message.seq + 1 };
      case 'checkpoint': {
        const changed = { ...message, stateDigest: fakeDigest(rng) };
        return { ...changed, signature: resign(changed.replica, checkpointPayload(changed), message.signature) };
      }
      case 'view-change': {
        const lie = rng.int(0, 2);
        // Hide every prepared certificate, forge one's request (its signatures no longer match), or claim a later view.
        const prepared =
          lie === 0 ? []
          : lie === 1 && message.prepared.length > 0 && seen.length > 0
            ? message.prepared.map((certificate, index) => (index === 0 ? { ...certificate, prePrepare: { ...certificate.prePrepare, request: seen[0]!, digest: requestDigest(seen[0]!) } } : certificate))
            : message.prepared;
        const changed = { ...message, prepared, view: lie === 2 ? message.view + rng.int(1, 3) : message.view };
        return { ...changed, signature: resign(changed.replica, viewChangePayload(changed), message.signature) };
      }
      case 'new-view':
        return { ...message, prePrepares: message.prePrepares.map((item) => prePrepare(item, rng)) };
      case 'status':
        return { ...message, executed: message.executed + rng.int(1, 20), view: message.view + rng.int(0, 1) };
      case 'state':
        return { ...message, snapshot: { ...message.snapshot, counters: message.snapshot.counters.map(([key, value]) => [key, value + 1] as const) } };
    }
  };
}

/** A Byzantine replica's answer to a client: sometimes a wrong result (clients must not trust one reply). */
export function lieToClient(reply: PbftReply, rng: Rng): PbftReply {
  if (reply.type !== 'result' || rng.chance(0.5)) return reply;
  const value = Number(reply.result);
  return { ...reply, result: Number.isFinite(value) ? String(value + 1 + rng.int(0, 5)) : 'forged' };
}
