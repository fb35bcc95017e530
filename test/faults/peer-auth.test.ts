import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeId } from '../../src/core/ids.js';
import { parseAddress } from '../../src/kv/config.js';
import { TcpTransport } from '../../src/net/tcp-transport.js';
import { sleep, type FaultCluster } from '../jepsen/harness/cluster.js';
import { startProcessCluster, testSecret } from './process-cluster.js';

/**
 * The transport's handshake tests (test/net) prove refusal in process; this proves it against a
 * running cluster: an impostor without the cluster secret, and one with the secret but an id that
 * is not a member, connect to a node's peer port and send a heartbeat from a far-future term. The
 * handshake fails for both (the node logs the unknown id) and nothing they sent is applied: the term and leader
 * do not move. A control run with the right secret and a member's id shows the same heartbeat
 * *would* have been applied — so the check can fail.
 */
const farTerm = 1_000_000;

async function impostor(self: NodeId, secret: string, target: NodeId, targetAddress: string): Promise<TcpTransport<unknown>> {
  const transport = await TcpTransport.start<unknown>({
    self,
    clusterSecret: secret,
    listen: { host: '127.0.0.1', port: 0 },
    peers: { [target]: parseAddress(targetAddress, 'target') },
    reconnectDelayMsMin: 20,
    reconnectDelayMsMax: 100,
  });
  for (let round = 0; round < 20; round++) {
    transport.send(target, { type: 'heartbeat', term: farTerm, commit: 0, context: round + 1 });
    await sleep(50);
  }
  return transport;
}

describe('peers without the cluster secret or with an unknown id (running cluster)', () => {
  let cluster: FaultCluster;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ cluster, cleanup } = await startProcessCluster(3));
  }, 60_000);

  afterAll(async () => {
    await cleanup?.();
  });

  it('refuses them, logs why, and applies nothing they send', async () => {
    const target = 'n3';
    const before = await cluster.status(target);
    expect(before).not.toBeNull();
    const wrongSecret = await impostor('n1', 'a-completely-different-secret-!!', target, cluster.slot(target).peerAddress);
    const unknownId = await impostor('n0', testSecret, target, cluster.slot(target).peerAddress);
    // The handshake is mutual: the impostor without the secret already fails to verify the node's proof.
    expect(wrongSecret.stats().authFailures).toBeGreaterThan(0);
    await Promise.all([wrongSecret.close(), unknownId.close()]);
    const after = await cluster.status(target);
    expect(after!.term).toBeLessThan(farTerm);
    expect(after!.term).toBe(before!.term);
    expect(after!.leader).toBe(before!.leader);
    const log = cluster.logTail(target, 100_000);
    expect(log).toMatch(/"claimedId":"n0"[^\n]*"reason":"unknown node id"[^\n]*"msg":"peer refused"/);
    // Still serving normally.
    expect((await cluster.call(target, 'PUT', '/v1/kv/after-impostors', { value: 'ok' })).kind).toBe('response');
    expect(cluster.unexpectedExits).toEqual([]);
  }, 60_000);

  it('control: the same heartbeat with the secret and a member id is applied (the check above can fail)', async () => {
    const target = 'n3';
    const real = await impostor('n1', testSecret, target, cluster.slot(target).peerAddress);
    await real.close();
    const after = await cluster.status(target);
    expect(after!.term).toBeGreaterThanOrEqual(farTerm);
  }, 60_000);
});
