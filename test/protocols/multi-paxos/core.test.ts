import { describe, expect, it } from 'vitest';
import { isConcordError } from '../../../src/core/errors.js';
import { Rng } from '../../../src/core/rng.js';
import {
  ballotStride, type MultiPaxosCore, multiPaxosFactory, paxosConfig, type PaxosMessage, type PaxosRecord, type PaxosReply, type PaxosRequest,
} from '../../../src/protocols/multi-paxos/index.js';
import { ScriptedNet } from '../scripted-net.js';

/** Three nodes, messages carried by hand. */
const ids = ['n1', 'n2', 'n3'];

class Net extends ScriptedNet<MultiPaxosCore, PaxosMessage, PaxosRecord, PaxosRequest, PaxosReply> {
  constructor() {
    const factory = multiPaxosFactory({ electionTicks: 10, heartbeatTicks: 3 });
    super(ids, (id, recovered) => factory({ id, peers: ids, rng: Rng.fromSeed(1), recovered }));
  }

  propose(id: string, command: string): void {
    this.request(id, { type: 'propose', id: command, command });
  }
}

const slotValue = (core: MultiPaxosCore, slot: number): string | undefined => {
  const value = core.chosenValue(slot);
  return value === undefined ? undefined : value.type === 'noop' ? 'noop' : value.id;
};

describe('multi-paxos core', () => {
  it('elects a leader through phase 1, then chooses commands with phase 2 and every node learns them', () => {
    const net = new Net();
    net.propose('n1', 'early');
    expect(net.replies).toEqual([{ type: 'not-leader', leader: null }]);
    net.step('n1', { type: 'timer', timer: 'election' });
    // The candidate's promise to itself is synced before its prepares leave.
    expect(net.outputs.at(-1)!.persist).toEqual([{ type: 'promised', ballot: ballotStride }]);
    expect(net.outputs.at(-1)!.sync).toBe(true);
    net.deliverAll();
    expect(net.core('n1').isLeader).toBe(true);
    net.propose('n1', 'a');
    net.propose('n1', 'b');
    net.deliverAll();
    expect(net.replies.slice(1)).toEqual([{ type: 'chosen', slot: 1 }, { type: 'chosen', slot: 2 }]);
    for (const id of ids) expect([slotValue(net.core(id), 1), slotValue(net.core(id), 2)]).toEqual(['a', 'b']);
    net.propose('n2', 'c');
    expect(net.replies.at(-1)).toEqual({ type: 'not-leader', leader: 'n1' });
  });

  it('a new leader re-proposes the value a minority accepted, and fills a gap with a no-op', () => {
    const net = new Net();
    net.step('n1', { type: 'timer', timer: 'election' });
    net.deliverAll();
    net.propose('n1', 'x'); // slot 1: accepted by n1 and n2 only, never chosen at n1
    net.propose('n1', 'y'); // slot 2: accepted by n1 alone
    net.deliverAll((envelope) => envelope.to === 'n3' || envelope.from !== 'n1' || (envelope.message.type === 'accept' && envelope.message.slot === 2));
    expect(net.core('n1').chosenThrough).toBe(0);
    // n1 dies; n3 campaigns and hears from n2 (which accepted x in slot 1).
    net.cores.delete('n1');
    net.step('n3', { type: 'timer', timer: 'election' });
    net.deliverAll((envelope) => envelope.to === 'n1');
    expect(net.core('n3').isLeader).toBe(true);
    expect(slotValue(net.core('n3'), 1)).toBe('x');
    expect(slotValue(net.core('n2'), 1)).toBe('x');
    // Slot 2 (y, accepted only by the dead n1) was not reported: it is not open, so nothing to fill.
    net.propose('n3', 'z');
    net.deliverAll((envelope) => envelope.to === 'n1');
    expect(slotValue(net.core('n3'), 2)).toBe('z');
  });

  it('an acceptor refuses a lower ballot; the old leader steps down and answers its pending client "unknown"', () => {
    const net = new Net();
    net.step('n1', { type: 'timer', timer: 'election' });
    net.deliverAll();
    net.step('n2', { type: 'timer', timer: 'election' });
    net.deliverAll((envelope) => envelope.to === 'n1');
    expect(net.core('n2').isLeader).toBe(true);
    net.propose('n1', 'stale');
    net.deliverAll((envelope) => envelope.message.type === 'chosen');
    expect(net.core('n1').isLeader).toBe(false);
    expect(net.replies.at(-1)).toEqual({ type: 'unknown' });
  });

  it('recovers promises and acceptances from its records, and learns what it missed by catching up', () => {
    const net = new Net();
    net.step('n1', { type: 'timer', timer: 'election' });
    net.deliverAll();
    for (const command of ['a', 'b', 'c']) net.propose('n1', command);
    net.deliverAll((envelope) => envelope.to === 'n3');
    net.boot('n3'); // restarted with nothing accepted
    net.step('n1', { type: 'timer', timer: 'heartbeat' });
    net.deliverAll();
    expect(net.core('n3').chosenThrough).toBe(3);
    net.boot('n2');
    expect(net.disks.get('n2')!.some((record) => record.type === 'accepted')).toBe(true);
    net.step('n2', { type: 'request', requestId: 99, request: { type: 'propose', id: '', command: 'x' } });
    expect(net.replies.at(-1)).toMatchObject({ type: 'error', code: 'INVALID_ARGUMENT' });
  });

  it('rejects bad configuration with INVALID_CONFIG', () => {
    for (const overrides of [{ electionTicks: 0 }, { heartbeatTicks: 30, electionTicks: 20 }]) {
      try {
        paxosConfig(overrides);
        expect.unreachable();
      } catch (error) {
        expect(isConcordError(error, 'INVALID_CONFIG')).toBe(true);
      }
    }
  });
});
