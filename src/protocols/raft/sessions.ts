import { assert } from '../../core/errors.js';
import type { ClientSession } from './types.js';
import { fnv1a32 } from '../../core/hash.js';
import { RollingDigest } from './state-machine.js';

/**
 * Client sessions (Raft thesis §6.3), part of the replicated state: for each client the last
 * applied sequence number and its result, so a retried command is answered from the table
 * instead of applied twice.
 *
 * Rules, applied identically on every replica:
 * - unknown client, sequence 1 → a new session; the command is applied;
 * - unknown client, sequence > 1 → `expired` (its session was evicted, or never existed): the
 *   command is *not* applied, so exactly-once is never silently broken;
 * - known client, sequence = last → `duplicate`: the cached result, not applied again;
 * - known client, sequence < last → `stale`: not applied (the client moved on);
 * - known client, sequence > last → applied; the session remembers the new result.
 * A client keeps one command in flight (the table caches one result per client).
 *
 * Bound and eviction: at most `maxSessions` sessions; opening one more evicts the least recently
 * used (by log order of its last command). Eviction is a function of the log, so every replica
 * evicts the same sessions.
 */
export type SessionCheck<R> =
  | { readonly kind: 'new' }
  | { readonly kind: 'duplicate'; readonly result: R }
  | { readonly kind: 'stale' }
  | { readonly kind: 'expired' };

interface SessionEntry<R> {
  sequence: number;
  result: R;
}

export class SessionTable<R> {
  /** Insertion order is recency order: a touched session is deleted and re-inserted. */
  private sessions = new Map<string, SessionEntry<R>>();
  private rolling = new RollingDigest();

  constructor(private readonly maxSessions: number) {
    assert(maxSessions >= 1, 'maxSessions must be at least 1');
  }

  get size(): number {
    return this.sessions.size;
  }

  check(session: ClientSession): SessionCheck<R> {
    const entry = this.sessions.get(session.clientId);
    if (entry === undefined) return session.sequence === 1 ? { kind: 'new' } : { kind: 'expired' };
    if (session.sequence === entry.sequence) return { kind: 'duplicate', result: entry.result };
    if (session.sequence < entry.sequence) return { kind: 'stale' };
    return { kind: 'new' };
  }

  /** Records the result of a newly applied command, evicting the least recently used session if full. */
  record(session: ClientSession, result: R): void {
    const existing = this.sessions.get(session.clientId);
    if (existing !== undefined) {
      assert(session.sequence > existing.sequence, 'session sequence must increase');
      this.sessions.delete(session.clientId);
    } else if (this.sessions.size >= this.maxSessions) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
    }
    this.sessions.set(session.clientId, { sequence: session.sequence, result });
    this.rolling.add(fnv1a32(session.clientId) ^ Math.imul(session.sequence, 0x27d4eb2d));
  }

  lastSequence(clientId: string): number | undefined {
    return this.sessions.get(clientId)?.sequence;
  }

  digest(): string {
    return this.rolling.toString();
  }

  /** JSON-able image (results must be JSON-able: they are part of the replicated state). */
  snapshot(): unknown {
    return { digest: this.rolling.save(), sessions: [...this.sessions].map(([clientId, entry]) => [clientId, entry.sequence, entry.result]) };
  }

  restore(image: unknown): void {
    const value = image as { digest: unknown; sessions: [string, number, R][] };
    assert(Array.isArray(value.sessions), 'bad session table image');
    this.sessions = new Map(value.sessions.map(([clientId, sequence, result]) => [clientId, { sequence, result }]));
    this.rolling = RollingDigest.load(value.digest);
  }
}
