import { assert } from '../../core/errors.js';
import { fnv1a32 } from '../../core/hash.js';
import { decodeJson, encodeJson, RollingDigest, type StateMachine } from './state-machine.js';

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

/** Fixed per-command overhead in the size estimate (op tag, framing). */
const commandOverheadBytes = 24;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Records and ring slots are long-lived and updated in place (overwriting a key allocates
 * nothing that outlives the step), which keeps the garbage collector's old generation quiet;
 * everything handed out (results, query answers, change events) is a copy.
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

  restore(data: Uint8Array): void {
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
