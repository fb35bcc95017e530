import { describe, expect, it } from 'vitest';
import { isConcordError } from '../../../src/core/errors.js';
import { Rng } from '../../../src/core/rng.js';
import {
  type CausalBroadcastCore, causalBroadcastFactory, cbConfig, type CbData, type CbMessage, type CbRecord,
} from '../../../src/protocols/causal-broadcast/index.js';

const peers = ['n1', 'n2', 'n3'];
const node = (id: string, recovered: CbRecord[] = [], overrides = {}): CausalBroadcastCore => {
  const core = causalBroadcastFactory({ maxResendPerDigest: 3, ...overrides })({ id, peers, rng: Rng.fromSeed(3), recovered });
  core.start();
  return core;
};
const data = (origin: string, seq: number, deps: Record<string, number>): CbData => ({ type: 'data', origin, seq, deps, payload: `${origin}${seq}` });
const receive = (core: CausalBroadcastCore, from: string, message: CbMessage) => core.step({ type: 'message', from, message });

describe('causal broadcast core', () => {
  it('a broadcast is delivered locally (synced) before it is sent, stamped with what the sender had delivered', () => {
    const n1 = node('n1');
    receive(n1, 'n2', data('n2', 1, {}));
    const output = n1.step({ type: 'request', requestId: 1, request: { type: 'broadcast', payload: 'hello' } });
    expect(output.sync).toBe(true);
    expect(output.persist).toEqual([{ type: 'delivered', message: { type: 'data', origin: 'n1', seq: 1, deps: { n2: 1 }, payload: 'hello' } }]);
    expect(output.messages.map((envelope) => envelope.to)).toEqual(['n2', 'n3']);
    expect(output.replies).toEqual([{ requestId: 1, reply: { type: 'broadcast', origin: 'n1', seq: 1 } }]);
  });

  it('holds a message until its causal past is delivered, then delivers both in order; drops duplicates', () => {
    const n3 = node('n3');
    // n2's first message depends on n1's first, which arrives later.
    expect(receive(n3, 'n2', data('n2', 1, { n1: 1 })).persist).toEqual([]);
    expect(n3.bufferedCount()).toBe(1);
    expect(n3.waitingFor()).toEqual(['n2/1 needs n1:1']);
    const output = receive(n3, 'n1', data('n1', 1, {}));
    expect(output.persist.map((record) => `${record.message.origin}/${record.message.seq}`)).toEqual(['n1/1', 'n2/1']);
    expect(receive(n3, 'n1', data('n1', 1, {})).persist).toEqual([]);
    expect(n3.stats.duplicatesDropped).toBe(1);
    expect(n3.deliveredVector()).toEqual({ n1: 1, n2: 1 });
  });

  it('answers a digest round-robin over origins within its budget, and asks back when the peer knows more', () => {
    const n1 = node('n1');
    for (let seq = 1; seq <= 3; seq += 1) receive(n1, 'n2', data('n2', seq, { n2: seq - 1 }));
    receive(n1, 'n3', data('n3', 1, {}));
    const output = receive(n1, 'n2', { type: 'digest', delivered: { n4: 0, n2: 0, n3: 0, n1: 0 } });
    const sent = output.messages.map((envelope) => (envelope.message.type === 'data' ? `${envelope.message.origin}/${envelope.message.seq}` : 'digest'));
    expect(sent).toEqual(['n2/1', 'n3/1', 'n2/2']);
    const behind = receive(n1, 'n3', { type: 'digest', delivered: { n2: 3, n3: 5 } });
    expect(behind.messages.map((envelope) => envelope.message.type)).toEqual(['digest']);
  });

  it('recovers what it delivered from its records and continues its own sequence', () => {
    const recovered: CbRecord[] = [{ type: 'delivered', message: data('n1', 1, {}) }, { type: 'delivered', message: data('n2', 1, {}) }];
    const n1 = node('n1', recovered);
    expect(n1.deliveredVector()).toEqual({ n1: 1, n2: 1 });
    const output = n1.step({ type: 'request', requestId: 1, request: { type: 'broadcast', payload: 'again' } });
    expect(output.persist[0]!.message).toMatchObject({ origin: 'n1', seq: 2, deps: { n1: 1, n2: 1 } });
  });

  it('drops malformed messages and messages from strangers; refuses bad payloads and bad configuration', () => {
    const n1 = node('n1');
    receive(n1, 'n2', { type: 'data', origin: 'n2', seq: 0, deps: {}, payload: 'x' });
    receive(n1, 'n2', { type: 'digest', delivered: { n2: -1 } });
    receive(n1, 'n9', data('n9', 1, {}));
    expect(n1.stats.malformedDropped).toBe(3);
    const reply = n1.step({ type: 'request', requestId: 2, request: { type: 'broadcast', payload: 'x'.repeat(5000) } }).replies[0]!.reply;
    expect(reply).toMatchObject({ type: 'error', code: 'INVALID_ARGUMENT' });
    try {
      cbConfig({ gossipTicks: 0 });
      expect.unreachable();
    } catch (error) {
      expect(isConcordError(error, 'INVALID_CONFIG')).toBe(true);
    }
  });
});
