import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../../../src/net/runtime.js';
import { TcpTransport } from '../../../src/net/tcp-transport.js';
import { WriteAheadLog } from '../../../src/net/wal.js';
import {
  tpcConfig, type TpcMessage, type TpcRecord, type TpcReply, type TpcRequest, twoPhaseCommitFactory, validateTpcMessage,
} from '../../../src/protocols/two-phase-commit/index.js';

/**
 * The same two-phase-commit core the simulator runs, hosted by the real runtime: TCP between three
 * nodes on 127.0.0.1 (authenticated handshake, MessagePack frames) and a write-ahead log each. A
 * node is cut off like a power cut (unsynced writes dropped, sockets closed) and restarted from its
 * log.
 */
const ids = ['n1', 'n2', 'n3'];
const secret = 'two-phase-commit-test-secret-0123456789';
const config = tpcConfig({ voteTimeoutTicks: 30, resendTicks: 5 });

interface Node {
  runtime: Runtime<TpcMessage, TpcRecord, TpcRequest, TpcReply>;
  transport: TcpTransport<TpcMessage>;
  wal: WriteAheadLog<TpcRecord>;
}

let root = '';
const nodes = new Map<string, Node>();
const ports = new Map<string, number>();

afterEach(async () => {
  for (const id of [...nodes.keys()]) await powerCut(id);
  await rm(root, { recursive: true, force: true });
});

async function startNode(id: string): Promise<Node> {
  const transport = await TcpTransport.start<TpcMessage>({
    self: id, clusterSecret: secret, listen: { host: '127.0.0.1', port: ports.get(id) ?? 0 },
    validateMessage: (value) => validateTpcMessage(value, config), reconnectDelayMsMin: 5, reconnectDelayMsMax: 50,
  });
  ports.set(id, transport.address.port);
  const wal = await WriteAheadLog.open<TpcRecord>({ dir: join(root, id), segmentSizeBytes: 64 * 1024 });
  const runtime = new Runtime<TpcMessage, TpcRecord, TpcRequest, TpcReply>({
    id, peers: ids, factory: twoPhaseCommitFactory(config), transport, log: wal, tickIntervalMs: 10, requestTimeoutMs: 5_000, maxPendingRequests: 100,
  });
  const node = { runtime, transport, wal };
  nodes.set(id, node);
  return node;
}

function connectAll(): void {
  for (const [id, node] of nodes) for (const peer of ids) if (peer !== id && ports.has(peer)) node.transport.addPeer(peer, { host: '127.0.0.1', port: ports.get(peer)! });
}

async function powerCut(id: string): Promise<void> {
  const node = nodes.get(id)!;
  nodes.delete(id);
  await node.wal.abandon();
  await node.runtime.stop();
  await node.transport.close();
}

const request = (id: string, body: TpcRequest): Promise<TpcReply> => nodes.get(id)!.runtime.request(body);
const writesOn = (txId: string, participants: string[]): TpcRequest => ({
  type: 'transact', txId, writes: Object.fromEntries(participants.map((participant) => [participant, { [`key-${participant}`]: `${txId}@${participant}` }])),
});

describe('two-phase commit over TCP with write-ahead logs', () => {
  it('commits across three nodes, aborts while a participant is down, and the restarted node recovers its committed writes', async () => {
    root = await mkdtemp(join(tmpdir(), 'concord-2pc-'));
    for (const id of ids) await startNode(id);
    connectAll();
    for (const node of nodes.values()) node.runtime.start();

    expect(await request('n1', writesOn('t1', ids))).toEqual({ type: 'committed', txId: 't1' });
    // The decision reaches the other participants right after the client hears of it.
    await expect.poll(async () => request('n3', { type: 'read', key: 'key-n3' }), { timeout: 5_000 }).toEqual({ type: 'value', key: 'key-n3', value: 't1@n3' });

    await powerCut('n3');
    expect(await request('n2', writesOn('t2', ids))).toEqual({ type: 'aborted', txId: 't2', reason: 'timeout' });
    expect(await request('n2', writesOn('t3', ['n1', 'n2']))).toEqual({ type: 'committed', txId: 't3' });

    const restarted = await startNode('n3');
    connectAll();
    restarted.runtime.start();
    expect(await request('n3', { type: 'read', key: 'key-n3' })).toEqual({ type: 'value', key: 'key-n3', value: 't1@n3' });
    expect(await request('n3', writesOn('t4', ids))).toEqual({ type: 'committed', txId: 't4' });
    for (const id of ids) {
      await expect.poll(async () => request(id, { type: 'read', key: `key-${id}` }), { timeout: 5_000 }).toEqual({ type: 'value', key: `key-${id}`, value: `t4@${id}` });
    }
  }, 30_000);
});
