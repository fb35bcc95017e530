import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { hashPingMessage, PingCore, type PingRecord } from '../../../src/protocols/ping/index.js';

function core(id = 'n1', recovered: PingRecord[] = [], outstandingMax = 4096): PingCore {
  return new PingCore({ id, peers: ['n1', 'n2', 'n3'], rng: Rng.fromSeed(1), recovered }, { pingIntervalTicks: 5, fanout: null, outstandingMax });
}

describe('ping core', () => {
  it('starts by durably persisting a new epoch, then arms its ping timer', () => {
    const fresh = core();
    expect(fresh.start()).toEqual({ persist: [{ type: 'epoch', epoch: 1 }], sync: true, messages: [], replies: [], timers: [{ timer: 'ping', afterTicks: 5 }] });
    const recovered = core('n1', [{ type: 'epoch', epoch: 1 }, { type: 'epoch', epoch: 4 }]);
    expect(recovered.epoch).toBe(5);
    expect(recovered.start().persist).toEqual([{ type: 'epoch', epoch: 5 }]);
  });

  it('pings every peer each round and re-arms the timer', () => {
    const node = core();
    node.start();
    const output = node.step({ type: 'timer', timer: 'ping' });
    expect(output.messages).toEqual([
      { from: 'n1', to: 'n2', message: { type: 'ping', epoch: 1, seq: 1 } },
      { from: 'n1', to: 'n3', message: { type: 'ping', epoch: 1, seq: 2 } },
    ]);
    expect(output.timers).toEqual([{ timer: 'ping', afterTicks: 5 }]);
    expect(node.pingsSent).toBe(2);
    expect(node.outstandingCount).toBe(2);
  });

  it('answers a ping with an echo of the same epoch and sequence number', () => {
    const node = core('n2');
    const output = node.step({ type: 'message', from: 'n1', message: { type: 'ping', epoch: 3, seq: 9 } });
    expect(output.messages).toEqual([{ from: 'n2', to: 'n1', message: { type: 'echo', epoch: 3, seq: 9 } }]);
  });

  it('accepts an echo once; duplicates, wrong senders and stale epochs are unexpected', () => {
    const node = core();
    node.step({ type: 'timer', timer: 'ping' });
    node.step({ type: 'message', from: 'n2', message: { type: 'echo', epoch: 1, seq: 1 } });
    node.step({ type: 'message', from: 'n2', message: { type: 'echo', epoch: 1, seq: 1 } }); // duplicate
    node.step({ type: 'message', from: 'n2', message: { type: 'echo', epoch: 1, seq: 2 } }); // seq 2 went to n3
    node.step({ type: 'message', from: 'n3', message: { type: 'echo', epoch: 0, seq: 2 } }); // stale epoch
    expect([node.echoesAccepted, node.echoesUnexpected, node.echoesFrom('n2'), node.echoesFrom('n3')]).toEqual([1, 3, 1, 0]);
  });

  it('answers a client ping when its echo returns; rejects unknown peers', () => {
    const node = core();
    const sent = node.step({ type: 'request', requestId: 42, request: { type: 'ping', to: 'n3' } });
    expect(sent.messages).toEqual([{ from: 'n1', to: 'n3', message: { type: 'ping', epoch: 1, seq: 1 } }]);
    const answered = node.step({ type: 'message', from: 'n3', message: { type: 'echo', epoch: 1, seq: 1 } });
    expect(answered.replies).toEqual([{ requestId: 42, reply: { type: 'pong', from: 'n3', seq: 1 } }]);
    const rejected = node.step({ type: 'request', requestId: 43, request: { type: 'ping', to: 'n9' } });
    expect(rejected.replies).toEqual([{ requestId: 43, reply: { type: 'rejected', reason: 'unknown-peer' } }]);
  });

  it('bounds its outstanding pings, forgetting the oldest', () => {
    const node = core('n1', [], 3);
    for (let round = 0; round < 5; round += 1) node.step({ type: 'timer', timer: 'ping' });
    expect(node.outstandingCount).toBe(3);
    node.step({ type: 'message', from: 'n2', message: { type: 'echo', epoch: 1, seq: 1 } }); // forgotten
    expect(node.echoesUnexpected).toBe(1);
  });

  it('its trace hash distinguishes type, epoch and sequence number', () => {
    const hashes = new Set([
      hashPingMessage({ type: 'ping', epoch: 1, seq: 1 }),
      hashPingMessage({ type: 'echo', epoch: 1, seq: 1 }),
      hashPingMessage({ type: 'ping', epoch: 2, seq: 1 }),
      hashPingMessage({ type: 'ping', epoch: 1, seq: 2 }),
    ]);
    expect(hashes.size).toBe(4);
  });
});
