import { afterEach, describe, expect, it } from 'vitest';
import {
  qkvConfig, type QkvMessage, type QkvRecord, type QkvReply, type QkvRequest, type QuorumKvCore, quorumKvFactory, validateQkvMessage, validateQkvRecord,
} from '../../../src/protocols/quorum-kv/index.js';
import { RealCluster } from '../real-host-cluster.js';

/**
 * The quorum-replicated KV core the simulator runs, hosted by the real runtime: four nodes over
 * TCP on 127.0.0.1, a write-ahead log each, three replicas per key on the consistent-hashing ring.
 * One node loses power; every key keeps a majority of its replicas, so reads and writes go on;
 * restarted from its log, the node has its values back and takes part again.
 */
const ids = ['n1', 'n2', 'n3', 'n4'];
const config = qkvConfig({ replicas: 3, resendTicks: 5 });
type Cluster = RealCluster<QkvMessage, QkvRecord, QkvRequest, QkvReply, QuorumKvCore>;

let cluster: Cluster | null = null;

afterEach(async () => {
  await cluster?.close();
  cluster = null;
});

const start = (): Promise<Cluster> => RealCluster.start({
  ids, name: 'quorum-kv', factory: quorumKvFactory(config), validateMessage: (value) => validateQkvMessage(value, config), validateRecord: (value) => validateQkvRecord(value, config),
});

const put = (on: Cluster, id: string, key: string, value: string): Promise<QkvReply> => on.request(id, { type: 'put', key, value });
const get = async (on: Cluster, id: string, key: string): Promise<string | null> => {
  const reply = await on.request(id, { type: 'get', key });
  if (reply.type !== 'value') throw new Error(`get ${key} at ${id}: ${JSON.stringify(reply)}`);
  return reply.value;
};
const getAll = (on: Cluster, id: string, keys: readonly string[]): Promise<(string | null)[]> => Promise.all(keys.map((key) => get(on, id, key)));

describe('quorum-kv over TCP with write-ahead logs', () => {
  it('reads what was written from any node, keeps serving with a node down, and the restarted node has its values back and takes part again', async () => {
    cluster = await start();
    const c = cluster;
    const keys = Array.from({ length: 16 }, (_, index) => `key-${index}`);
    expect(await Promise.all(keys.map((key, index) => put(c, ids[index % ids.length]!, key, `${key}=1`)))).toEqual(keys.map(() => ({ type: 'ok' })));
    // Linearizable per key: once a put is acknowledged, a get from any coordinator returns it.
    for (const id of ids) expect(await getAll(c, id, keys)).toEqual(keys.map((key) => `${key}=1`));
    expect(await get(c, 'n1', 'never-written')).toBeNull();

    const victim = 'n2';
    const victimKeys = keys.filter((key) => c.node('n1').core.replicasOf(key).includes(victim));
    expect(victimKeys.length).toBeGreaterThan(0);
    await expect.poll(() => c.settled(victim), { timeout: 5_000 }).toBe(true);
    const durable = victimKeys.map((key) => c.node(victim).core.replicaValue(key));
    expect(durable.map((copy) => copy.value)).toEqual(victimKeys.map((key) => `${key}=1`));
    await c.powerCut(victim);

    // Each key keeps two of its three replicas: a majority, so every read and write still completes.
    const live = ids.filter((id) => id !== victim);
    for (const id of live) expect(await getAll(c, id, keys)).toEqual(keys.map((key) => `${key}=1`));
    expect(await Promise.all(victimKeys.map((key, index) => put(c, live[index % live.length]!, key, `${key}=2`)))).toEqual(victimKeys.map(() => ({ type: 'ok' })));

    // Restarted from its log, before it hears from anyone: the copies it acknowledged, timestamps and all.
    const restarted = await c.open(victim);
    expect(victimKeys.map((key) => restarted.core.replicaValue(key))).toEqual(durable);
    c.run(victim);

    // It coordinates again (its quorum includes a replica that saw the second writes), and stores new writes as a replica.
    const expected = keys.map((key) => (victimKeys.includes(key) ? `${key}=2` : `${key}=1`));
    expect(await getAll(c, victim, keys)).toEqual(expected);
    expect(await Promise.all(victimKeys.map((key) => put(c, 'n1', key, `${key}=3`)))).toEqual(victimKeys.map(() => ({ type: 'ok' })));
    await expect.poll(() => victimKeys.map((key) => restarted.core.replicaValue(key).value), { timeout: 5_000 }).toEqual(victimKeys.map((key) => `${key}=3`));
    for (const id of ids) expect(await getAll(c, id, victimKeys)).toEqual(victimKeys.map((key) => `${key}=3`));
    expect(c.fatalLines()).toEqual([]);
  }, 30_000);
});
