import { readdir, readFile, truncate, writeFile } from 'node:fs/promises';
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
