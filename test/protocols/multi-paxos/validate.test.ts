import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import {
  type MultiPaxosCore, multiPaxosFactory, paxosConfig, type PaxosMessage, type PaxosRecord, type PaxosReply, type PaxosRequest, validatePaxosMessage,
  validatePaxosRecord,
} from '../../../src/protocols/multi-paxos/index.js';
import { ScriptedNet } from '../scripted-net.js';
import { expectWireSafe, typesOf } from '../wire-roundtrip.js';

const ids = ['n1', 'n2', 'n3'];
const config = paxosConfig({ electionTicks: 10, heartbeatTicks: 3, catchupBatch: 2 });

class Net extends ScriptedNet<MultiPaxosCore, PaxosMessage, PaxosRecord, PaxosRequest, PaxosReply> {
  constructor() {
    const factory = multiPaxosFactory(config);
    super(ids, (id, recovered) => factory({ id, peers: ids, rng: Rng.fromSeed(1), recovered }));
  }

  propose(id: string, command: string): void {
    this.request(id, { type: 'propose', id: command, command });
  }
}

/** A run that makes the cores emit every message and record type: election, proposals, a nack, a catch-up, a restart. */
function everythingRun(): { messages: PaxosMessage[]; records: PaxosRecord[] } {
  const net = new Net();
  const carry = (drop: (to: string, message: PaxosMessage) => boolean = () => false): void => net.deliverAll((envelope) => drop(envelope.to, envelope.message));
  net.timer('n1', 'election');
  carry();
  for (const command of ['a', 'b', 'c']) net.propose('n1', command);
  carry((to, message) => to === 'n3' && message.type === 'chosen');
  net.timer('n1', 'heartbeat'); // n3 lags: catchup, entries (two batches of catchupBatch = 2)
  carry();
  net.timer('n1', 'heartbeat');
  carry();
  net.timer('n2', 'election'); // n2 takes over; n1's late proposal meets a higher promise: nack
  carry((to) => to === 'n1');
  net.propose('n1', 'stale');
  carry();
  net.boot('n3');
  net.timer('n3', 'election');
  carry();
  return { messages: net.outputs.flatMap((output) => output.messages.map((envelope) => envelope.message)), records: [...net.disks.values()].flat() };
}

describe('multi-paxos over the wire and the WAL', () => {
  it('every message and record a run emits is plain data that survives MessagePack and passes its validator', () => {
    const { messages, records } = everythingRun();
    expect(typesOf(messages)).toEqual(['accept', 'accepted', 'catchup', 'chosen', 'entries', 'heartbeat', 'nack', 'prepare', 'promise']);
    expect(typesOf(records)).toEqual(['accepted', 'chosen', 'promised']);
    expectWireSafe(messages, (value) => validatePaxosMessage(value, config));
    expectWireSafe(records, validatePaxosRecord);
  });

  it('refuses malformed messages and records with a reason', () => {
    const command = { type: 'command', id: 'x', command: 'set' };
    const bad: unknown[] = [
      null, [], 'prepare', { type: 'elect' },
      { type: 'prepare', ballot: -1, fromSlot: 1 }, { type: 'prepare', ballot: 1024, fromSlot: 0 }, { type: 'prepare', ballot: '1024', fromSlot: 1 },
      { type: 'promise', ballot: 1024, accepted: [{ slot: 1.5, ballot: 1024, value: command }] }, { type: 'promise', ballot: 1024, accepted: {} },
      { type: 'accept', ballot: 1024, slot: 1, value: { type: 'command', id: '', command: 'set' } }, { type: 'accept', ballot: 1024, slot: 1, value: { type: 'other' } },
      { type: 'accepted', ballot: 1024 }, { type: 'nack', promised: Number.MAX_SAFE_INTEGER + 2 }, { type: 'chosen', slot: 1, value: null },
      { type: 'heartbeat', ballot: 1024, chosenThrough: -1 }, { type: 'catchup', fromSlot: 0 },
      { type: 'entries', entries: [{ slot: 1, value: command }, { slot: 2, value: command }, { slot: 3, value: command }] },
    ];
    for (const message of bad) expect(validatePaxosMessage(message, config), JSON.stringify(message)).toEqual(expect.any(String));
    for (const record of [{ type: 'promised', ballot: 1.5 }, { type: 'accepted', entry: { slot: 1, ballot: 0 } }, { type: 'chosen', slot: 0, value: command }, { type: 'vote' }]) {
      expect(validatePaxosRecord(record), JSON.stringify(record)).toEqual(expect.any(String));
    }
  });

  it('never throws on junk (fast-check)', () => {
    fc.assert(fc.property(fc.anything(), (value) => {
      const problem = validatePaxosMessage(value, config);
      return problem === null || typeof problem === 'string';
    }));
    const junk = fc.record({ type: fc.constantFrom('prepare', 'promise', 'accept', 'accepted', 'nack', 'chosen', 'heartbeat', 'catchup', 'entries'), ballot: fc.anything(), slot: fc.anything(), value: fc.anything() });
    fc.assert(fc.property(junk, (value) => {
      const problem = validatePaxosMessage(value, config);
      return problem === null || typeof problem === 'string';
    }));
  });
});
