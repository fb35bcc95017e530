import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isConcordError } from '../../../src/core/errors.js';
import { Rng } from '../../../src/core/rng.js';
import {
  type ClientRequest, type PbftConfig, pbftConfig, pbftFactory, type PbftMessage, type PbftRecord, type PbftReplica, type PbftReply, type PbftRequest, parseMessage,
  requestPayload, signPayload,
} from '../../../src/protocols/pbft/index.js';
import { ScriptedNet } from '../scripted-net.js';

/** Four replicas (f = 1), messages carried by hand. Paper: Castro & Liskov, OSDI 1999. */
const ids = ['n1', 'n2', 'n3', 'n4'];
const keySeed = 'scripted';

class Net extends ScriptedNet<PbftReplica, PbftMessage, PbftRecord, PbftRequest, PbftReply> {
  private timestamp = 0;

  constructor(overrides: Partial<PbftConfig> = {}) {
    const factory = pbftFactory(pbftConfig({ keySeed, ...overrides }));
    super(ids, (id, recovered) => factory({ id, peers: ids, rng: Rng.fromSeed(1), recovered }));
  }

  submit(id: string, operation: string): ClientRequest {
    this.timestamp += 1;
    const fields = { client: 'c1', timestamp: this.timestamp, operation };
    const request = { ...fields, signature: signPayload(keySeed, 'c1', requestPayload(fields)) };
    this.request(id, { type: 'submit', request });
    return request;
  }

  executedOps(id: string): (string | null)[] {
    return this.core(id).executed.filter((entry) => !entry.transferred).map((entry) => entry.request?.operation ?? null);
  }
}

const results = (net: Net): string[] => net.replies.flatMap((reply) => (reply.type === 'result' ? [reply.result] : []));

describe('pbft core', () => {
  it('§4.2 normal case: pre-prepare, prepare, commit, execute in order and reply', () => {
    const net = new Net();
    net.submit('n1', 'add:k0:5');
    // The primary logs its pre-prepare durably before sending it.
    expect(net.outputs.at(-1)!.persist.map((record) => record.type)).toEqual(['pre-prepared']);
    expect(net.outputs.at(-1)!.sync).toBe(true);
    net.deliverAll();
    net.submit('n1', 'add:k0:2');
    net.deliverAll();
    for (const id of ids) expect(net.executedOps(id)).toEqual(['add:k0:5', 'add:k0:2']);
    expect(results(net)).toEqual(['5', '7']);
    // A retry of the client's last request is answered from the reply cache, by any replica;
    // an older one is refused (the cache keeps one reply per client, §4.1).
    net.request('n3', { type: 'submit', request: net.core('n1').executed[1]!.request! });
    expect(net.replies.at(-1)).toMatchObject({ type: 'result', replica: 'n3', result: '7' });
    net.request('n3', { type: 'submit', request: net.core('n1').executed[0]!.request! });
    expect(net.replies.at(-1)).toMatchObject({ type: 'error', code: 'INVALID_ARGUMENT' });
  });

  it('a backup relays a request to the primary and every replica, and times the primary out', () => {
    const net = new Net();
    net.submit('n2', 'add:k1:1');
    const relayed = net.inFlight.filter((envelope) => envelope.message.type === 'request').map((envelope) => envelope.to);
    expect(relayed.sort()).toEqual(['n1', 'n3', 'n4']);
    expect(net.outputs.at(-1)!.timers.some((timer) => timer.timer === 'view-change' && timer.afterTicks !== null)).toBe(true);
    net.deliverAll();
    expect(results(net)).toEqual(['1']);
  });

  it('§4.4 a view change carries a prepared request into the new view (and a new primary re-issues it)', () => {
    const net = new Net();
    net.submit('n1', 'add:k0:3');
    net.deliverAll((envelope) => envelope.message.type === 'commit');
    for (const id of ids) expect(net.core(id).lastExecuted).toBe(0);
    net.cores.delete('n1'); // the primary dies after everyone prepared
    for (const id of ['n2', 'n3', 'n4']) net.timer(id, 'view-change');
    net.deliverAll((envelope) => envelope.to === 'n1');
    for (const id of ['n2', 'n3', 'n4']) {
      expect(net.core(id).view).toBe(1);
      expect(net.core(id).changing).toBe(false);
      expect(net.executedOps(id)).toEqual(['add:k0:3']);
    }
    // The view's primary (n2) assigns further requests after the re-issued one.
    net.submit('n3', 'add:k0:4');
    net.deliverAll((envelope) => envelope.to === 'n1');
    expect(net.executedOps('n4')).toEqual(['add:k0:3', 'add:k0:4']);
  });

  it('drops messages with a bad signature, a forged sender or a non-primary pre-prepare, and counts them', () => {
    const net = new Net();
    net.submit('n1', 'add:k0:1');
    const prePrepare = net.inFlight.find((envelope) => envelope.message.type === 'pre-prepare')!.message as Extract<PbftMessage, { type: 'pre-prepare' }>;
    net.inFlight.length = 0;
    net.step('n2', { type: 'message', from: 'n1', message: { ...prePrepare, digest: 'f'.repeat(64) } });
    net.step('n2', { type: 'message', from: 'n3', message: { ...prePrepare, replica: 'n3' } });
    net.step('n2', { type: 'message', from: 'n3', message: { type: 'prepare', view: 0, seq: 1, digest: prePrepare.digest, replica: 'n3', signature: prePrepare.signature } });
    const dropped = net.core('n2').dropped;
    expect(dropped.signature).toBe(3);
    expect(net.inFlight).toEqual([]);
    // The genuine one is still accepted afterwards.
    net.step('n2', { type: 'message', from: 'n1', message: prePrepare });
    expect(net.inFlight.map((envelope) => envelope.message.type)).toContain('prepare');
  });

  it('§4.3 checkpoints become stable with 2f + 1 votes and collect the log; the primary stays within its window', () => {
    const net = new Net({ checkpointInterval: 2, windowSeqs: 4 });
    for (let round = 0; round < 5; round += 1) {
      net.submit('n1', `add:k0:${round + 1}`);
      net.deliverAll();
    }
    for (const id of ids) {
      expect(net.core(id).lastExecuted).toBe(5);
      expect(net.core(id).stableSeq).toBe(4);
      expect(net.core(id).log.slots.size).toBeLessThanOrEqual(1);
    }
    // With every message lost, the primary assigns up to the high water mark (4 + 4) and queues the rest.
    for (let round = 0; round < 6; round += 1) net.submit('n1', `add:k1:${round + 1}`);
    expect(net.core('n1').lastAssigned).toBe(8);
  });

  it('recovers view, stable checkpoint and committed requests from its records after a restart', () => {
    const net = new Net({ checkpointInterval: 2, windowSeqs: 4 });
    for (let round = 0; round < 3; round += 1) {
      net.submit('n1', `add:k0:${round + 1}`);
      net.deliverAll();
    }
    net.boot('n3');
    const core = net.core('n3');
    expect(core.stableSeq).toBe(2);
    expect(core.lastExecuted).toBe(3);
    expect(core.executed.map((entry) => entry.seq)).toEqual([2, 3]);
    // A replica that restarts during a view change is still changing, and says so again.
    net.timer('n4', 'view-change');
    net.inFlight.length = 0;
    net.boot('n4');
    expect(net.core('n4').changing).toBe(true);
    expect(net.inFlight.some((envelope) => envelope.message.type === 'view-change')).toBe(true);
  });

  it('a replica that missed everything catches up by state transfer, verified against the checkpoint proof', () => {
    const net = new Net({ checkpointInterval: 2, windowSeqs: 4 });
    for (let round = 0; round < 4; round += 1) {
      net.submit('n1', `add:k0:${round + 1}`);
      net.deliverAll((envelope) => envelope.to === 'n4');
    }
    expect(net.core('n4').lastExecuted).toBe(0);
    net.timer('n4', 'status');
    net.deliverAll();
    expect(net.core('n4').lastExecuted).toBe(4);
    expect(net.core('n4').executed.at(-1)).toMatchObject({ seq: 4, transferred: true });
  });

  it('message validation never throws and rejects what is not a PBFT message; replicas survive garbage', () => {
    const limits = { listMax: 8, snapshotEntriesMax: 8 };
    const net = new Net();
    const kinds = ['request', 'pre-prepare', 'prepare', 'commit', 'checkpoint', 'view-change', 'new-view', 'status', 'state'];
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ type: fc.constantFrom(...kinds) }, { requiredKeys: [] }).chain((base) => fc.dictionary(fc.string(), fc.anything()).map((rest) => ({ ...rest, ...base })))), (raw) => {
        const parsed = parseMessage(raw, limits);
        if (parsed !== null) expect(kinds).toContain(parsed.type);
        net.step('n2', { type: 'message', from: 'n3', message: raw as PbftMessage });
      }),
      { numRuns: 500 },
    );
    expect(parseMessage({ type: 'commit', view: 0, seq: 1, digest: 'd', replica: 'n1' }, limits)).toEqual({ type: 'commit', view: 0, seq: 1, digest: 'd', replica: 'n1' });
    expect(parseMessage({ type: 'commit', view: -1, seq: 1, digest: 'd', replica: 'n1' }, limits)).toBeNull();
  });

  it('rejects bad configuration with INVALID_CONFIG', () => {
    for (const overrides of [{ checkpointInterval: 0 }, { checkpointInterval: 8, windowSeqs: 12 }, { viewChangeTicks: 50, viewChangeTicksMax: 10 }, { keySeed: '' }]) {
      try {
        pbftConfig(overrides);
        expect.unreachable();
      } catch (error) {
        expect(isConcordError(error, 'INVALID_CONFIG')).toBe(true);
      }
    }
  });
});
