import fc from 'fast-check';
import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { validatingCodec } from '../../../src/core/codec.js';
import { isConcordError } from '../../../src/core/errors.js';
import { Rng } from '../../../src/core/rng.js';
import {
  type DeliveryMessage,
  deliveryConfig,
  isDeliveryRecord,
  ReliableDeliveryCore,
  validateDeliveryMessage,
  validateDeliveryRecord,
} from '../../../src/protocols/reliable-delivery/index.js';

const messageArbitrary: fc.Arbitrary<DeliveryMessage> = fc.oneof(
  fc
    .record({ seq: fc.integer({ min: 1, max: 1e9 }), back: fc.integer({ min: 0, max: 1e6 }), appId: fc.string(), payload: fc.string() })
    .map(({ seq, back, appId, payload }) => ({ type: 'data' as const, seq, floorSeq: Math.max(1, seq - back), appId, payload })),
  fc.integer({ min: 1, max: 1e9 }).map((seq) => ({ type: 'ack' as const, seq })),
);

describe('reliable-delivery validation', () => {
  const codec = validatingCodec<DeliveryMessage>({ encode: (value) => pack(value), decode: (bytes) => unpack(bytes) as unknown }, validateDeliveryMessage);

  it('round-trips every well-formed message through a validating msgpack codec', () => {
    fc.assert(
      fc.property(messageArbitrary, (message) => {
        expect(codec.decode(codec.encode(message))).toEqual(message);
      }),
    );
  });

  it('rejects malformed messages with MALFORMED_INPUT and a reason', () => {
    const bad: unknown[] = [
      null,
      [],
      { type: 'data', seq: 0, floorSeq: 1, appId: 'a', payload: '' },
      { type: 'data', seq: 2, floorSeq: 3, appId: 'a', payload: '' },
      { type: 'data', seq: 2, floorSeq: 1, appId: 7, payload: '' },
      { type: 'ack', seq: 1.5 },
      { type: 'nack', seq: 1 },
    ];
    for (const value of bad) {
      expect(validateDeliveryMessage(value)).not.toBeNull();
      try {
        codec.decode(pack(value));
        expect.unreachable();
      } catch (error) {
        expect(isConcordError(error, 'MALFORMED_INPUT')).toBe(true);
      }
    }
  });

  it('checks records read back from disk', () => {
    expect(isDeliveryRecord({ type: 'applied', from: 'n1', seq: 3, floorSeq: 2, appId: 'm', payload: 'p' })).toBe(true);
    expect(isDeliveryRecord({ type: 'resolved', to: 'n2', seq: 3, outcome: 'acked' })).toBe(true);
    expect(validateDeliveryRecord({ type: 'resolved', to: 'n2', seq: 3, outcome: 'maybe' })).not.toBeNull();
    expect(validateDeliveryRecord({ type: 'reserve', throughSeq: 64 })).not.toBeNull();
    expect(validateDeliveryRecord({ type: 'snapshot', to: 'n1' })).not.toBeNull();
  });

  it('the core drops malformed messages and messages from non-members without applying or acking', () => {
    const core = new ReliableDeliveryCore({ id: 'n2', peers: ['n1', 'n2'], rng: Rng.fromSeed(1), recovered: [] }, deliveryConfig());
    const inputs = [
      { from: 'n1', message: { type: 'data', seq: 0, floorSeq: 1, appId: 'a', payload: '' } },
      { from: 'n1', message: { type: 'bogus' } },
      { from: 'n9', message: { type: 'data', seq: 1, floorSeq: 1, appId: 'a', payload: '' } },
    ];
    for (const { from, message } of inputs) {
      const output = core.step({ type: 'message', from, message: message as DeliveryMessage });
      expect(output.persist).toEqual([]);
      expect(output.messages).toEqual([]);
    }
    expect(core.stats().malformedDropped).toBe(3);
    expect(core.stats().applied).toBe(0);
  });
});
