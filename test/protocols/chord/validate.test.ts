import { describe, expect, it } from 'vitest';
import { chordConfig, type ChordMessage, type ChordRecord, validateChordMessage, validateChordRecord } from '../../../src/protocols/chord/index.js';
import { expectWireSafe, typesOf } from '../wire-roundtrip.js';
import { ScriptedRing } from './scripted-ring.js';

const ids = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'];
const config = chordConfig();
const maintenance = ['stabilize', 'fix-fingers', 'check-predecessor', 'replicate', 'merge'];

class Net extends ScriptedRing {
  constructor() {
    super(ids, 11, maintenance);
  }
}

/** Joins (one node late: the others' merge lookups through it are refused), puts, gets, lookups, a failed node, a restart. */
function everythingRun(): { messages: ChordMessage[]; records: ChordRecord[] } {
  const net = new Net();
  const early = ids.slice(0, 5);
  for (const id of early.slice(1)) net.join(id);
  net.rounds(10, early);
  for (let index = 0; index < 12; index += 1) {
    net.request(early[index % 5]!, { type: 'put', key: `key${index}`, value: `v${index}`, version: 1 });
    net.deliver();
  }
  net.join('n6');
  net.rounds(8, ids);
  for (const id of ids) {
    net.request(id, { type: 'get', key: 'key3' });
    net.request(id, { type: 'lookup', key: 'key5' });
    net.deliver();
  }
  net.down.add('n3');
  net.rounds(6, ids);
  net.down.delete('n3');
  net.boot('n3');
  net.rounds(6, ids);
  return { messages: net.outputs.flatMap((output) => output.messages.map((envelope) => envelope.message)), records: [...net.disks.values()].flat() };
}

describe('chord over the wire and the WAL', () => {
  it('every message and record a run emits is plain data that survives MessagePack and passes its validator', () => {
    const { messages, records } = everythingRun();
    expect(typesOf(messages)).toEqual([
      'find', 'found', 'get-neighbours', 'items', 'neighbours', 'next', 'notify', 'ping', 'pong', 'put', 'put-done', 'read', 'read-done', 'refuse', 'replicate', 'replicated',
      'transfer-request',
    ]);
    expect(typesOf(records)).toEqual(['item', 'joined', 'successors']);
    expectWireSafe(messages, (value) => validateChordMessage(value, config));
    expectWireSafe(records, (value) => validateChordRecord(value, config));
  });

  it('refuses malformed records with a reason', () => {
    const bad: unknown[] = [null, { type: 'successors', successors: 'n2' }, { type: 'successors', successors: ['n2', 7] }, { type: 'item', item: { key: 'k', value: 'v', version: -1 } }, { type: 'other' }];
    for (const record of bad) expect(validateChordRecord(record, config), JSON.stringify(record)).toEqual(expect.any(String));
    expect(validateChordRecord({ type: 'joined' }, config)).toBeNull();
  });
});
