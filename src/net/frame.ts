import { ConcordError, ErrorCode } from '../core/errors.js';
import { decodeValue, encodeValue } from './msgpack.js';

/**
 * Length-prefixed frames: a 4-byte big-endian payload length, then that many bytes of
 * MessagePack. A zero length is malformed (MessagePack never encodes to nothing).
 */
export const frameHeaderBytes = 4;

/** Encodes one value as a frame. Throws `FRAME_TOO_LARGE` when the payload exceeds `maxFrameBytes`. */
export function encodeFrame(value: unknown, maxFrameBytes: number): Buffer {
  const payload = encodeValue(value);
  if (payload.length > maxFrameBytes) {
    throw new ConcordError(ErrorCode.FrameTooLarge, `frame of ${payload.length} bytes exceeds the ${maxFrameBytes}-byte maximum`, {
      frameBytes: payload.length,
      maxFrameBytes,
    });
  }
  const frame = Buffer.allocUnsafe(frameHeaderBytes + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  payload.copy(frame, frameHeaderBytes);
  return frame;
}

/**
 * Decodes one frame payload and checks it with `validate` (returns a reason for bad input, null
 * for good). Any failure is `ConcordError(CORRUPT_FRAME)`.
 */
export function decodeFramePayload<T>(payload: Uint8Array, validate: (value: unknown) => string | null): T {
  let value: unknown;
  try {
    value = decodeValue(payload);
  } catch (error) {
    throw new ConcordError(ErrorCode.CorruptFrame, `corrupt frame: ${(error as Error).message}`);
  }
  const problem = validate(value);
  if (problem !== null) throw new ConcordError(ErrorCode.CorruptFrame, `frame refused by validation: ${problem}`);
  return value as T;
}

/**
 * Splits a byte stream into frame payloads. Bounded: a header announcing more than
 * `maxFrameBytes` throws `FRAME_TOO_LARGE` before anything of that frame is buffered, so a peer
 * cannot make us hold more than one maximum-size frame plus one read chunk per connection.
 * After it throws, the decoder is dead (the stream has lost framing) and the connection must close.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;
  private nextFrameBytes: number | null = null;
  private failed = false;

  constructor(private maxFrameBytes: number) {}

  /** Changes the limit for frames not yet started (e.g. larger once a peer has authenticated). */
  setMaxFrameBytes(maxFrameBytes: number): void {
    this.maxFrameBytes = maxFrameBytes;
  }

  get pendingBytes(): number {
    return this.bufferedBytes;
  }

  /** Buffers bytes; take the completed frames with `next()`. */
  push(chunk: Buffer): void {
    if (this.failed) throw new ConcordError(ErrorCode.CorruptFrame, 'frame stream already failed');
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
  }

  /**
   * The next complete frame payload, or null when more bytes are needed. One at a time so that a
   * caller can change the limit between frames (the handshake ends mid-chunk).
   */
  next(): Buffer | null {
    if (this.failed) throw new ConcordError(ErrorCode.CorruptFrame, 'frame stream already failed');
    if (this.nextFrameBytes === null) {
      if (this.bufferedBytes < frameHeaderBytes) return null;
      const length = this.take(frameHeaderBytes).readUInt32BE(0);
      this.nextFrameBytes = this.checkLength(length);
    }
    if (this.bufferedBytes < this.nextFrameBytes) return null;
    const payload = this.take(this.nextFrameBytes);
    this.nextFrameBytes = null;
    return payload;
  }

  /** `push` then every completed payload (convenience for tests and simple callers). */
  feed(chunk: Buffer): Buffer[] {
    this.push(chunk);
    const frames: Buffer[] = [];
    for (let payload = this.next(); payload !== null; payload = this.next()) frames.push(payload);
    return frames;
  }

  private checkLength(length: number): number {
    if (length === 0) {
      this.failed = true;
      throw new ConcordError(ErrorCode.CorruptFrame, 'zero-length frame');
    }
    if (length > this.maxFrameBytes) {
      this.failed = true;
      throw new ConcordError(ErrorCode.FrameTooLarge, `peer announced a ${length}-byte frame, maximum ${this.maxFrameBytes}`, {
        frameBytes: length,
        maxFrameBytes: this.maxFrameBytes,
      });
    }
    return length;
  }

  /** Removes and returns the first `count` buffered bytes (copying only when they span chunks). */
  private take(count: number): Buffer {
    const first = this.chunks[0]!;
    let result: Buffer;
    if (first.length >= count) {
      result = first.subarray(0, count);
      if (first.length === count) this.chunks.shift();
      else this.chunks[0] = first.subarray(count);
    } else {
      const joined = Buffer.concat(this.chunks, this.bufferedBytes);
      result = joined.subarray(0, count);
      this.chunks = joined.length > count ? [joined.subarray(count)] : [];
    }
    this.bufferedBytes -= count;
    return result;
  }
}
