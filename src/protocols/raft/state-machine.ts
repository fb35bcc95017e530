import { assert } from '../../core/errors.js';
import type { AppTypes } from './types.js';
import { mix32 } from '../../core/hash.js';

/**
 * The replicated application. Pure and deterministic: the same commands in the same order give
 * the same results, snapshots and digests on every replica. The Raft core owns one instance,
 * applies committed commands to it, answers reads from it, and snapshots it for compaction.
 */
export interface StateMachine<A extends AppTypes> {
  /** Applies a committed command (at log `index`) and returns its result for the client. */
  apply(command: A['command'], index: number): A['result'];
  /** Answers a read-only query against the current state. Must not change state. */
  query(query: A['query']): A['queryResult'];
  /** A complete image of the state. */
  snapshot(): Uint8Array;
  /**
   * Optional: starts an incremental snapshot, the image `snapshot()` would return now, produced in
   * pieces while `apply()` goes on changing the state. The concatenated pieces are byte-identical
   * to that image. At most one writer at a time; `restore()` aborts it. A state machine without
   * it is snapshotted synchronously (one `snapshot()` call in one step).
   */
  beginSnapshot?(): SnapshotWriter;
  /** Replaces the whole state by a snapshot's image (and aborts a writer in progress). */
  restore(data: Uint8Array): void;
  /**
   * A short fingerprint of the state, equal on replicas that applied the same commands. Must be
   * O(1) (maintain it incrementally): checkers read it after every simulator event.
   */
  digest(): string;
  /** Approximate encoded size of a command, for batching and the uncommitted-bytes bound. */
  commandSizeBytes(command: A['command']): number;
  /** Rejects a malformed command before it is proposed (returns a reason), or null. */
  validateCommand?(command: A['command']): string | null;
}

/**
 * An image being produced in pieces (`StateMachine.beginSnapshot`). Pull-based on purpose: the
 * core asks for a piece while its step has budget left, so the application needs no host, timer
 * or callback, and the core alone bounds the work of one step. Pieces are plain bytes, so the
 * core frames and copies them without knowing the application's encoding.
 */
export interface SnapshotWriter {
  /**
   * The next piece of the image, about `maxBytes` long (it may exceed that by one indivisible
   * item, e.g. one record), or null once the image is complete (and on every later call).
   */
  next(maxBytes: number): Uint8Array | null;
  /** Gives the image up: the state machine stops keeping pre-images. Later `next` calls throw. */
  abort(): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Frames a JSON header and an opaque body into one byte string: 4-byte big-endian header
 * length, the header as UTF-8 JSON, then the body. Used for the core's snapshot image (session
 * table header + application body).
 */
export function frameBytes(header: unknown, body: Uint8Array): Uint8Array {
  const headerBytes = encoder.encode(JSON.stringify(header));
  const framed = new Uint8Array(4 + headerBytes.length + body.length);
  new DataView(framed.buffer).setUint32(0, headerBytes.length);
  framed.set(headerBytes, 4);
  framed.set(body, 4 + headerBytes.length);
  return framed;
}

export function unframeBytes(framed: Uint8Array): { header: unknown; body: Uint8Array } {
  assert(framed.length >= 4, 'framed bytes too short');
  const headerLength = new DataView(framed.buffer, framed.byteOffset, framed.byteLength).getUint32(0);
  assert(4 + headerLength <= framed.length, 'framed header length exceeds the data');
  const header: unknown = JSON.parse(decoder.decode(framed.subarray(4, 4 + headerLength)));
  return { header, body: framed.subarray(4 + headerLength) };
}

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export function decodeJson(bytes: Uint8Array): unknown {
  return JSON.parse(decoder.decode(bytes));
}

/** A 64-bit rolling digest kept as two 32-bit lanes; `add` folds in one event. */
export class RollingDigest {
  constructor(
    private high = 0x6a09e667,
    private low = 0xbb67ae85,
  ) {}

  add(value: number): void {
    this.high = mix32(this.high ^ value ^ 0x9e3779b9);
    this.low = mix32(this.low + Math.imul(value, 0x85ebca6b) + this.high);
  }

  toString(): string {
    return this.high.toString(16).padStart(8, '0') + this.low.toString(16).padStart(8, '0');
  }

  save(): [number, number] {
    return [this.high, this.low];
  }

  static load(saved: unknown): RollingDigest {
    assert(Array.isArray(saved) && saved.length === 2, 'bad digest state');
    return new RollingDigest(Number(saved[0]) >>> 0, Number(saved[1]) >>> 0);
  }
}
