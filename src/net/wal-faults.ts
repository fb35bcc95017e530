import { open, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConcordError, ErrorCode } from '../core/errors.js';
import { parseSegmentFileName, recordHeaderBytes, scanSegment } from './wal-format.js';

/**
 * Disk-fault helpers for the fault-injection harness (run against a stopped node's WAL
 * directory). They know the on-disk format so the harness does not have to.
 */
export interface WalRecordLocation {
  /** Full path of the segment file. */
  readonly file: string;
  /** Byte offset of the record header and the end of its payload. */
  readonly start: number;
  readonly end: number;
}

/** Every valid record of every segment, oldest first. */
export async function walRecordLocations(dir: string, maxRecordBytes = 64 * 1024 * 1024): Promise<WalRecordLocation[]> {
  const names = (await readdir(dir)).filter((name) => parseSegmentFileName(name) !== null).sort();
  const locations: WalRecordLocation[] = [];
  for (const name of names) {
    const file = join(dir, name);
    const scanned = scanSegment(await readFile(file), maxRecordBytes);
    scanned.offsets.forEach((start, index) => locations.push({ file, start, end: start + recordHeaderBytes + scanned.payloads[index]!.length }));
  }
  return locations;
}

/**
 * A torn final write: truncates the last segment inside its last record at `fraction` (0..1) of
 * the record. On open the WAL cuts that record and reports it. Returns where it cut.
 */
export async function tearFinalRecord(dir: string, fraction: number): Promise<{ file: string; offset: number }> {
  const last = (await walRecordLocations(dir)).at(-1);
  if (last === undefined) throw new ConcordError(ErrorCode.NotFound, `no WAL record in ${dir}`);
  const offset = Math.min(last.end - 1, last.start + 1 + Math.floor(Math.max(0, Math.min(1, fraction)) * (last.end - last.start - 1)));
  await truncate(last.file, offset);
  return { file: last.file, offset };
}

/**
 * A torn write that was never acknowledged: the crash cut the *next* record while it was being
 * written. Appends the first bytes of a copy of the last record (cut at `fraction` of it, at least
 * one byte short) right after it. On open the WAL must cut those bytes and report them, and every
 * real record survives — unlike `tearFinalRecord`, which destroys a record that may have been
 * fsynced and acknowledged (a fault outside Raft's model: a follower losing an entry it acknowledged
 * can leave a committed entry on a minority). Returns where the torn bytes start.
 */
export async function appendTornRecord(dir: string, fraction: number): Promise<{ file: string; offset: number; bytes: number }> {
  const last = (await walRecordLocations(dir)).at(-1);
  if (last === undefined) throw new ConcordError(ErrorCode.NotFound, `no WAL record in ${dir}`);
  const record = (await readFile(last.file)).subarray(last.start, last.end);
  const bytes = Math.max(1, Math.min(record.length - 1, Math.floor(Math.max(0, Math.min(1, fraction)) * record.length)));
  const handle = await open(last.file, 'r+');
  try {
    await handle.write(record, 0, bytes, last.end);
    await handle.truncate(last.end + bytes);
  } finally {
    await handle.close();
  }
  return { file: last.file, offset: last.end, bytes };
}

/**
 * Bit rot: flips one bit inside the payload of the record `fromEnd` places before the last one
 * (0 = the last record). The WAL must then refuse to open with CORRUPT_RECORD naming the file and
 * the record's offset. Returns the record's location.
 */
export async function flipBitInRecord(dir: string, fromEnd: number, bit = 0): Promise<WalRecordLocation> {
  const locations = await walRecordLocations(dir);
  const target = locations[locations.length - 1 - fromEnd];
  if (target === undefined) throw new ConcordError(ErrorCode.NotFound, `no WAL record ${fromEnd} from the end in ${dir}`);
  const bytes = await readFile(target.file);
  const position = target.start + recordHeaderBytes + Math.floor((target.end - target.start - recordHeaderBytes) / 2);
  bytes[position]! ^= 1 << (bit % 8);
  await writeFile(target.file, bytes);
  return target;
}
