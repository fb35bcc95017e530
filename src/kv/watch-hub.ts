import { ConcordError, ErrorCode } from '../core/errors.js';
import type { KvChange, KvStateMachine } from '../protocols/raft/kv.js';
import type { WatchEvent, WatchHandle, WatchHandlers } from './api.js';

interface Watcher {
  readonly prefix: string;
  /** Next revision this watcher has not seen. */
  next: number;
  readonly handlers: WatchHandlers;
}

/** Changes pulled from the state machine per check (the rest follow on the next check). */
const maxChangesPerCheck = 4096;

/**
 * Fans the state machine's recent-changes log out to watchers. `check()` runs after every batch
 * of inputs (runtime `afterInputs`); it costs one integer comparison when nothing was applied or
 * nobody watches. A watcher asking for history older than the kept changes gets `COMPACTED`.
 */
export class WatchHub {
  private readonly watchers = new Set<Watcher>();
  private seenRevision = -1;

  constructor(
    private readonly stateMachine: () => KvStateMachine,
    private readonly hiddenPrefix: string,
  ) {}

  get size(): number {
    return this.watchers.size;
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): WatchHandle {
    const machine = this.stateMachine();
    const watcher: Watcher = { prefix, next: fromRevision === 0 ? machine.revision + 1 : fromRevision, handlers };
    this.watchers.add(watcher);
    const handle = { cancel: () => this.watchers.delete(watcher) };
    if (watcher.next <= machine.revision) {
      // Replay history the state machine still keeps, then follow live changes.
      queueMicrotask(() => this.catchUp(watcher));
    }
    return handle;
  }

  /** Delivers everything applied since the last check. */
  check(): void {
    if (this.watchers.size === 0) return;
    const machine = this.stateMachine();
    if (machine.revision === this.seenRevision) return;
    this.seenRevision = machine.revision;
    let oldest = Number.POSITIVE_INFINITY;
    for (const watcher of this.watchers) oldest = Math.min(oldest, watcher.next);
    if (oldest > machine.revision) return;
    const changes = machine.changesSince(oldest, '', maxChangesPerCheck);
    for (const watcher of this.watchers) this.deliver(watcher, changes);
    if (changes.events.length === maxChangesPerCheck) this.seenRevision = -1; // more to pull next time
  }

  closeAll(reason: Error): void {
    for (const watcher of [...this.watchers]) {
      this.watchers.delete(watcher);
      watcher.handlers.onError(reason);
    }
  }

  private catchUp(watcher: Watcher): void {
    if (!this.watchers.has(watcher)) return;
    const machine = this.stateMachine();
    this.deliver(watcher, machine.changesSince(watcher.next, '', maxChangesPerCheck));
  }

  private deliver(watcher: Watcher, changes: { readonly events: readonly KvChange[]; readonly compactedBefore: number | null; readonly revision: number }): void {
    if (watcher.next > changes.revision) return;
    if (changes.compactedBefore !== null && watcher.next < changes.compactedBefore) {
      this.watchers.delete(watcher);
      watcher.handlers.onError(new ConcordError(ErrorCode.Compacted, `changes before revision ${changes.compactedBefore} are no longer kept; re-read and watch from a later revision`, { compactedBefore: changes.compactedBefore }));
      return;
    }
    const events: WatchEvent[] = [];
    let last = watcher.next - 1;
    for (const change of changes.events) {
      if (change.revision < watcher.next) continue;
      last = change.revision;
      if (!change.key.startsWith(watcher.prefix)) continue;
      if (change.key.startsWith(this.hiddenPrefix) && !watcher.prefix.startsWith(this.hiddenPrefix)) continue;
      events.push(change.type === 'put'
        ? { type: 'put', key: change.key, value: change.value ?? '', revision: change.revision }
        : { type: 'delete', key: change.key, revision: change.revision });
    }
    // Revisions without a change record for this watcher (other prefixes) are skipped too.
    watcher.next = changes.events.length === maxChangesPerCheck ? last + 1 : changes.revision + 1;
    if (events.length > 0) watcher.handlers.onEvents(events);
  }
}
