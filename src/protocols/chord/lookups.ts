import { assert, ErrorCode } from '../../core/errors.js';
import type { NodeId } from '../../core/ids.js';
import type { ChordConfig } from './config.js';
import type { ChordId } from './ids.js';
import { ChordErrorCode, type ChordMessage, type LookupPurpose } from './types.js';
import { nodeListMax } from './validate.js';

/** One step of `find_successor` answered at a node: the owner, or a closer node to ask next. */
export type FindAnswer = { readonly type: 'found'; readonly owner: NodeId } | { readonly type: 'next'; readonly next: NodeId };

export interface LookupResult {
  readonly purpose: LookupPurpose;
  readonly detail: number;
  readonly key: ChordId;
}

/** What the lookup table needs from its node. */
export interface LookupHost {
  readonly id: NodeId;
  send(to: NodeId, message: ChordMessage): void;
  setTimer(timer: string, afterTicks: number | null): void;
  /** The answer this node itself gives to `find(key)` (the step it would send a peer). */
  answer(key: ChordId, avoid: readonly NodeId[]): FindAnswer;
  found(result: LookupResult, owner: NodeId, hops: number): void;
  failed(result: LookupResult, code: string): void;
}

interface Lookup extends LookupResult {
  readonly seq: number;
  /** The node asked now (this node itself while resolving locally). */
  current: NodeId;
  /** Nodes asked before `current`, to back up to when it does not answer. */
  readonly path: NodeId[];
  /** Nodes that timed out or refused: skipped by every later step of this lookup. */
  readonly avoid: NodeId[];
  /** Remote queries so far (retries included). */
  hops: number;
}

const timerPrefix = 'lookup:';

/**
 * Iterative lookups (§4.4, "iterative style"): the originator asks one node per hop and waits at
 * most `hopTimeoutTicks` for it. A hop that times out (or a node that is not in a ring) is added to
 * the lookup's avoid list and the previous node is asked again, so the route goes around a failed
 * node; after `hopsMax` queries, or with nobody left to back up to, the lookup ends with a typed
 * error (HOP_LIMIT, TIMEOUT). A lookup never waits forever.
 */
export class LookupTable {
  private readonly lookups = new Map<number, Lookup>();
  private nextSeq = 1;

  constructor(private readonly host: LookupHost, private readonly config: ChordConfig) {}

  get size(): number {
    return this.lookups.size;
  }

  /** Starts a lookup at `start` (null: this node); false when `lookupsMax` are in flight. */
  start(result: LookupResult, start: NodeId | null): boolean {
    if (this.lookups.size >= this.config.lookupsMax) return false;
    const lookup: Lookup = { ...result, seq: this.nextSeq++, current: this.host.id, path: [], avoid: [], hops: 0 };
    this.lookups.set(lookup.seq, lookup);
    if (start === null || start === this.host.id) this.resolveHere(lookup);
    else this.ask(lookup, start);
    return true;
  }

  /** True when `message` belonged to the lookup protocol (handled). */
  onMessage(from: NodeId, message: ChordMessage): boolean {
    if (message.type !== 'found' && message.type !== 'next' && message.type !== 'refuse') return false;
    const lookup = this.lookups.get(message.lookup);
    // A late or duplicated answer from a node no longer asked is ignored.
    if (lookup === undefined || lookup.current !== from) return true;
    if (message.type === 'found') this.finish(lookup, message.owner);
    else if (message.type === 'next') this.advance(lookup, message.next);
    else this.backUp(lookup);
    return true;
  }

  onTimer(timer: string): boolean {
    if (!timer.startsWith(timerPrefix)) return false;
    const lookup = this.lookups.get(Number(timer.slice(timerPrefix.length)));
    if (lookup !== undefined) this.backUp(lookup);
    return true;
  }

  private resolveHere(lookup: Lookup): void {
    lookup.current = this.host.id;
    const answer = this.host.answer(lookup.key, lookup.avoid);
    if (answer.type === 'found') this.finish(lookup, answer.owner);
    else this.advance(lookup, answer.next);
  }

  private advance(lookup: Lookup, next: NodeId): void {
    lookup.path.push(lookup.current);
    if (next === this.host.id) this.resolveHere(lookup);
    else this.ask(lookup, next);
  }

  private ask(lookup: Lookup, node: NodeId): void {
    assert(node !== this.host.id, 'a lookup asks itself locally, not by message');
    lookup.hops += 1;
    if (lookup.hops > this.config.hopsMax) {
      this.fail(lookup, ChordErrorCode.HopLimit);
      return;
    }
    lookup.current = node;
    this.host.send(node, { type: 'find', lookup: lookup.seq, key: lookup.key, avoid: [...lookup.avoid] });
    this.host.setTimer(`${timerPrefix}${lookup.seq}`, this.config.hopTimeoutTicks);
  }

  /** `current` did not answer (or is not in a ring): avoid it and ask the node before it again. */
  private backUp(lookup: Lookup): void {
    if (lookup.current === this.host.id) return;
    lookup.avoid.push(lookup.current);
    if (lookup.avoid.length > nodeListMax) lookup.avoid.shift();
    const previous = lookup.path.pop();
    if (previous === undefined) this.fail(lookup, ErrorCode.Timeout);
    else if (previous === this.host.id) this.resolveHere(lookup);
    else this.ask(lookup, previous);
  }

  private finish(lookup: Lookup, owner: NodeId): void {
    this.end(lookup);
    this.host.found(lookup, owner, lookup.hops);
  }

  private fail(lookup: Lookup, code: string): void {
    this.end(lookup);
    this.host.failed(lookup, code);
  }

  private end(lookup: Lookup): void {
    this.lookups.delete(lookup.seq);
    this.host.setTimer(`${timerPrefix}${lookup.seq}`, null);
  }
}
