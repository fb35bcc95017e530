import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { isConcordError } from '../../../src/core/errors.js';
import {
  type MultiPaxosCore, multiPaxosFactory, paxosConfig, type PaxosMessage, type PaxosRecord, type PaxosReply, type PaxosRequest, validatePaxosMessage,
  validatePaxosRecord,
} from '../../../src/protocols/multi-paxos/index.js';
import { RealCluster } from '../real-host-cluster.js';

/**
 * The Multi-Paxos core the simulator runs, hosted by the real runtime: three nodes over TCP on
 * 127.0.0.1, a write-ahead log each. The leader loses power, the other two elect a new one and keep
 * choosing, and the old leader restarts from its log and catches up.
 */
const ids = ['n1', 'n2', 'n3'];
const config = paxosConfig({ electionTicks: 20, heartbeatTicks: 5, resendTicks: 5 });
type Cluster = RealCluster<PaxosMessage, PaxosRecord, PaxosRequest, PaxosReply, MultiPaxosCore>;

let cluster: Cluster | null = null;

afterEach(async () => {
  await cluster?.close();
  cluster = null;
});

const start = (): Promise<Cluster> => RealCluster.start({
  ids, name: 'multi-paxos', factory: multiPaxosFactory(config), validateMessage: (value) => validatePaxosMessage(value, config), validateRecord: validatePaxosRecord,
});

/**
 * A client: proposes at a node, follows `not-leader` hints, and tries another node while there is
 * no leader. Retrying after `unknown` or a timeout may choose the command twice (the protocol
 * allows it: such a proposal may or may not have been chosen); the slot returned is the one the
 * client heard of.
 */
async function propose(on: Cluster, command: string): Promise<number> {
  const deadline = Date.now() + 10_000;
  let target = on.liveIds[0]!;
  for (let attempt = 0; ; attempt += 1) {
    const reply = await on.request(target, { type: 'propose', id: command, command }).catch((error: unknown) => {
      if (isConcordError(error)) return { type: 'error', code: error.code, message: error.message } as const;
      throw error;
    });
    if (reply.type === 'chosen') return reply.slot;
    if (reply.type === 'error' && reply.code === 'INVALID_ARGUMENT') throw new Error(`refused: ${reply.message}`);
    if (Date.now() > deadline) throw new Error(`${command} not chosen within 10 s; last reply ${JSON.stringify(reply)}`);
    const hint = reply.type === 'not-leader' ? reply.leader : null;
    if (hint !== null && hint !== target && on.nodes.has(hint)) {
      target = hint;
    } else {
      target = on.liveIds[attempt % on.liveIds.length]!;
      await delay(20); // no leader yet (an election takes 200–400 ms): try again shortly
    }
  }
}

/** The command chosen in `slot` at `id`, 'noop', or undefined while it does not know. */
function commandAt(on: Cluster, id: string, slot: number): string | undefined {
  const value = on.node(id).core.chosenValue(slot);
  return value === undefined ? undefined : value.type === 'noop' ? 'noop' : value.command;
}

const logOf = (on: Cluster, id: string, slots: readonly number[]): (string | undefined)[] => slots.map((slot) => commandAt(on, id, slot));
const leaderOf = (on: Cluster): string | undefined => on.liveIds.find((id) => on.node(id).core.isLeader);

describe('multi-paxos over TCP with write-ahead logs', () => {
  it('chooses commands, keeps choosing after the leader loses power, and the restarted leader recovers its log and catches up', async () => {
    cluster = await start();
    const c = cluster;
    const first = { a: await propose(c, 'a'), b: await propose(c, 'b'), c: await propose(c, 'c') };
    const firstSlots = Object.values(first);
    expect(new Set(firstSlots).size).toBe(3);
    // Agreement: every node learns the same command in each slot (chosen messages follow the reply).
    for (const id of ids) await expect.poll(() => logOf(c, id, firstSlots), { timeout: 5_000 }).toEqual(['a', 'b', 'c']);

    const oldLeader = leaderOf(c)!;
    expect(oldLeader).toBeDefined();
    // Lazy 'chosen' records reach the disk on their own (the runtime syncs them within 10 ticks).
    await expect.poll(() => c.settled(oldLeader), { timeout: 5_000 }).toBe(true);
    const recordsBefore = c.node(oldLeader).wal.stats().appendedRecords;
    await c.powerCut(oldLeader);

    // The two left are a majority: one of them takes over and choosing goes on.
    const second = { d: await propose(c, 'd'), e: await propose(c, 'e') };
    const newLeader = leaderOf(c);
    expect(newLeader).toBeDefined();
    expect(newLeader).not.toBe(oldLeader);
    for (const id of c.liveIds) await expect.poll(() => logOf(c, id, Object.values(second)), { timeout: 5_000 }).toEqual(['d', 'e']);

    // The old leader restarts from its log: its promise, its acceptances and what it learned come back before it hears from anyone.
    const restarted = await c.open(oldLeader);
    const recovered = restarted.wal.recovered();
    expect(recovered).toHaveLength(recordsBefore);
    expect(recovered.filter((record) => record.type === 'accepted').map((record) => (record.entry.value.type === 'command' ? record.entry.value.command : 'noop'))).toEqual(expect.arrayContaining(['a', 'b', 'c']));
    expect(logOf(c, oldLeader, firstSlots)).toEqual(['a', 'b', 'c']);
    expect(restarted.core.chosenThrough).toBeGreaterThanOrEqual(Math.max(...firstSlots));
    expect(restarted.core.isLeader).toBe(false);
    c.run(oldLeader);

    // It rejoins: it catches up on what was chosen while it was down, and learns new commands.
    await expect.poll(() => logOf(c, oldLeader, Object.values(second)), { timeout: 5_000 }).toEqual(['d', 'e']);
    const fSlot = await propose(c, 'f');
    for (const id of ids) await expect.poll(() => commandAt(c, id, fSlot), { timeout: 5_000 }).toBe('f');
    // Every node holds the same log, gap-free, up to the last slot.
    const allSlots = Array.from({ length: fSlot }, (_, index) => index + 1);
    for (const id of ids) await expect.poll(() => c.node(id).core.chosenThrough, { timeout: 5_000 }).toBeGreaterThanOrEqual(fSlot);
    const logs = ids.map((id) => logOf(c, id, allSlots));
    expect(logs[1]).toEqual(logs[0]);
    expect(logs[2]).toEqual(logs[0]);
    expect(c.fatalLines()).toEqual([]);
  }, 30_000);
});
