import fc from 'fast-check';
import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { raftMessageProblem } from '../../../src/protocols/raft/validate.js';
import { RaftNetwork } from './harness/network.js';

describe('raftMessageProblem', () => {
  it('accepts every message a real cluster sends, after a MessagePack round trip', () => {
    const network = new RaftNetwork(['n1', 'n2', 'n3'], { snapshotThresholdEntries: 3, snapshotCatchUpEntries: 0, snapshotChunkBytes: 32 });
    const seen = new Set<string>();
    const check = (): void => {
      for (const envelope of network.queue) {
        const decoded: unknown = unpack(pack(envelope.message));
        expect(raftMessageProblem(decoded), JSON.stringify(envelope.message)).toBeNull();
        seen.add(envelope.message.type);
      }
    };
    network.request('n1', { type: 'campaign' });
    for (let round = 0; round < 40; round += 1) {
      if (round === 5) network.crash('n3');
      if (round === 15) network.restart('n3');
      if (round % 3 === 0) network.propose(round % 2 === 0 ? 'n1' : 'n2', { op: 'put', key: `k${round}`, value: 'v' });
      if (round % 7 === 0) network.read('n2', { op: 'get', key: 'k0' });
      if (round === 30) network.request('n1', { type: 'transferLeader', target: 'n2' });
      for (const id of network.upIds()) network.tick(id);
      check();
      network.syncAll();
      network.deliver();
      check();
    }
    expect(seen.size).toBeGreaterThanOrEqual(12);
  });

  it('rejects malformed values without throwing', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        expect(() => raftMessageProblem(value)).not.toThrow();
      }),
    );
    expect(raftMessageProblem({ type: 'append', term: 1, prevIndex: -1, prevTerm: 0, commit: 0, entries: [] })).toMatch(/prevIndex/);
    expect(raftMessageProblem({ type: 'heartbeat', term: 1.5, commit: 0, context: 0 })).toMatch(/term/);
    expect(raftMessageProblem({ type: 'nope', term: 1 })).toMatch(/unknown message type/);
    expect(raftMessageProblem({ type: 'append', term: 1, prevIndex: 0, prevTerm: 0, commit: 0, entries: [{ index: 1, term: 1, sizeBytes: 0, payload: { type: 'bootstrap', voters: ['bad id!'] } }] })).toMatch(/voters/);
  });
});
