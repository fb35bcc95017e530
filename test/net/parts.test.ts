import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/net/backoff.js';
import { computeProof, verifyProof, type HandshakeTranscript } from '../../src/net/handshake.js';
import { LinkFaults } from '../../src/net/link-faults.js';
import { BoundedFrameQueue } from '../../src/net/send-queue.js';

describe('Backoff', () => {
  it('grows exponentially with jitter in [cap/2, cap], stays under the maximum, and resets', () => {
    const draws = [0, 0.999, 0.5, 0, 0.999, 0.25, 0.75, 0, 0.999, 0.5];
    let next = 0;
    const backoff = new Backoff({ delayMsMin: 10, delayMsMax: 200, random: () => draws[next++ % draws.length]! });
    const delays = Array.from({ length: 10 }, () => backoff.nextDelayMs());
    const caps = [10, 20, 40, 80, 160, 200, 200, 200, 200, 200];
    delays.forEach((delay, index) => {
      expect(delay).toBeGreaterThanOrEqual(caps[index]! / 2);
      expect(delay).toBeLessThanOrEqual(caps[index]!);
    });
    backoff.reset();
    expect(backoff.nextDelayMs()).toBeLessThanOrEqual(10);
  });
});

describe('BoundedFrameQueue', () => {
  it('drops the oldest frames when the message or byte bound is hit (property, fixed seed)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 200 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 50, max: 400 }), (sizes, maxMessages, maxBytes) => {
        const queue = new BoundedFrameQueue(maxMessages, maxBytes);
        const pushed: Buffer[] = [];
        for (const [index, size] of sizes.entries()) {
          const frame = Buffer.alloc(size, index % 256);
          pushed.push(frame);
          queue.push(frame);
          expect(queue.length).toBeLessThanOrEqual(maxMessages);
          expect(queue.bytes <= maxBytes || queue.length === 1).toBe(true);
        }
        const kept: Buffer[] = [];
        for (let frame = queue.shift(); frame !== undefined; frame = queue.shift()) kept.push(frame);
        // What is kept is a suffix of what was pushed (oldest dropped first), and drops are counted.
        expect(kept).toEqual(pushed.slice(pushed.length - kept.length));
        expect(queue.dropped).toBe(pushed.length - kept.length);
        expect(queue.bytes).toBe(0);
      }),
      { seed: 5, numRuns: 300 },
    );
  });
});

describe('LinkFaults', () => {
  it('blocks directions per peer and heals', () => {
    const faults = new LinkFaults();
    faults.block('n2', 'outbound');
    faults.isolateFrom(['n3']);
    expect([faults.dropsOutbound('n2'), faults.dropsInbound('n2'), faults.dropsOutbound('n3'), faults.dropsInbound('n3')]).toEqual([true, false, true, true]);
    faults.unblock('n3');
    expect(faults.describe()).toEqual({ outbound: ['n2'], inbound: [] });
    faults.heal();
    expect(faults.describe()).toEqual({ outbound: [], inbound: [] });
  });
});

describe('handshake proofs', () => {
  const transcriptArb = fc.record({
    dialer: fc.constantFrom('n1', 'n2', 'node-a'),
    acceptor: fc.constantFrom('n3', 'n4', 'node-b'),
    dialerNonce: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    acceptorNonce: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  });

  it('verify only with the same secret, role, ids and nonces (property, fixed seed)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 40 }), fc.uint8Array({ minLength: 16, maxLength: 40 }), transcriptArb, fc.nat(), (secret, otherSecret, transcript, flip) => {
        const t: HandshakeTranscript = transcript;
        const proof = computeProof(secret, 'dialer', t);
        expect(verifyProof(secret, 'dialer', t, proof)).toBe(true);
        expect(verifyProof(secret, 'acceptor', t, proof)).toBe(false);
        if (Buffer.compare(Buffer.from(secret), Buffer.from(otherSecret)) !== 0) expect(verifyProof(otherSecret, 'dialer', t, proof)).toBe(false);
        const nonce = Uint8Array.from(t.acceptorNonce);
        nonce[flip % 32]! ^= 1 << (flip % 8);
        expect(verifyProof(secret, 'dialer', { ...t, acceptorNonce: nonce }, proof)).toBe(false);
        expect(verifyProof(secret, 'dialer', { ...t, dialer: `${t.dialer}x` }, proof)).toBe(false);
        expect(verifyProof(secret, 'dialer', t, proof.subarray(0, 31))).toBe(false);
      }),
      { seed: 8, numRuns: 300 },
    );
  });
});
