import { assert } from '../core/errors.js';

/**
 * A bounded FIFO of encoded frames for one peer. Overflow policy: **drop oldest** — when a push
 * would exceed `maxMessages` or `maxBytes`, the oldest queued frames are discarded (and counted)
 * until it fits. Why oldest: protocols retransmit, and for consensus traffic the newest message
 * (latest term, latest commit index) supersedes older ones, so keeping the head of a long backlog
 * would only delay what matters.
 */
export class BoundedFrameQueue {
  private frames: Buffer[] = [];
  private head = 0;
  private queuedBytes = 0;
  private droppedCount = 0;

  constructor(
    private readonly maxMessages: number,
    private readonly maxBytes: number,
  ) {
    assert(Number.isInteger(maxMessages) && maxMessages > 0, 'maxMessages must be a positive integer');
    assert(maxBytes > 0, 'maxBytes must be positive');
  }

  get length(): number {
    return this.frames.length - this.head;
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  /** Frames discarded by the overflow policy since creation. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Appends a frame; returns how many old frames were dropped to make room. */
  push(frame: Buffer): number {
    let droppedNow = 0;
    while (this.length > 0 && (this.length + 1 > this.maxMessages || this.queuedBytes + frame.length > this.maxBytes)) {
      this.shift();
      droppedNow += 1;
    }
    this.frames.push(frame);
    this.queuedBytes += frame.length;
    this.droppedCount += droppedNow;
    return droppedNow;
  }

  shift(): Buffer | undefined {
    if (this.head >= this.frames.length) return undefined;
    const frame = this.frames[this.head]!;
    this.frames[this.head] = undefined as unknown as Buffer;
    this.head += 1;
    this.queuedBytes -= frame.length;
    // Compact occasionally so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
    return frame;
  }

  clear(): void {
    this.frames = [];
    this.head = 0;
    this.queuedBytes = 0;
  }
}
