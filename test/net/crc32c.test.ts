import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/net/crc32c.js';

// Bit-at-a-time reference, independent of the sliced tables.
function referenceCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

describe('crc32c', () => {
  it('matches the published check values (RFC 3720 B.4)', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, index) => index))).toBe(0x46dd794e);
  });

  it('equals the bitwise reference and composes over ranges', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), (bytes, cut) => {
        const split = bytes.length === 0 ? 0 : cut % (bytes.length + 1);
        const whole = crc32c(bytes);
        expect(whole).toBe(referenceCrc32c(bytes));
        expect(crc32c(bytes, split, bytes.length, crc32c(bytes, 0, split))).toBe(whole);
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});
