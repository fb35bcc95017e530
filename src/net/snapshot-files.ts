import { crc32 } from 'node:zlib';
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ConcordError, ErrorCode } from '../core/errors.js';
import { fsyncDirectory, readFileIfExists, writeFileAtomic } from './atomic-file.js';

/** Where a checkpoint's large blob (a state-machine snapshot) lives, as a WAL record names it. */
export interface SnapshotFileRef {
  /** File name inside the snapshot directory (`snap-<16 digits>.snap`). */
  readonly file: string;
  readonly bytes: number;
  /** CRC-32 (zlib's) of the whole file: native, ~10 × faster than our JS CRC-32C on megabytes. */
  readonly crc32: number;
}

/**
 * How a durable log moves the blob of a checkpoint record out of the log and back in. The WAL
 * stays generic over its record type: the protocol says which part is the blob.
 */
export interface CheckpointBlobs<P> {
  /** Splits off the blob (null: keep the record whole). `stub(ref)` is the record to log instead. */
  detach(record: P): { readonly blob: Uint8Array; stub(ref: SnapshotFileRef): P } | null;
  /** For a recovered stub: the file it names and how to put the blob back (null: not a stub). */
  attach(record: P): { readonly ref: SnapshotFileRef; restore(blob: Uint8Array): P } | null;
}

const fileName = (number: number): string => `snap-${String(number).padStart(16, '0')}.snap`;

function parseFileName(name: string): number | null {
  const match = /^snap-(\d{16})\.snap$/.exec(name);
  return match === null ? null : Number(match[1]);
}

/**
 * Snapshot files of one node, one directory. Each is written atomically (temp file, fsync, rename,
 * fsync directory: see `writeFileAtomic`) before the WAL record that names it is written, so a
 * durable reference always finds its file; files no durable reference names (a crash between
 * the two writes, or superseded snapshots) are deleted.
 */
export class SnapshotFiles {
  private nextNumber = 1;

  private constructor(readonly dir: string) {}

  /** Opens the directory (created if missing): removes temp files left by a crash. */
  static async open(dir: string): Promise<SnapshotFiles> {
    await mkdir(dir, { recursive: true });
    const files = new SnapshotFiles(dir);
    const names = await readdir(dir);
    for (const name of names.filter((entry) => entry.endsWith('.tmp'))) await unlink(join(dir, name));
    const numbers = names.map(parseFileName).filter((number): number is number => number !== null);
    files.nextNumber = Math.max(0, ...numbers) + 1;
    return files;
  }

  /** A reference for `blob` under a fresh name (computed now; the file is written by `write`). */
  reference(blob: Uint8Array): SnapshotFileRef {
    const ref = { file: fileName(this.nextNumber), bytes: blob.length, crc32: crc32(blob) };
    this.nextNumber += 1;
    return ref;
  }

  async write(ref: SnapshotFileRef, blob: Uint8Array): Promise<void> {
    await writeFileAtomic(join(this.dir, ref.file), blob);
  }

  /** The file's bytes, checked against the reference; CORRUPT_RECORD if missing or damaged. */
  async read(ref: SnapshotFileRef): Promise<Buffer> {
    const path = join(this.dir, ref.file);
    const bytes = await readFileIfExists(path);
    const problem =
      bytes === null ? 'the file is missing'
        : bytes.length !== ref.bytes ? `${bytes.length} bytes instead of ${ref.bytes}`
          : crc32(bytes) !== ref.crc32 ? 'checksum mismatch' : null;
    if (problem !== null) {
      throw new ConcordError(ErrorCode.CorruptRecord, `corrupt snapshot file ${path}: ${problem}`, { file: path, offset: 0, reason: problem });
    }
    return bytes!;
  }

  /** Deletes every snapshot file except `keep` (null: all of them); returns the names deleted. */
  async removeAllBut(keep: string | null): Promise<string[]> {
    const doomed = (await readdir(this.dir)).filter((name) => parseFileName(name) !== null && name !== keep);
    for (const name of doomed) await unlink(join(this.dir, name));
    if (doomed.length > 0) await fsyncDirectory(this.dir);
    return doomed;
  }
}
