import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import {
  qkvConfig, type QkvMessage, type QkvRecord, type QkvReply, type QkvRequest, type QuorumKvCore, quorumKvFactory, validateQkvMessage, validateQkvRecord,
} from '../../../src/protocols/quorum-kv/index.js';
import { ScriptedNet } from '../scripted-net.js';
import { expectWireSafe, typesOf } from '../wire-roundtrip.js';

const ids = ['n1', 'n2', 'n3', 'n4'];
const config = qkvConfig();

class Net extends ScriptedNet<QuorumKvCore, QkvMessage, QkvRecord, QkvRequest, QkvReply> {
  constructor() {
    const factory = quorumKvFactory(config);
    super(ids, (id, recovered) => factory({ id, peers: ids, rng: Rng.fromSeed(ids.indexOf(id) + 1), recovered }));
  }
}

describe('quorum-kv over the wire and the WAL', () => {
  it('every message and record a run emits is plain data that survives MessagePack and passes its validator', () => {
    const net = new Net();
    for (const [index, id] of ids.entries()) {
      net.request(id, { type: 'put', key: `k${index}`, value: `v${index}` });
      net.request(ids[(index + 1) % ids.length]!, { type: 'get', key: `k${index}` });
      net.deliverAll();
    }
    net.request('n1', { type: 'get', key: 'never-written' });
    net.deliverAll();
    net.boot('n2');
    const messages = net.outputs.flatMap((output) => output.messages.map((envelope) => envelope.message));
    const records = [...net.disks.values()].flat();
    expect(typesOf(messages)).toEqual(['current', 'query', 'store', 'stored']);
    expect(typesOf(records)).toEqual(['value']);
    expect(messages.some((message) => message.type === 'current' && message.value === null)).toBe(true);
    expectWireSafe(messages, (value) => validateQkvMessage(value, config));
    expectWireSafe(records, (value) => validateQkvRecord(value, config));
  });

  it('refuses malformed messages and records with a reason', () => {
    const bad: unknown[] = [
      null, { type: 'query', op: '', key: 'k' }, { type: 'query', op: 'a.1', key: '' }, { type: 'current', op: 'a.1', ts: [1], value: 'v' },
      { type: 'current', op: 'a.1', ts: [-1, 'w'], value: 'v' }, { type: 'store', op: 'a.1', key: 'k', ts: [1, 'w'], value: 5 },
      { type: 'store', op: 'a.1', key: 'k', ts: { 0: 1, 1: 'w' }, value: 'v' }, { type: 'other', op: 'a.1' },
    ];
    for (const message of bad) expect(validateQkvMessage(message, config), JSON.stringify(message)).toEqual(expect.any(String));
    for (const record of [{ type: 'value', key: 'k', ts: [1.5, 'w'], value: 'v' }, { type: 'value', key: 'k', ts: [1, 'w'], value: 'x'.repeat(5000) }, { type: 'item' }]) {
      expect(validateQkvRecord(record, config), JSON.stringify(record)).toEqual(expect.any(String));
    }
  });
});
