import { crc32c } from './crc32c.js';

/**
 * On-disk format of the write-ahead log.
 *
 * A segment file `wal-<number, 16 digits>.seg` starts with a 40-byte header:
 *
 *   0  "CNCRDWAL"        magic
 *   8  u32 LE            format version (1)
 *   12 u32 LE            reserved (0)
 *   16 u64 LE            segment number (matches the file name)
 *   24 u64 LE            sequence number of the segment's first record
 *   32 u32 LE            CRC-32C of bytes 0..32
 *   36 u32 LE            reserved (0)
 *
 * then records, each a 12-byte header and a payload (one MessagePack value):
 *
 *   0  u32 LE  payload length (1 .. maxRecordBytes)
 *   4  u32 LE  CRC-32C of the payload
 *   8  u32 LE  CRC-32C of bytes 0..8 (the header's own checksum)
 *
 * The separate header checksum matters for recovery: a bit flip in a length field is recognised
 * as damage instead of being trusted, so a damaged length can never make a torn-write verdict
 * swallow acknowledged records. A zero header fails its checksum, so zeros never look like a
 * record. After the last record a segment holds zeros (it is preallocated) or ends.
 */
export const segmentMagic = Buffer.from('CNCRDWAL', 'ascii');
export const segmentFormatVersion = 1;
export const segmentHeaderBytes = 40;
export const recordHeaderBytes = 12;
/** Torn-write detection granularity: disks persist whole sectors of at least this size. */
export const sectorBytes = 512;
/** A zero piece shorter than this inside a damaged record is not taken as evidence of a torn write. */
const minZeroPieceBytes = 64;

export interface SegmentHeader {
  readonly segmentNumber: number;
  readonly firstSeq: number;
}

export function segmentFileName(segmentNumber: number): string {
  return `wal-${String(segmentNumber).padStart(16, '0')}.seg`;
}

export function parseSegmentFileName(name: string): number | null {
  const match = /^wal-(\d{16})\.seg$/.exec(name);
  return match === null ? null : Number(match[1]);
}

export function encodeSegmentHeader(header: SegmentHeader): Buffer {
  const bytes = Buffer.alloc(segmentHeaderBytes);
  segmentMagic.copy(bytes, 0);
  bytes.writeUInt32LE(segmentFormatVersion, 8);
  bytes.writeBigUInt64LE(BigInt(header.segmentNumber), 16);
  bytes.writeBigUInt64LE(BigInt(header.firstSeq), 24);
  bytes.writeUInt32LE(crc32c(bytes, 0, 32), 32);
  return bytes;
}

/** The parsed header, or a reason it is not a valid header. */
export function decodeSegmentHeader(bytes: Buffer): SegmentHeader | string {
  if (bytes.length < segmentHeaderBytes) return `file shorter than the ${segmentHeaderBytes}-byte segment header`;
  if (!bytes.subarray(0, 8).equals(segmentMagic)) return 'bad segment magic';
  if (bytes.readUInt32LE(32) !== crc32c(bytes, 0, 32)) return 'segment header checksum mismatch';
  const version = bytes.readUInt32LE(8);
  if (version !== segmentFormatVersion) return `unsupported segment format version ${version}`;
  const segmentNumber = Number(bytes.readBigUInt64LE(16));
  const firstSeq = Number(bytes.readBigUInt64LE(24));
  if (!Number.isSafeInteger(segmentNumber) || !Number.isSafeInteger(firstSeq)) return 'segment header numbers out of range';
  return { segmentNumber, firstSeq };
}

/** Frames one payload as a record (header + payload) in a fresh buffer. */
export function encodeRecord(payload: Uint8Array): Buffer {
  const bytes = Buffer.allocUnsafe(recordHeaderBytes + payload.length);
  bytes.writeUInt32LE(payload.length, 0);
  bytes.writeUInt32LE(crc32c(payload), 4);
  bytes.writeUInt32LE(crc32c(bytes, 0, 8), 8);
  bytes.set(payload, recordHeaderBytes);
  return bytes;
}

/** How a segment's bytes end after its last valid record. */
export type SegmentTail =
  /** Nothing, or only zeros (preallocated space): a clean end. */
  | { readonly kind: 'clean' }
  /** An incomplete final write: safe to cut (it cannot have been acknowledged). */
  | { readonly kind: 'torn'; readonly offset: number; readonly reason: string }
  /**
   * Damage that a torn write does not explain: the log must not be served. `followedByValid`:
   * a valid record comes after the damage (then no override may cut it).
   */
  | { readonly kind: 'corrupt'; readonly offset: number; readonly reason: string; readonly followedByValid: boolean };

export interface ScannedSegment {
  /** Payloads of the valid records, in order (views into the segment buffer). */
  readonly payloads: Buffer[];
  /** Offsets of those records. */
  readonly offsets: number[];
  /** Offset just past the last valid record. */
  readonly validEnd: number;
  readonly tail: SegmentTail;
}

type RecordCheck =
  | { readonly ok: true; readonly length: number }
  | { readonly ok: false; readonly headerValid: boolean; readonly length: number; readonly reason: string; readonly pastEnd: boolean };

/** Checks the record at `offset` without trusting anything its checksums do not cover. */
export function checkRecordAt(bytes: Buffer, offset: number, maxRecordBytes: number): RecordCheck {
  if (bytes.length - offset < recordHeaderBytes) return { ok: false, headerValid: false, length: 0, reason: 'incomplete record header', pastEnd: true };
  const length = bytes.readUInt32LE(offset);
  if (bytes.readUInt32LE(offset + 8) !== crc32c(bytes, offset, offset + 8)) {
    return { ok: false, headerValid: false, length: 0, reason: 'record header checksum mismatch', pastEnd: false };
  }
  if (length === 0 || length > maxRecordBytes) return { ok: false, headerValid: false, length: 0, reason: `record length ${length} out of range`, pastEnd: false };
  const end = offset + recordHeaderBytes + length;
  if (end > bytes.length) return { ok: false, headerValid: true, length, reason: 'record extends past the end of the file', pastEnd: true };
  if (bytes.readUInt32LE(offset + 4) !== crc32c(bytes, offset + recordHeaderBytes, end)) {
    return { ok: false, headerValid: true, length, reason: 'record payload checksum mismatch', pastEnd: false };
  }
  return { ok: true, length };
}

/**
 * Reads every valid record of a segment (after its header) and classifies what follows them.
 *
 * The recovery rule, applied at the first invalid record (offset X):
 * 1. Only zeros from X to the end of the file → clean end.
 * 2. A valid record starts anywhere after X → **corrupt**: the damaged record was followed by a
 *    later write, and later writes only happen after the earlier batch was synced, so the damaged
 *    record had been acknowledged.
 * 3. Otherwise the damage is in the final write, and it is **torn** only when it shows the
 *    signature of an interrupted write — the header is incomplete, the record runs past the end
 *    of the file, the record header is all zeros, or a sector-aligned piece of the record of at
 *    least 64 bytes (or the part of a sector-straddling header in the later sector) is all zeros
 *    (the sector was never written; segments are preallocated with zeros).
 * 4. Anything else — a complete, non-zero final record whose checksum fails (a flipped bit) — is
 *    **corrupt**: it may have been acknowledged, so it is never silently dropped.
 */
export function scanSegment(bytes: Buffer, maxRecordBytes: number): ScannedSegment {
  const payloads: Buffer[] = [];
  const offsets: number[] = [];
  let offset = segmentHeaderBytes;
  while (offset < bytes.length) {
    const check = checkRecordAt(bytes, offset, maxRecordBytes);
    if (!check.ok) return { payloads, offsets, validEnd: offset, tail: classifyDamage(bytes, offset, check, maxRecordBytes) };
    offsets.push(offset);
    payloads.push(bytes.subarray(offset + recordHeaderBytes, offset + recordHeaderBytes + check.length));
    offset += recordHeaderBytes + check.length;
  }
  return { payloads, offsets, validEnd: offset, tail: { kind: 'clean' } };
}

function classifyDamage(bytes: Buffer, offset: number, check: Extract<RecordCheck, { ok: false }>, maxRecordBytes: number): SegmentTail {
  if (isZero(bytes, offset, bytes.length)) return { kind: 'clean' };
  const later = findValidRecordAfter(bytes, offset, maxRecordBytes);
  if (later !== null) {
    return { kind: 'corrupt', offset, reason: `${check.reason}, followed by a valid record at offset ${later}`, followedByValid: true };
  }
  if (check.pastEnd) return { kind: 'torn', offset, reason: check.reason };
  if (isZero(bytes, offset, offset + recordHeaderBytes)) return { kind: 'torn', offset, reason: 'zero record header followed by a partial write' };
  if (!check.headerValid) {
    const boundary = nextSectorBoundary(offset);
    if (boundary < offset + recordHeaderBytes && isZero(bytes, boundary, offset + recordHeaderBytes)) {
      return { kind: 'torn', offset, reason: 'record header cut at a sector boundary' };
    }
    return { kind: 'corrupt', offset, reason: `${check.reason} in the final record`, followedByValid: false };
  }
  if (hasZeroSectorPiece(bytes, offset, offset + recordHeaderBytes + check.length)) {
    return { kind: 'torn', offset, reason: `${check.reason}; an unwritten (zero) sector inside the record` };
  }
  return { kind: 'corrupt', offset, reason: `${check.reason} in the final record`, followedByValid: false };
}

function nextSectorBoundary(offset: number): number {
  return (Math.floor(offset / sectorBytes) + 1) * sectorBytes;
}

function hasZeroSectorPiece(bytes: Buffer, start: number, end: number): boolean {
  let pieceStart = start;
  while (pieceStart < end) {
    const pieceEnd = Math.min(end, nextSectorBoundary(pieceStart));
    if (pieceEnd - pieceStart >= minZeroPieceBytes && isZero(bytes, pieceStart, pieceEnd)) return true;
    pieceStart = pieceEnd;
  }
  return false;
}

const zeroChunk = Buffer.alloc(64 * 1024);

/** True when bytes[start, end) are all zero (native comparisons, chunk by chunk). */
export function isZero(bytes: Buffer, start: number, end: number): boolean {
  for (let position = start; position < end; position += zeroChunk.length) {
    const chunkEnd = Math.min(end, position + zeroChunk.length);
    if (!bytes.subarray(position, chunkEnd).equals(zeroChunk.subarray(0, chunkEnd - position))) return false;
  }
  return true;
}

/** Offset of the first byte after which only zeros follow (the end of the non-zero data). */
export function endOfNonZero(bytes: Buffer, start: number): number {
  let end = bytes.length;
  while (end > start) {
    const chunkStart = Math.max(start, end - zeroChunk.length);
    if (!isZero(bytes, chunkStart, end)) {
      for (let position = end - 1; position >= chunkStart; position -= 1) if (bytes[position] !== 0) return position + 1;
    }
    end = chunkStart;
  }
  return start;
}

/** The offset of the first valid record starting after `offset`, or null. Skips zero runs quickly. */
function findValidRecordAfter(bytes: Buffer, offset: number, maxRecordBytes: number): number | null {
  let candidate = offset + 1;
  const last = bytes.length - recordHeaderBytes;
  while (candidate <= last) {
    // A valid header has a non-zero length word, so candidates inside a zero run are skipped
    // exactly, in one native comparison per chunk.
    if (bytes[candidate] === 0 && bytes[candidate + 1] === 0 && bytes[candidate + 2] === 0 && bytes[candidate + 3] === 0) {
      candidate = Math.max(candidate + 1, firstNonZero(bytes, candidate) - 3);
      continue;
    }
    if (checkRecordAt(bytes, candidate, maxRecordBytes).ok) return candidate;
    candidate += 1;
  }
  return null;
}

function firstNonZero(bytes: Buffer, start: number): number {
  let position = start;
  while (position < bytes.length) {
    const chunkEnd = Math.min(bytes.length, position + zeroChunk.length);
    if (isZero(bytes, position, chunkEnd)) {
      position = chunkEnd;
      continue;
    }
    while (bytes[position] === 0) position += 1;
    return position;
  }
  return bytes.length;
}
