import { assert } from '../../core/errors.js';

/**
 * The receiver's record of which seqs from one sender are done: every seq ≤ `contiguousThrough`,
 * plus the seqs in `above` (all > `contiguousThrough`). Bounded: `above` only holds seqs within
 * `windowMax` of the watermark; a seq further out is refused (`isBeyondWindow`) by the caller.
 */
export class DedupWindow {
  private watermark = 0;
  private readonly above = new Set<number>();

  constructor(private readonly windowMax: number) {
    assert(Number.isSafeInteger(windowMax) && windowMax >= 1, 'dedup windowMax must be a positive integer');
  }

  get contiguousThrough(): number {
    return this.watermark;
  }

  /** Seqs tracked above the watermark. */
  get aboveCount(): number {
    return this.above.size;
  }

  has(seq: number): boolean {
    return seq <= this.watermark || this.above.has(seq);
  }

  /** True when `seq` lies so far above the watermark that tracking it could overflow the window. */
  isBeyondWindow(seq: number): boolean {
    return seq > this.watermark + this.windowMax;
  }

  add(seq: number): void {
    assert(Number.isSafeInteger(seq) && seq >= 1, `seq must be a positive integer, got ${seq}`);
    assert(!this.isBeyondWindow(seq), `seq ${seq} beyond the dedup window at ${this.watermark}`);
    if (this.has(seq)) return;
    this.above.add(seq);
    this.advance();
  }

  /** The sender promised never to send any seq below `floorSeq` again: they count as done. */
  raiseFloor(floorSeq: number): void {
    if (floorSeq - 1 <= this.watermark) return;
    this.watermark = floorSeq - 1;
    for (const seq of this.above) if (seq <= this.watermark) this.above.delete(seq);
    this.advance();
  }

  private advance(): void {
    while (this.above.delete(this.watermark + 1)) this.watermark += 1;
    assert(this.above.size <= this.windowMax, () => `dedup window holds ${this.above.size} > ${this.windowMax}`);
  }
}
