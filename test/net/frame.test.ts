import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isConcordError } from '../../src/core/errors.js';
import { decodeFramePayload, encodeFrame, FrameDecoder } from '../../src/net/frame.js';
import { decodeValue, encodeValue } from '../../src/net/msgpack.js';

const acceptAll = (): null => null;

function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

describe('frame codec', () => {
  it('round-trips any sequence of values however the stream is chunked', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue({ maxDepth: 3 }), { minLength: 1, maxLength: 10 }), fc.array(fc.nat(), { maxLength: 20 }), (values, cuts) => {
        const usable = values.filter((value) => !JSON.stringify(value).includes('"__proto__"'));
        const stream = Buffer.concat(usable.map((value) => encodeFrame(value, 1 << 20)));
        const decoder = new FrameDecoder(1 << 20);
        const payloads = chunked(stream, cuts).flatMap((chunk) => decoder.feed(chunk));
        const decoded = payloads.map((payload) => decodeFramePayload(payload, acceptAll));
        expect(decoded.map((value) => JSON.stringify(value))).toEqual(usable.map((value) => JSON.stringify(value)));
        expect(decoder.pendingBytes).toBe(0);
      }),
      { seed: 11, numRuns: 300 },
    );
  });

  it('random bytes: only typed errors, never a non-plain value (fuzz, fixed seed)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        const decoder = new FrameDecoder(256);
        try {
          for (const chunk of chunked(Buffer.from(bytes), cuts)) {
            for (const payload of decoder.feed(chunk)) {
              try {
                const value = decodeFramePayload(payload, acceptAll);
                expect(() => decodeValue(encodeValue(value))).not.toThrow();
              } catch (error) {
                expect(isConcordError(error, ErrorCode.CorruptFrame)).toBe(true);
              }
            }
          }
        } catch (error) {
          expect(isConcordError(error, ErrorCode.CorruptFrame) || isConcordError(error, ErrorCode.FrameTooLarge)).toBe(true);
        }
      }),
      { seed: 12, numRuns: 2000 },
    );
  });

  it('random payloads after a valid header decode to plain data or CORRUPT_FRAME (fuzz, fixed seed)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (payload) => {
        try {
          decodeFramePayload(Buffer.from(payload), acceptAll);
        } catch (error) {
          expect(isConcordError(error, ErrorCode.CorruptFrame)).toBe(true);
        }
      }),
      { seed: 13, numRuns: 5000 },
    );
  });

  it('refuses an oversized header before buffering the frame, and a zero-length frame', () => {
    const decoder = new FrameDecoder(1024);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1025);
    expect(() => decoder.feed(header)).toThrow(expect.objectContaining({ code: ErrorCode.FrameTooLarge }));
    expect(() => decoder.feed(Buffer.from([1]))).toThrow(expect.objectContaining({ code: ErrorCode.CorruptFrame }));
    expect(() => new FrameDecoder(1024).feed(Buffer.alloc(4))).toThrow(expect.objectContaining({ code: ErrorCode.CorruptFrame }));
    expect(() => encodeFrame('x'.repeat(2000), 1024)).toThrow(expect.objectContaining({ code: ErrorCode.FrameTooLarge }));
  });

  it('refuses MessagePack extensions that are not plain data, trailing bytes, and failed validation', () => {
    // What a permissive msgpackr peer can send: Set, Map with object keys, RegExp, Error, Date,
    // typed arrays, a bigint, a cyclic structure; plus trailing bytes and the never-used 0xc1.
    const permissive = new Packr({ moreTypes: true, structuredClone: true, useRecords: false, mapsAsObjects: false });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const refused = [
      permissive.pack(new Set([1])),
      permissive.pack(new Map<unknown, unknown>([[{ k: 1 }, 2]])),
      permissive.pack(/a+/),
      permissive.pack(new Error('boom')),
      permissive.pack(new Date(0)),
      permissive.pack(new Float64Array([1.5])),
      permissive.pack(2n ** 70n),
      permissive.pack(cyclic),
      Buffer.from([0xd4, 0xff, 0x00]),
      Buffer.from([0xc0, 0xc0]),
      Buffer.from([0xc1]),
    ];
    for (const payload of refused) {
      expect(() => decodeFramePayload(payload, acceptAll), payload.toString('hex')).toThrow(expect.objectContaining({ code: ErrorCode.CorruptFrame }));
    }
    expect(() => decodeFramePayload(encodeValue({ type: 'x' }), () => 'not a probe')).toThrow(expect.objectContaining({ code: ErrorCode.CorruptFrame }));
    // 100 000 nested arrays: the decoder's recursion fails as a typed error, not a crash.
    expect(() => decodeFramePayload(Buffer.alloc(100_000, 0x91), acceptAll)).toThrow(expect.objectContaining({ code: ErrorCode.CorruptFrame }));
  });
});
