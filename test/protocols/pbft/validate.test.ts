import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import {
  pbftConfig, pbftFactory, type PbftMessage, type PbftRecord, type PbftReplica, type PbftReply, type PbftRequest, requestPayload, shapeLimits, signPayload,
  validatePbftMessage, validatePbftRecord,
} from '../../../src/protocols/pbft/index.js';
import { ScriptedNet } from '../scripted-net.js';
import { expectWireSafe, typesOf } from '../wire-roundtrip.js';

const ids = ['n1', 'n2', 'n3', 'n4'];
const keySeed = 'wire';
const config = pbftConfig({ keySeed, checkpointInterval: 2, windowSeqs: 4 });
const limits = shapeLimits(config, ids.length);

class Net extends ScriptedNet<PbftReplica, PbftMessage, PbftRecord, PbftRequest, PbftReply> {
  private timestamp = 0;

  constructor() {
    const factory = pbftFactory(config);
    super(ids, (id, recovered) => factory({ id, peers: ids, rng: Rng.fromSeed(1), recovered }));
  }

  submit(id: string, operation: string): void {
    this.timestamp += 1;
    const fields = { client: 'c1', timestamp: this.timestamp, operation };
    this.request(id, { type: 'submit', request: { ...fields, signature: signPayload(keySeed, 'c1', requestPayload(fields)) } });
  }
}

/** Normal case with a relay, checkpoints, a state transfer to a replica that missed them, and a view change carrying a prepared request. */
function everythingRun(): { messages: PbftMessage[]; records: PbftRecord[] } {
  const net = new Net();
  net.submit('n2', 'add:k0:1');
  net.deliverAll();
  for (const amount of [2, 3, 4]) {
    net.submit('n1', `add:k0:${amount}`);
    net.deliverAll((envelope) => envelope.to === 'n4');
  }
  net.timer('n4', 'status');
  net.deliverAll();
  net.submit('n1', 'add:k0:5');
  net.deliverAll((envelope) => envelope.message.type === 'commit');
  net.cores.delete('n1');
  for (const id of ['n2', 'n3', 'n4']) net.timer(id, 'view-change');
  net.deliverAll((envelope) => envelope.to === 'n1');
  expect(net.core('n4').view).toBe(1);
  expect(net.core('n4').lastExecuted).toBe(5);
  return { messages: net.outputs.flatMap((output) => output.messages.map((envelope) => envelope.message)), records: [...net.disks.values()].flat() };
}

describe('pbft over the wire and the WAL', () => {
  it('every message and record a run emits is plain data that survives MessagePack and passes its validator', () => {
    const { messages, records } = everythingRun();
    expect(typesOf(messages)).toEqual(['checkpoint', 'commit', 'new-view', 'pre-prepare', 'prepare', 'request', 'state', 'status', 'view-change']);
    expect(typesOf(records)).toEqual(['committed', 'pre-prepared', 'prepared', 'stable', 'view']);
    expectWireSafe(messages, (value) => validatePbftMessage(value, limits));
    expectWireSafe(records, (value) => validatePbftRecord(value, limits));
  });

  it('refuses malformed messages and records with a reason', () => {
    const bad: unknown[] = [
      null, 'status', { type: 'hello' }, { type: 'commit', view: -1, seq: 1, digest: 'd', replica: 'n1' },
      { type: 'status', view: 0, changing: 'no', executed: 0, stableSeq: 0 },
      { type: 'prepare', view: 0, seq: 1, digest: 'd', replica: 'n2', signature: 'x'.repeat(257) },
      { type: 'request', request: { client: 'c1', timestamp: 1.5, operation: 'add:k:1', signature: 's' } },
      { type: 'new-view', view: 1, viewChanges: [], prePrepares: new Array(limits.listMax + 1).fill({ type: 'pre-prepare', view: 1, seq: 1, digest: 'null', request: null, replica: 'n2', signature: 's' }), replica: 'n2' },
    ];
    for (const message of bad) expect(validatePbftMessage(message, limits), JSON.stringify(message)).toEqual(expect.any(String));
    for (const record of [{ type: 'view', view: 1, changing: true }, { type: 'committed', seq: 1, digest: 'd', request: 'x' }, { type: 'stable', proof: { seq: 2 } }, { type: 'vote' }, []]) {
      expect(validatePbftRecord(record, limits), JSON.stringify(record)).toEqual(expect.any(String));
    }
  });
});
