import { assert } from '../../core/errors.js';
import { fnv1a32 } from '../../core/hash.js';
import { decodeJson, encodeJson, RollingDigest, type SnapshotWriter, type StateMachine } from './state-machine.js';

/**
 * The reference application: a key-value store with etcd-style revisions.
 * - The store's `revision` counts successful mutations (put, delete of a present key, successful
 *   cas); each record keeps `createRevision`, `modRevision` and `version` (writes since creation).
 * - `range` lists keys by prefix in byte order; `changes` returns the bounded recent-changes log
 *   from a revision on, the basis of a watch API.
 * Recent changes are bounded by `maxRecentChanges` (oldest dropped); a watcher asking for a
 * revision older than what is kept gets `compactedBefore` and must re-read.
 */

export type KvCommand =
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'delete'; readonly key: string }
  /** Succeeds when the current value equals `expected` (null: the key must be absent). */
  | { readonly op: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string };

export interface KvRecord {
  readonly key: string;
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
}

export type KvResult =
  | { readonly op: 'put'; readonly revision: number; readonly previous: KvRecord | null }
  | { readonly op: 'delete'; readonly revision: number; readonly deleted: boolean }
  /** `current` is the record after the operation: the new one on success, the existing one (or null) on failure. */
  | { readonly op: 'cas'; readonly revision: number; readonly succeeded: boolean; readonly current: KvRecord | null };

export type KvQuery =
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'range'; readonly prefix: string; readonly limit: number }
  | { readonly op: 'changes'; readonly fromRevision: number; readonly prefix: string; readonly limit: number };

export interface KvChange {
  readonly revision: number;
  readonly type: 'put' | 'delete';
  readonly key: string;
  /** The new value for a put; null for a delete. */
  readonly value: string | null;
}

export type KvQueryResult =
  | { readonly op: 'get'; readonly revision: number; readonly record: KvRecord | null }
  | { readonly op: 'range'; readonly revision: number; readonly records: readonly KvRecord[]; readonly more: boolean }
  /** `compactedBefore`: changes before this revision are no longer kept (null when none were dropped past `fromRevision`). */
  | {
      readonly op: 'changes';
      readonly revision: number;
      readonly events: readonly KvChange[];
      readonly compactedBefore: number | null;
    };

export interface KvTypes {
  readonly command: KvCommand;
  readonly result: KvResult;
  readonly query: KvQuery;
  readonly queryResult: KvQueryResult;
}

export interface KvOptions {
  /** Recent changes kept for watchers (a ring; oldest dropped). */
  readonly maxRecentChanges: number;
  /** Memoize write hashes per command object (for hosts that share one object among replicas). */
  readonly shareCommands: boolean;
}

export const defaultKvOptions: KvOptions = { maxRecentChanges: 10_000, shareCommands: true };

/**
 * Hash of a write's key and value, optionally memoized per command object: in the simulator every
 * replica applies the very same command object, so the value is hashed once instead of once per
 * replica. A real replica applies each (decoded) command once, where a WeakMap entry per write
 * costs more than it saves (insertion, plus ephemeron work in every young-generation GC).
 */
const contentHashes = new WeakMap<object, number>();

function hashContent(command: { readonly key: string; readonly value: string }): number {
  return fnv1a32(command.value, fnv1a32(command.key));
}

function memoizedContentHash(command: { readonly key: string; readonly value: string }): number {
  let hash = contentHashes.get(command);
  if (hash === undefined) {
    hash = hashContent(command);
    contentHashes.set(command, hash);
  }
  return hash;
}

const encoder = new TextEncoder();

/** Fixed per-command overhead in the size estimate (op tag, framing). */
const commandOverheadBytes = 24;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Records and ring slots are long-lived and updated in place (overwriting a key allocates
 * nothing that outlives the step), which keeps the garbage collector's old generation quiet;
 * everything handed out (results, query answers, change events) is a copy.
 *
 * Incremental snapshots (`beginSnapshot`) keep that: the writer holds the record objects and
 * the ring as they were at its start, and while it runs the first in-place change of a record or
 * ring slot saves a copy of the old value (a pre-image) first. A deleted record needs none: it
 * leaves the map untouched (a later put of its key makes a new object). With no snapshot in
 * progress the write path pays one null check.
 */
export class KvStateMachine implements StateMachine<KvTypes> {
  private records = new Map<string, Mutable<KvRecord>>();
  private revisionValue = 0;
  private rolling = new RollingDigest();
  /** Sorted keys for range queries, rebuilt lazily after the key set changes. */
  private sortedKeys: string[] | null = null;
  private changes: Mutable<KvChange>[] = [];
  /** Position of the oldest change in the `changes` ring. */
  private changesHead = 0;
  private droppedThrough = 0;
  private readonly maxRecentChanges: number;
  private readonly contentHash: (command: { readonly key: string; readonly value: string }) => number;
  /** The incremental snapshot in progress (its pre-images are kept), or null. */
  private writer: KvSnapshotWriter | null = null;

  constructor(options: Partial<KvOptions> = {}) {
    this.maxRecentChanges = options.maxRecentChanges ?? defaultKvOptions.maxRecentChanges;
    this.contentHash = (options.shareCommands ?? defaultKvOptions.shareCommands) ? memoizedContentHash : hashContent;
    assert(this.maxRecentChanges >= 1, 'maxRecentChanges must be at least 1');
  }

  get revision(): number {
    return this.revisionValue;
  }

  get size(): number {
    return this.records.size;
  }

  apply(command: KvCommand): KvResult {
    switch (command.op) {
      case 'put': {
        const { revision, previous } = this.write(command);
        return { op: 'put', revision, previous };
      }
      case 'delete':
        return this.remove(command.key);
      case 'cas':
        return this.compareAndSet(command);
    }
  }

  query(query: KvQuery): KvQueryResult {
    switch (query.op) {
      case 'get':
        return { op: 'get', revision: this.revisionValue, record: copyRecord(this.records.get(query.key)) };
      case 'range':
        return this.range(query.prefix, query.limit);
      case 'changes':
        return this.changesSince(query.fromRevision, query.prefix, query.limit);
    }
  }

  /** Changes with revision ≥ `fromRevision` and key starting with `prefix`, oldest first. */
  changesSince(fromRevision: number, prefix = '', limit = Number.POSITIVE_INFINITY): KvQueryResult & { op: 'changes' } {
    const events: KvChange[] = [];
    const kept = this.changes.length;
    for (let step = 0; step < kept && events.length < limit; step += 1) {
      const change = this.changes[(this.changesHead + step) % kept]!;
      if (change.revision >= fromRevision && change.key.startsWith(prefix)) events.push({ ...change });
    }
    const compactedBefore = fromRevision <= this.droppedThrough ? this.droppedThrough + 1 : null;
    return { op: 'changes', revision: this.revisionValue, events, compactedBefore };
  }

  snapshot(): Uint8Array {
    const ordered: KvChange[] = [];
    for (let step = 0; step < this.changes.length; step += 1) ordered.push(this.changes[(this.changesHead + step) % this.changes.length]!);
    return encodeJson({
      revision: this.revisionValue,
      digest: this.rolling.save(),
      records: [...this.records.values()],
      changes: ordered,
      droppedThrough: this.droppedThrough,
    });
  }

  /** The image `snapshot()` returns now, in pieces (see the class comment). One at a time. */
  beginSnapshot(): SnapshotWriter {
    assert(this.writer === null, 'a snapshot is already in progress');
    const writer = new KvSnapshotWriter({
      revision: this.revisionValue,
      digest: this.rolling.save(),
      droppedThrough: this.droppedThrough,
      records: [...this.records.values()],
      changes: this.changes,
      changesHead: this.changesHead,
      detach: () => {
        if (this.writer === writer) this.writer = null;
      },
    });
    this.writer = writer;
    return writer;
  }

  restore(data: Uint8Array): void {
    this.writer?.abort();
    const image = decodeJson(data) as {
      revision: number;
      digest: unknown;
      records: KvRecord[];
      changes: KvChange[];
      droppedThrough: number;
    };
    assert(Number.isInteger(image.revision) && Array.isArray(image.records) && Array.isArray(image.changes), 'bad KV snapshot');
    this.revisionValue = image.revision;
    this.rolling = RollingDigest.load(image.digest);
    this.records = new Map(image.records.map((record) => [record.key, { ...record }]));
    this.changes = image.changes.map((change) => ({ ...change }));
    this.changesHead = 0;
    this.droppedThrough = image.droppedThrough;
    this.sortedKeys = null;
  }

  digest(): string {
    return this.rolling.toString();
  }

  commandSizeBytes(command: KvCommand): number {
    switch (command.op) {
      case 'put':
        return commandOverheadBytes + command.key.length + command.value.length;
      case 'delete':
        return commandOverheadBytes + command.key.length;
      case 'cas':
        return commandOverheadBytes + command.key.length + command.value.length + (command.expected?.length ?? 0);
    }
  }

  validateCommand(command: KvCommand): string | null {
    if (typeof command !== 'object' || command === null) return 'command must be an object';
    if (typeof command.key !== 'string' || command.key.length === 0) return 'key must be a non-empty string';
    if (command.op === 'put' || command.op === 'cas') {
      if (typeof command.value !== 'string') return 'value must be a string';
    }
    if (command.op === 'cas' && command.expected !== null && typeof command.expected !== 'string') return 'expected must be a string or null';
    if (command.op !== 'put' && command.op !== 'delete' && command.op !== 'cas') return 'unknown op';
    return null;
  }

  private write(command: KvCommand & { op: 'put' | 'cas' }): { revision: number; previous: KvRecord | null } {
    const { key, value } = command;
    this.revisionValue += 1;
    const revision = this.revisionValue;
    const existing = this.records.get(key);
    let previous: KvRecord | null = null;
    if (existing === undefined) {
      this.records.set(key, { key, value, createRevision: revision, modRevision: revision, version: 1 });
      this.sortedKeys = null;
    } else {
      previous = { ...existing };
      // `previous` is a fresh copy of the old record: it doubles as the snapshot's pre-image.
      if (this.writer !== null) this.writer.beforeRecordUpdate(existing, previous);
      existing.value = value;
      existing.modRevision = revision;
      existing.version += 1;
    }
    this.recordChange(revision, 'put', key, value);
    this.rolling.add(this.contentHash(command) ^ revision);
    return { revision, previous };
  }

  private remove(key: string): KvResult {
    if (!this.records.has(key)) return { op: 'delete', revision: this.revisionValue, deleted: false };
    this.records.delete(key);
    this.sortedKeys = null;
    this.revisionValue += 1;
    this.recordChange(this.revisionValue, 'delete', key, null);
    this.rolling.add(fnv1a32(key, 0x2545f491) ^ this.revisionValue);
    return { op: 'delete', revision: this.revisionValue, deleted: true };
  }

  private compareAndSet(command: KvCommand & { op: 'cas' }): KvResult {
    const current = this.records.get(command.key) ?? null;
    const matches = current === null ? command.expected === null : current.value === command.expected;
    if (!matches) return { op: 'cas', revision: this.revisionValue, succeeded: false, current: copyRecord(current ?? undefined) };
    const { revision } = this.write(command);
    return { op: 'cas', revision, succeeded: true, current: copyRecord(this.records.get(command.key)) };
  }

  private range(prefix: string, limit: number): KvQueryResult {
    if (this.sortedKeys === null) this.sortedKeys = [...this.records.keys()].sort();
    const keys = this.sortedKeys;
    let low = 0;
    let high = keys.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (keys[middle]! < prefix) low = middle + 1;
      else high = middle;
    }
    const records: KvRecord[] = [];
    let position = low;
    while (position < keys.length && keys[position]!.startsWith(prefix) && records.length < limit) {
      records.push({ ...this.records.get(keys[position]!)! });
      position += 1;
    }
    const more = position < keys.length && keys[position]!.startsWith(prefix);
    return { op: 'range', revision: this.revisionValue, records, more };
  }

  private recordChange(revision: number, type: 'put' | 'delete', key: string, value: string | null): void {
    if (this.changes.length < this.maxRecentChanges) {
      this.changes.push({ revision, type, key, value });
      return;
    }
    // Full: overwrite the oldest slot in place.
    const slot = this.changes[this.changesHead]!;
    if (this.writer !== null) this.writer.beforeChangeOverwrite(slot);
    this.droppedThrough = slot.revision;
    slot.revision = revision;
    slot.type = type;
    slot.key = key;
    slot.value = value;
    this.changesHead = (this.changesHead + 1) % this.maxRecentChanges;
  }
}

function copyRecord(record: KvRecord | undefined): KvRecord | null {
  return record === undefined ? null : { ...record };
}

/** Rough JSON overhead of one record / change beyond its strings (field names, numbers), for slicing. */
const recordOverheadChars = 80;
const changeOverheadChars = 60;

type WriterPhase = 'head' | 'records' | 'middle' | 'changes' | 'tail' | 'done' | 'aborted';

interface KvSnapshotStart {
  readonly revision: number;
  readonly digest: [number, number];
  readonly droppedThrough: number;
  /** The record objects at the start, in map order (the order `snapshot()` writes them). */
  readonly records: readonly Mutable<KvRecord>[];
  /** The live ring (slots are overwritten in place; pushes land past its length at the start). */
  readonly changes: readonly Mutable<KvChange>[];
  readonly changesHead: number;
  /** Called once when the writer is done or aborted: the machine stops reporting changes to it. */
  readonly detach: () => void;
}

/**
 * Writes `snapshot()`'s JSON layout — `{"revision":…,"digest":…,"records":[…],"changes":[…],
 * "droppedThrough":…}` — a slice of records or changes at a time (one `JSON.stringify` per
 * slice), using the pre-image of anything changed since the start. The fixed parts come from
 * stringifying the same object with empty arrays, so they match `snapshot()` byte for byte.
 */
class KvSnapshotWriter implements SnapshotWriter {
  private phase: WriterPhase = 'head';
  private position = 0;
  private records: readonly Mutable<KvRecord>[];
  private readonly changesLength: number;
  private readonly recordPreImages = new Map<KvRecord, KvRecord>();
  private readonly changePreImages = new Map<KvChange, KvChange>();
  private readonly head: string;
  private readonly middle: string;
  private readonly tail: string;

  constructor(private readonly start: KvSnapshotStart) {
    this.records = start.records;
    this.changesLength = start.changes.length;
    const skeleton = JSON.stringify({ revision: start.revision, digest: start.digest, records: [], changes: [], droppedThrough: start.droppedThrough });
    const recordsAt = skeleton.indexOf('"records":[]') + '"records":['.length;
    const changesAt = skeleton.indexOf('"changes":[]', recordsAt) + '"changes":['.length;
    assert(recordsAt > 0 && changesAt > recordsAt, 'unexpected snapshot skeleton');
    this.head = skeleton.slice(0, recordsAt);
    this.middle = skeleton.slice(recordsAt, changesAt);
    this.tail = skeleton.slice(changesAt);
  }

  /** Before `record` (present at the start, or not) is updated in place; `old` is a copy of it. */
  beforeRecordUpdate(record: KvRecord, old: KvRecord): void {
    // modRevision ≤ the start's revision: this is the record's first change since the start.
    if (this.phase === 'head' || this.phase === 'records') {
      if (record.modRevision <= this.start.revision) this.recordPreImages.set(record, old);
    }
  }

  /** Before a ring slot is overwritten in place. */
  beforeChangeOverwrite(slot: KvChange): void {
    if (this.phase === 'done' || this.phase === 'tail' || this.phase === 'aborted') return;
    // A slot written since the start carries a later revision and is not in the image.
    if (slot.revision <= this.start.revision) this.changePreImages.set(slot, { ...slot });
  }

  next(maxBytes: number): Uint8Array | null {
    assert(this.phase !== 'aborted', 'the snapshot writer was aborted');
    assert(maxBytes >= 1, 'maxBytes must be positive');
    if (this.isDone()) return null;
    let text = '';
    while (text.length < maxBytes && !this.isDone()) text += this.advance(maxBytes - text.length);
    if (this.isDone()) this.start.detach();
    return encoder.encode(text);
  }

  abort(): void {
    if (this.phase === 'done' || this.phase === 'aborted') return;
    this.phase = 'aborted';
    this.release();
    this.start.detach();
  }

  private isDone(): boolean {
    return this.phase === 'done';
  }

  /** The next part of the text, about `budget` characters. */
  private advance(budget: number): string {
    switch (this.phase) {
      case 'head':
        this.phase = 'records';
        return this.head;
      case 'records':
        return this.recordSlice(budget);
      case 'middle':
        this.phase = 'changes';
        return this.middle;
      case 'changes':
        return this.changeSlice(budget);
      case 'tail':
        this.phase = 'done';
        this.release();
        return this.tail;
      case 'done':
      case 'aborted':
        return '';
    }
  }

  private recordSlice(budget: number): string {
    const from = this.position;
    const slice: KvRecord[] = [];
    let estimate = 0;
    while (this.position < this.records.length && estimate < budget) {
      const live = this.records[this.position]!;
      // A record changed since the start (and only such a record) has a pre-image.
      const record = live.modRevision > this.start.revision ? this.recordPreImages.get(live) : live;
      assert(record !== undefined, 'a record changed since the snapshot started has no pre-image');
      slice.push(record);
      estimate += record.key.length + record.value.length + recordOverheadChars;
      this.position += 1;
    }
    if (this.position >= this.records.length) {
      this.phase = 'middle';
      this.position = 0;
      this.records = [];
      this.recordPreImages.clear();
    }
    return joinSlice(slice, from === 0);
  }

  private changeSlice(budget: number): string {
    const from = this.position;
    const slice: KvChange[] = [];
    let estimate = 0;
    while (this.position < this.changesLength && estimate < budget) {
      const live = this.start.changes[(this.start.changesHead + this.position) % this.changesLength]!;
      const change = live.revision > this.start.revision ? this.changePreImages.get(live) : live;
      assert(change !== undefined, 'a ring slot changed since the snapshot started has no pre-image');
      slice.push(change);
      estimate += change.key.length + (change.value?.length ?? 4) + changeOverheadChars;
      this.position += 1;
    }
    if (this.position >= this.changesLength) {
      this.phase = 'tail';
      this.changePreImages.clear();
    }
    return joinSlice(slice, from === 0);
  }

  private release(): void {
    this.records = [];
    this.recordPreImages.clear();
    this.changePreImages.clear();
  }
}

/** The elements of `slice` as they appear inside a JSON array, with the separating comma unless first. */
function joinSlice(slice: readonly object[], first: boolean): string {
  if (slice.length === 0) return '';
  const json = JSON.stringify(slice);
  return (first ? '' : ',') + json.slice(1, -1);
}
