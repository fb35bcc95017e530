import { describe, expect, it } from 'vitest';
import { isConcordError } from '../../../src/core/errors.js';
import { Rng } from '../../../src/core/rng.js';
import {
  newerThan, qkvConfig, type QkvMessage, type QkvRecord, type QkvReply, type QkvRequest, type QuorumKvCore, quorumKvFactory,
} from '../../../src/protocols/quorum-kv/index.js';
import { ScriptedNet } from '../scripted-net.js';

const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];

class Net extends ScriptedNet<QuorumKvCore, QkvMessage, QkvRecord, QkvRequest, QkvReply> {
  constructor() {
    const factory = quorumKvFactory();
    super(ids, (id, recovered) => factory({ id, peers: ids, rng: Rng.fromSeed(ids.indexOf(id) + 1), recovered }));
  }
}

describe('quorum KV core (ABD register per key)', () => {
  it('a put reaches a majority of the key\'s replicas (synced before acknowledging); any node reads it back', () => {
    const net = new Net();
    const replicas = net.core('n1').replicasOf('user/1');
    expect(replicas).toHaveLength(3);
    expect(ids.every((id) => JSON.stringify(net.core(id).replicasOf('user/1')) === JSON.stringify(replicas))).toBe(true);
    net.request('n1', { type: 'put', key: 'user/1', value: 'alice' });
    net.deliverAll();
    expect(net.replies).toEqual([{ type: 'ok' }]);
    for (const replica of replicas) expect(net.core(replica).replicaValue('user/1').value).toBe('alice');
    const acks = net.outputs.filter((output) => output.messages.some((envelope) => envelope.message.type === 'stored'));
    for (const output of acks) if (output.persist.length > 0) expect(output.sync).toBe(true);
    net.request('n5', { type: 'get', key: 'user/1' });
    net.deliverAll();
    expect(net.replies.at(-1)).toEqual({ type: 'value', value: 'alice' });
  });

  it('progresses with one replica silent, and a get writes the newest value back to a majority', () => {
    const net = new Net();
    const replicas = net.core('n1').replicasOf('k');
    const [first, , third] = replicas;
    const [writer, reader] = ids.filter((id) => !replicas.includes(id));
    net.request(writer!, { type: 'put', key: 'k', value: 'v1' });
    net.deliverAll((envelope) => envelope.to === third); // third never hears of it
    expect(net.replies).toEqual([{ type: 'ok' }]);
    expect(net.core(third!).replicaValue('k').value).toBeNull();
    // A get that hears from `third` and one other replica still returns v1, and repairs `third`.
    net.request(reader!, { type: 'get', key: 'k' });
    net.deliverAll((envelope) => envelope.message.type === 'query' && envelope.to === first);
    expect(net.replies.at(-1)).toEqual({ type: 'value', value: 'v1' });
    expect(net.core(third!).replicaValue('k').value).toBe('v1');
  });

  it('two concurrent puts of one coordinator get distinct timestamps; a replica keeps only newer ones', () => {
    const net = new Net();
    net.request('n1', { type: 'put', key: 'k', value: 'a' });
    net.request('n1', { type: 'put', key: 'k', value: 'b' });
    net.deliverAll();
    const values = net.core('n1').replicasOf('k').map((replica) => net.core(replica).replicaValue('k'));
    expect(new Set(values.map((copy) => copy.value)).size).toBe(1);
    expect(newerThan([2, 'a'], [1, 'z'])).toBe(true);
    expect(newerThan([1, 'a'], [1, 'b'])).toBe(false);
  });

  it('a restarted replica recovers its values from its records', () => {
    const net = new Net();
    net.request('n1', { type: 'put', key: 'k', value: 'kept' });
    net.deliverAll();
    const replica = net.core('n1').replicasOf('k')[0]!;
    net.boot(replica);
    expect(net.core(replica).replicaValue('k').value).toBe('kept');
  });

  it('refuses bad requests and configuration with typed errors', () => {
    const net = new Net();
    net.request('n1', { type: 'put', key: '', value: 'x' });
    net.request('n1', { type: 'put', key: 'k', value: 'x'.repeat(5000) });
    expect(net.replies.map((reply) => (reply as { code?: string }).code)).toEqual(['INVALID_ARGUMENT', 'INVALID_ARGUMENT']);
    try {
      qkvConfig({ replicas: 0 });
      expect.unreachable();
    } catch (error) {
      expect(isConcordError(error, 'INVALID_CONFIG')).toBe(true);
    }
  });
});
