import { describe, expect, it } from 'vitest';
import { chordId, type ChordMessage } from '../../../src/protocols/chord/index.js';
import { IdealRing } from '../../../src/scenarios/chord-checks.js';
import { ScriptedRing } from './scripted-ring.js';

const allIds = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'];
const maintenance = ['stabilize', 'fix-fingers', 'check-predecessor', 'replicate'];

class Net extends ScriptedRing {
  constructor(ids: readonly string[] = allIds) {
    super(ids, 7, maintenance);
  }
}

function joinedRing(ids: readonly string[] = allIds): Net {
  const net = new Net(ids);
  for (const id of ids.slice(1)) net.join(id);
  net.rounds(12);
  return net;
}

describe('chord core (§4.5–4.7)', () => {
  it('nodes join through a member; stabilize and notify converge successors and predecessors, fixFingers the fingers', () => {
    const net = new Net();
    for (const id of allIds.slice(1)) {
      net.join(id);
      expect(net.core(id).joined).toBe(true);
    }
    // Joining only sets a successor: the ring is not yet right.
    expect(net.converged(false)).not.toBeNull();
    net.rounds(10);
    expect(net.converged(false)).toBeNull();
    net.rounds(20);
    expect(net.converged(true)).toBeNull();
  });

  it('a node that has not joined refuses lookups and client requests with a typed error', () => {
    const net = new Net(['n1', 'n2']);
    net.request('n2', { type: 'lookup', key: 'a' });
    expect(net.replies.at(-1)).toMatchObject({ type: 'error', code: 'NOT_MEMBER' });
  });

  it('lookups from every node name the ideal owner in few hops once converged', () => {
    const net = joinedRing();
    net.rounds(20);
    const ring = new IdealRing(allIds, 3);
    for (const id of allIds) {
      for (const key of ['a', 'b', 'c', 'd', 'e']) {
        net.request(id, { type: 'lookup', key });
        net.deliver();
        const reply = net.replies.at(-1)!;
        expect(reply).toMatchObject({ type: 'owner', owner: ring.owner(chordId(key)) });
        expect((reply as { hops: number }).hops).toBeLessThanOrEqual(3);
      }
    }
  });

  it('a failed successor is replaced by the next live entry of the successor list (§4.7)', () => {
    const net = joinedRing();
    const ring = new IdealRing(allIds, 3);
    const victim = ring.order[2]!;
    const before = ring.order[1]!;
    net.down.add(victim);
    // missesMax = 3 unanswered stabilize rounds, then the next entry takes over.
    net.rounds(3);
    expect(net.core(before).successors[0]).toBe(victim);
    net.rounds(1);
    expect(net.core(before).successors[0]).toBe(ring.order[3]);
    net.rounds(10);
    expect(net.converged(false)).toBeNull();
  });

  it('a lookup through a failed node ends with the live owner or a typed error, never hangs', () => {
    const net = joinedRing();
    net.rounds(20);
    const ring = new IdealRing(allIds, 3);
    const victim = ring.order[3]!;
    net.down.add(victim);
    const origin = ring.order[0]!;
    net.request(origin, { type: 'lookup', key: 'x' });
    net.deliver();
    // Fire every pending hop timer until the lookup answers (bounded by hopsMax).
    for (let attempt = 0; attempt < 40 && net.replies.length === 0; attempt += 1) {
      for (let seq = 1; seq < 400; seq += 1) net.timer(origin, `lookup:${seq}`);
      net.deliver();
    }
    expect(net.replies).toHaveLength(1);
    const reply = net.replies[0]!;
    if (reply.type === 'owner') expect(reply.owner).not.toBe(victim);
    else expect(reply).toMatchObject({ type: 'error' });
  });

  it('put stores at the owner and its r − 1 successors, synced before the acknowledgement; get reads it', () => {
    const net = joinedRing();
    net.request('n2', { type: 'put', key: 'apple', value: 'red', version: 1 });
    net.deliver();
    expect(net.replies.at(-1)).toMatchObject({ type: 'ok' });
    const holders = new IdealRing(allIds, 3).holders(chordId('apple'));
    for (const id of allIds) expect(net.core(id).item('apple')?.value, id).toBe(holders.includes(id) ? 'red' : undefined);
    const ownerOutput = net.outputs.find((output) => output.persist.some((record) => record.type === 'item'))!;
    expect(ownerOutput.sync).toBe(true);
    net.request('n5', { type: 'get', key: 'apple' });
    net.deliver();
    expect(net.replies.at(-1)).toEqual({ type: 'value', value: 'red', version: 1 });
  });

  it('keys move to a joining node from its successor (§4.5)', () => {
    const ids = allIds.slice(0, 5);
    // n6 stays out while the keys are written, then joins.
    const partial = new Net(allIds);
    for (const id of ids.slice(1)) partial.join(id);
    partial.rounds(12);
    const keys = Array.from({ length: 30 }, (_, index) => `key${index}`);
    for (const key of keys) {
      partial.request('n1', { type: 'put', key, value: `${key}-v`, version: 1 });
      partial.deliver();
    }
    const owned = keys.filter((key) => new IdealRing(allIds, 3).owner(chordId(key)) === 'n6');
    expect(owned.length).toBeGreaterThan(0);
    for (const key of owned) expect(partial.core('n6').item(key)).toBeUndefined();
    partial.join('n6');
    partial.rounds(12);
    for (const key of owned) expect(partial.core('n6').item(key)?.value, key).toBe(`${key}-v`);
    expect(partial.converged(false)).toBeNull();
  });

  it('a restarted node recovers its items and successor list from its records and rejoins', () => {
    const net = joinedRing();
    for (let index = 0; index < 20; index += 1) {
      net.request('n1', { type: 'put', key: `r${index}`, value: 'x', version: index + 1 });
      net.deliver();
    }
    const before = net.core('n4');
    const items = Array.from({ length: 20 }, (_, index) => before.item(`r${index}`));
    const successors = [...before.successors];
    net.boot('n4');
    const after = net.core('n4');
    expect(after.joined).toBe(true);
    expect(after.successors).toEqual(successors);
    expect(Array.from({ length: 20 }, (_, index) => after.item(`r${index}`))).toEqual(items);
    net.rounds(6);
    expect(net.converged(false)).toBeNull();
  });

  it('drops malformed peer messages and unknown senders without changing state', () => {
    const net = joinedRing();
    const core = net.core('n1');
    const successors = [...core.successors];
    const junk: unknown[] = [null, 5, { type: 'find', lookup: -1, key: 1, avoid: [] }, { type: 'neighbours', nonce: 1, predecessor: 7, successors: [] }, { type: 'items', items: [{ key: '', value: 'x', version: 1 }] }, { type: 'put', op: 1, item: { key: 'k', value: 'v', version: 1.5 } }];
    for (const message of junk) net.step('n1', { type: 'message', from: 'n2', message: message as ChordMessage });
    net.step('n1', { type: 'message', from: 'stranger', message: { type: 'notify' } });
    expect(core.malformed).toBe(junk.length + 1);
    expect(core.successors).toEqual(successors);
  });
});
