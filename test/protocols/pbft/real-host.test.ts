import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ClientRequest, pbftConfig, pbftFactory, type PbftMessage, type PbftRecord, type PbftReplica, type PbftReply, type PbftRequest, preparePayload,
  requestDigest, requestPayload, shapeLimits, signPayload, validatePbftMessage, validatePbftRecord,
} from '../../../src/protocols/pbft/index.js';
import { closed, dataFrame, rawPeerSocket, RealCluster } from '../real-host-cluster.js';

/**
 * The PBFT replica the simulator runs, hosted by the real runtime: n = 4 (f = 1) over TCP on
 * 127.0.0.1, a write-ahead log each, Ed25519 signatures on everything that can enter a
 * certificate. A backup and then the primary lose power and restart from their logs; a member
 * gone bad sends forged signatures and malformed frames.
 */
const ids = ['n1', 'n2', 'n3', 'n4'];
const keySeed = 'pbft-real-host';
const config = pbftConfig({ keySeed, checkpointInterval: 4, windowSeqs: 16, viewChangeTicks: 40, statusTicks: 10 });
const limits = shapeLimits(config, ids.length);
type Cluster = RealCluster<PbftMessage, PbftRecord, PbftRequest, PbftReply, PbftReplica>;

let cluster: Cluster | null = null;
const rawSockets: net.Socket[] = [];
let timestamp = 0;

afterEach(async () => {
  for (const socket of rawSockets.splice(0)) socket.destroy();
  await cluster?.close();
  cluster = null;
});

const start = (hosted: readonly string[] = ids): Promise<Cluster> => RealCluster.start({
  ids, hosted, name: 'pbft', factory: pbftFactory(config), validateMessage: (value) => validatePbftMessage(value, limits), validateRecord: (value) => validatePbftRecord(value, limits),
  requestTimeoutMs: 5_000,
});

function signedRequest(operation: string): ClientRequest {
  timestamp += 1;
  const fields = { client: 'c1', timestamp, operation };
  return { ...fields, signature: signPayload(keySeed, 'c1', requestPayload(fields)) };
}

/**
 * A client (§4.1): sends one signed request to each replica in `at` and returns what each one
 * replied (a result, or the error). A client accepts a result once f + 1 replicas agree on it.
 */
async function execute(on: Cluster, operation: string, at: readonly string[] = on.liveIds): Promise<string[]> {
  const request = signedRequest(operation);
  const replies = await Promise.all(at.map((id) => on.request(id, { type: 'submit', request })));
  return replies.map((reply) => (reply.type === 'result' ? reply.result : `error:${reply.code}`));
}

/** Waits until every replica of `at` executed exactly up to the same stable checkpoint, and returns it. */
async function restingCheckpoint(on: Cluster, at: readonly string[]): Promise<number> {
  const resting = (): number | null => {
    const seqs = at.map((id) => on.node(id).core).map((replica) => (replica.stableSeq === replica.lastExecuted ? replica.stableSeq : -1));
    return seqs.every((seq) => seq === seqs[0] && seq >= 0) ? seqs[0]! : null;
  };
  await expect.poll(resting, { timeout: 5_000 }).not.toBeNull();
  return resting()!;
}

const where = (on: Cluster, ids: readonly string[], read: (replica: PbftReplica) => unknown): unknown[] => ids.map((id) => read(on.node(id).core));

describe('pbft over TCP with write-ahead logs (n = 4, f = 1)', () => {
  it('executes signed requests in order; keeps serving while a backup is down; the backup restarts from its log and catches up by state transfer', async () => {
    cluster = await start();
    const c = cluster;
    const results: string[][] = [];
    for (const amount of [5, 2, 3, 1]) results.push(await execute(c, `add:k:${amount}`));
    expect(results).toEqual([['5', '5', '5', '5'], ['7', '7', '7', '7'], ['10', '10', '10', '10'], ['11', '11', '11', '11']]);
    // An idle primary fills up to the next checkpoint with null requests (when depends on timing), and a
    // checkpoint is stable once 2f + 1 replicas vote for it: wait until all four rest on the same one.
    const base = await restingCheckpoint(c, ids);
    expect(base).toBeGreaterThanOrEqual(4);

    await expect.poll(() => c.settled('n4'), { timeout: 5_000 }).toBe(true);
    const durableOf = (replica: PbftReplica): unknown => ({ view: replica.view, stableSeq: replica.stableSeq, lastExecuted: replica.lastExecuted });
    const durable = durableOf(c.node('n4').core);
    await c.powerCut('n4');
    // 2f + 1 = 3 replicas remain: enough for every quorum.
    const whileDown: string[][] = [];
    for (let round = 0; round < 4; round += 1) whileDown.push(await execute(c, 'add:k:1'));
    expect(whileDown).toEqual([['12', '12', '12'], ['13', '13', '13'], ['14', '14', '14'], ['15', '15', '15']]);
    const moved = await restingCheckpoint(c, ['n1', 'n2', 'n3']);
    expect(moved).toBeGreaterThanOrEqual(base + 4);

    // Its durable state comes back before it hears from anyone: the stable checkpoint and what it executed.
    const restarted = await c.open('n4');
    expect(durableOf(restarted.core)).toEqual(durable);
    c.run('n4');
    // It is behind the others' stable checkpoint: they send it, with its proof, and it installs it.
    await expect.poll(() => restarted.core.lastExecuted, { timeout: 5_000 }).toBeGreaterThanOrEqual(moved);
    expect(restarted.core.executed.some((entry) => entry.transferred && entry.seq === moved)).toBe(true);
    // Rejoined: it takes part in the next request and answers it like everyone else.
    expect(await execute(c, 'add:k:1')).toEqual(['16', '16', '16', '16']);
    expect(c.fatalLines()).toEqual([]);
  }, 30_000);

  it('the primary loses power: the others change view and keep serving; restarted, it learns the new view and rejoins', async () => {
    cluster = await start();
    const c = cluster;
    expect(await execute(c, 'add:v:1')).toEqual(['1', '1', '1', '1']);
    // View 0's primary is n1 (unless an event-loop stall of 400 ms made the backups change view already).
    const primary = ids.find((id) => c.node(id).core.isPrimary && !c.node(id).core.changing)!;
    const oldView = c.node(primary).core.view;
    await expect.poll(() => c.settled(primary), { timeout: 5_000 }).toBe(true);
    const durable = { view: oldView, lastExecuted: c.node(primary).core.lastExecuted };
    await c.powerCut(primary);

    // The backups time the primary out (40 ticks), agree on the next view and execute the request there.
    const backups = ids.filter((id) => id !== primary);
    expect(await execute(c, 'add:v:2')).toEqual(['3', '3', '3']);
    const newView = c.node(backups[0]!).core.view;
    expect(newView).toBeGreaterThan(oldView);
    expect(where(c, backups, (replica) => [replica.view, replica.changing])).toEqual(backups.map(() => [newView, false]));

    const restarted = await c.open(primary);
    expect({ view: restarted.core.view, lastExecuted: restarted.core.lastExecuted }).toEqual(durable);
    c.run(primary);
    // Its status shows it in an old view: a peer sends it the new-view message, which it verifies.
    await expect.poll(() => [restarted.core.view, restarted.core.changing], { timeout: 5_000 }).toEqual([newView, false]);
    expect(await execute(c, 'add:v:3')).toEqual(['6', '6', '6', '6']);
    await expect.poll(() => restarted.core.lastExecuted, { timeout: 5_000 }).toBe(c.node(backups[0]!).core.lastExecuted);
    expect(c.fatalLines()).toEqual([]);
  }, 30_000);

  it('a member gone bad (n2) sends forged signatures and malformed frames: the others drop them and keep serving', async () => {
    cluster = await start(['n1', 'n3', 'n4']);
    const c = cluster;
    const peer = async (to: string): Promise<net.Socket> => {
      const socket = await rawPeerSocket({ port: c.ports.get(to)!, from: 'n2', to, secret: c.secret });
      rawSockets.push(socket);
      return socket;
    };
    // Well-formed messages whose signatures do not verify (signed with a key that is not n2's, or not the client's).
    const victim = await peer('n3');
    const request = signedRequest('add:k:5');
    const forgedFields = { client: 'c1', timestamp: timestamp + 100, operation: 'add:k:100' };
    const prepareFields = { view: 0, seq: 1, digest: requestDigest(request), replica: 'n2' };
    const checkpointFields = { seq: 4, stateDigest: 'f'.repeat(64), replica: 'n2' };
    victim.write(Buffer.concat([
      dataFrame({ type: 'request', request: { ...forgedFields, signature: signPayload('another-key-seed', 'c1', requestPayload(forgedFields)) } }),
      dataFrame({ type: 'prepare', ...prepareFields, signature: signPayload('another-key-seed', 'n2', preparePayload(prepareFields)) }),
      dataFrame({ type: 'checkpoint', ...checkpointFields, signature: Buffer.from('not a signature').toString('base64') }),
    ]));
    // Frames that are not PBFT messages: undecodable MessagePack, then a message of the wrong shape. Each closes that connection only.
    const garbage = await peer('n4');
    garbage.write(Buffer.from([0, 0, 0, 3, 0xc1, 0xc1, 0xc1]));
    await closed(garbage);
    const misshapen = await peer('n4');
    misshapen.write(dataFrame({ type: 'prepare', view: 'zero', seq: 1 }));
    await closed(misshapen);
    expect(c.node('n4').transport.stats().corruptFrames).toBe(2);

    // The three honest replicas (2f + 1) order and execute requests as if n2 were merely silent.
    const replies = await Promise.all(['n1', 'n3', 'n4'].map((id) => c.request(id, { type: 'submit', request })));
    expect(replies.map((reply) => (reply.type === 'result' ? reply.result : reply.code))).toEqual(['5', '5', '5']);
    expect(await execute(c, 'add:k:2')).toEqual(['7', '7', '7']);
    expect(c.node('n3').core.dropped.signature).toBe(3);
    expect(where(c, ['n1', 'n3', 'n4'], (replica) => replica.executed.map((entry) => entry.request?.operation ?? null))).toEqual([
      ['add:k:5', 'add:k:2'], ['add:k:5', 'add:k:2'], ['add:k:5', 'add:k:2'],
    ]);
    // Forged but well-framed messages do not cost the bad member its link (it is dropped message by message), and
    // the honest links never closed.
    expect(victim.destroyed).toBe(false);
    expect(['n1', 'n3'].map((id) => c.node('n4').transport.isConnected(id))).toEqual([true, true]);
    expect(c.fatalLines()).toEqual([]);
  }, 30_000);
});
