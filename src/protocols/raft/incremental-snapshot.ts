import { assert } from '../../core/errors.js';
import { encodeJson, type SnapshotWriter } from './state-machine.js';
import type { SnapshotMeta } from './types.js';

const emptyPiece = new Uint8Array(0);

/**
 * A snapshot the Raft core takes over many steps: the application's pieces
 * (`StateMachine.beginSnapshot`), then the copying of those pieces into the one framed image
 * (`frameBytes` layout: 4-byte header length, the header's JSON, the body) — copying a large
 * image into fresh memory is itself a stall worth spreading (page faults: ~0.6–2.7 ms per MB
 * measured on the 2-vCPU machine). Each `advance` does about `budgetBytes` of work: bytes
 * produced by the writer, then bytes copied. Nothing is persisted or visible to the rest of the
 * core until `advance` returns the image.
 */
export class IncrementalSnapshot {
  private writer: SnapshotWriter | null;
  /** The header (encoded at the start), then the writer's pieces; each copied piece is released. */
  private readonly pieces: Uint8Array[];
  private readonly headerLength: number;
  private piecesBytes: number;
  /** The framed image being filled (once the writer is done). */
  private data: Uint8Array | null = null;
  private copyPiece = 0;
  private copyOffset = 0;
  private filled = 0;
  private finished = false;

  constructor(
    readonly meta: SnapshotMeta,
    header: unknown,
    writer: SnapshotWriter,
  ) {
    const headerBytes = encodeJson(header);
    this.writer = writer;
    this.pieces = [headerBytes];
    this.headerLength = headerBytes.length;
    this.piecesBytes = headerBytes.length;
  }

  /** Bytes produced so far (header and body), for status. */
  get producedBytes(): number {
    return this.piecesBytes;
  }

  /** Works for about `budgetBytes`; returns the framed image once it is complete (then never again). */
  advance(budgetBytes: number): Uint8Array | null {
    assert(!this.finished, 'the snapshot was already completed or aborted');
    assert(budgetBytes >= 1, 'the step budget must be positive');
    let budget = budgetBytes;
    while (budget > 0 && this.writer !== null) {
      const piece = this.writer.next(budget);
      if (piece === null) {
        this.writer = null;
        this.data = new Uint8Array(4 + this.piecesBytes);
        new DataView(this.data.buffer).setUint32(0, this.headerLength);
        this.filled = 4;
        break;
      }
      this.pieces.push(piece);
      this.piecesBytes += piece.length;
      budget -= Math.max(1, piece.length);
    }
    if (this.data === null) return null;
    while (budget > 0 && this.copyPiece < this.pieces.length) budget -= this.copySome(this.data, budget);
    if (this.copyPiece < this.pieces.length) return null;
    assert(this.filled === this.data.length, 'the snapshot image was not filled exactly');
    this.finished = true;
    return this.data;
  }

  /** Gives the snapshot up (the writer stops its copy-on-write). */
  abort(): void {
    if (this.finished) return;
    this.finished = true;
    this.writer?.abort();
    this.writer = null;
    this.data = null;
    this.pieces.length = 0;
  }

  /** Copies up to `budget` bytes of the current piece into `data`; returns how many. */
  private copySome(data: Uint8Array, budget: number): number {
    const piece = this.pieces[this.copyPiece]!;
    const count = Math.min(budget, piece.length - this.copyOffset);
    data.set(piece.subarray(this.copyOffset, this.copyOffset + count), this.filled);
    this.filled += count;
    this.copyOffset += count;
    if (this.copyOffset === piece.length) {
      this.pieces[this.copyPiece] = emptyPiece;
      this.copyPiece += 1;
      this.copyOffset = 0;
    }
    // An empty piece costs no bytes but must still end the loop eventually.
    return Math.max(count, piece.length === 0 ? 1 : 0);
  }
}
