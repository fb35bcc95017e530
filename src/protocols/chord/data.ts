import { ErrorCode } from '../../core/errors.js';
import type { NodeId, RequestId } from '../../core/ids.js';
import type { OutputBuilder } from '../../core/protocol.js';
import type { ChordConfig } from './config.js';
import { chordId, inHalfOpenInterval } from './ids.js';
import { ChordErrorCode, type ChordMessage, type ChordRecord, type ChordReply, type Item, type LookupPurpose } from './types.js';

/** What the key store needs from the ring layer of its node. */
export interface RingAccess {
  readonly id: NodeId;
  readonly out: OutputBuilder<ChordMessage, ChordRecord, ChordReply>;
  /** Sends (or, to itself, handles locally after the current input). */
  send(to: NodeId, message: ChordMessage): void;
  /** True when this node is the key's successor as far as it knows (it has a predecessor and the key lies in (predecessor, self]). */
  owns(key: string): boolean;
  /** The next r − 1 successors (the key's replicas when this node owns it). */
  replicas(): readonly NodeId[];
  /** The predecessor, if known. */
  readonly predecessor: NodeId | null;
  startLookup(key: number, purpose: LookupPurpose, detail: number): boolean;
}

/** Newer: higher version; equal versions break by value, so every replica settles on the same item. */
export const newerItem = (a: Item, b: Item): boolean => (a.version !== b.version ? a.version > b.version : a.value > b.value);

interface ClientOperation {
  readonly requestId: RequestId;
  readonly kind: 'put' | 'get';
  readonly key: string;
  readonly item: Item | null;
  owner: NodeId | null;
  hops: number;
}

interface OwnerWrite {
  readonly origin: NodeId;
  readonly op: number;
  readonly item: Item;
  readonly waiting: Set<NodeId>;
}

const operationTimer = (op: number): string => `op:${op}`;
const ownerTimer = (name: string): string => `own:${name}`;
const ownerTimerPrefix = 'own:';
const resendTimer = 'resend';

/**
 * The key-value layer: a put or get is routed by a lookup to the key's successor (the owner),
 * which syncs the item, copies it to its next r − 1 successors, and acknowledges when all of them
 * synced it. Items move to a joining node from its successor, to a node's new predecessor, and the
 * owner re-sends its keys to its replicas periodically (re-replication after failures).
 */
export class ChordStore {
  private readonly items = new Map<string, Item>();
  /** Keys whose current item was persisted lazily (re-synced before an acknowledgement depends on it). */
  private readonly lazyKeys = new Set<string>();
  private readonly operations = new Map<number, ClientOperation>();
  private readonly ownerWrites = new Map<string, OwnerWrite>();
  private nextOperation = 1;

  constructor(private readonly ring: RingAccess, private readonly config: ChordConfig) {}

  // ----- inspection -----

  item(key: string): Item | undefined {
    return this.items.get(key);
  }

  get size(): number {
    return this.items.size;
  }

  get activeOperations(): number {
    return this.operations.size + this.ownerWrites.size;
  }

  recover(record: ChordRecord): void {
    if (record.type === 'item') this.accept(record.item);
  }

  // ----- storing -----

  private accept(item: Item): boolean {
    const known = this.items.get(item.key);
    if (known !== undefined && !newerItem(item, known)) return false;
    this.items.set(item.key, item);
    return true;
  }

  /** Keeps `item` if newer; `sync`: the caller acknowledges it next, so its record must be synced. */
  offer(item: Item, sync: boolean): void {
    if (this.accept(item)) {
      this.ring.out.persist({ type: 'item', item }, { sync });
      if (sync) this.lazyKeys.delete(item.key);
      else this.lazyKeys.add(item.key);
    } else if (sync && this.lazyKeys.has(item.key)) {
      this.ring.out.persist({ type: 'item', item: this.items.get(item.key)! }, { sync: true });
      this.lazyKeys.delete(item.key);
    }
  }

  /** Sends `to` every item not in (to, self] — what it holds as owner or replica once it precedes us. */
  handOver(to: NodeId): void {
    if (this.config.testingBugs.noKeyTransfer) return;
    const self = chordId(this.ring.id);
    const moving = [...this.items.values()].filter((item) => !inHalfOpenInterval(chordId(item.key), chordId(to), self));
    this.sendItems(to, moving);
  }

  /** Re-replication: the keys this node owns go to its replicas again (they keep the newer copy). */
  replicate(): void {
    const replicas = this.ring.replicas();
    if (this.ring.predecessor === null || replicas.length === 0) return;
    const owned = [...this.items.values()].filter((item) => this.ring.owns(item.key));
    for (const replica of replicas) this.sendItems(replica, owned);
  }

  private sendItems(to: NodeId, items: readonly Item[]): void {
    for (let start = 0; start < items.length; start += this.config.itemsBatchMax) this.ring.send(to, { type: 'items', items: items.slice(start, start + this.config.itemsBatchMax) });
  }

  // ----- client operations (at the node a client asked) -----

  /** A validated put or get: look the key's owner up. */
  begin(requestId: RequestId, kind: 'put' | 'get', key: string, item: Item | null): void {
    if (this.operations.size >= this.config.lookupsMax) {
      this.ring.out.reply(requestId, { type: 'error', code: ErrorCode.Overloaded, message: 'too many operations in progress' });
      return;
    }
    const op = this.nextOperation++;
    // Registered before the lookup starts: a lookup this node answers itself finishes at once.
    this.operations.set(op, { requestId, kind, key, item, owner: null, hops: 0 });
    this.ring.out.setTimer(operationTimer(op), this.config.operationTicks);
    if (!this.ring.startLookup(chordId(key), kind, op)) this.finish(op, { type: 'error', code: ErrorCode.Overloaded, message: 'too many lookups in progress' });
  }

  ownerFound(op: number, owner: NodeId, hops: number): void {
    const operation = this.operations.get(op);
    if (operation === undefined) return;
    operation.owner = owner;
    operation.hops = hops;
    if (operation.kind === 'put') this.ring.send(owner, { type: 'put', op, item: operation.item! });
    else this.ring.send(owner, { type: 'read', op, key: operation.key });
  }

  lookupFailed(op: number, code: string): void {
    this.finish(op, { type: 'error', code, message: 'the owner lookup failed; nothing was sent to an owner' });
  }

  private finish(op: number, reply: ChordReply): void {
    const operation = this.operations.get(op);
    if (operation === undefined) return;
    this.operations.delete(op);
    this.ring.out.setTimer(operationTimer(op), null);
    this.ring.out.reply(operation.requestId, reply);
  }

  /** True when `timer` was one of the store's (and is handled). */
  onTimer(timer: string): boolean {
    if (timer === resendTimer) this.resendReplicas();
    else if (timer.startsWith('op:')) this.operationTimedOut(Number(timer.slice(3)));
    else if (timer.startsWith(ownerTimerPrefix)) this.ownerWriteTimedOut(timer.slice(ownerTimerPrefix.length));
    else return false;
    return true;
  }

  private operationTimedOut(op: number): void {
    const operation = this.operations.get(op);
    if (operation === undefined) return;
    const sent = operation.owner !== null && operation.kind === 'put';
    this.finish(op, { type: 'error', code: ErrorCode.Timeout, message: sent ? 'no answer from the owner: the put may be stored' : 'no answer in time' });
  }

  // ----- messages -----

  onMessage(from: NodeId, message: ChordMessage): boolean {
    switch (message.type) {
      case 'put':
        this.onPut(from, message.op, message.item);
        return true;
      case 'put-done':
        this.onPutDone(from, message.op, message.code);
        return true;
      case 'read':
        this.ring.send(from, this.ring.owns(message.key) ? { type: 'read-done', op: message.op, code: 'ok', item: this.items.get(message.key) ?? null } : { type: 'read-done', op: message.op, code: 'not-owner', item: null });
        return true;
      case 'read-done':
        this.onReadDone(from, message.op, message.code, message.item);
        return true;
      case 'replicate':
        this.offer(message.item, true);
        this.ring.send(from, { type: 'replicated', op: message.op });
        return true;
      case 'replicated':
        this.onReplicated(from, message.op);
        return true;
      case 'items':
        for (const item of message.items) this.offer(item, false);
        return true;
      case 'transfer-request':
        this.handOver(from);
        return true;
      default:
        return false;
    }
  }

  private onPut(origin: NodeId, op: number, item: Item): void {
    const name = `${origin}/${op}`;
    if (this.ownerWrites.has(name)) return; // a duplicate: the first one answers
    if (!this.ring.owns(item.key) || this.ownerWrites.size >= this.config.lookupsMax) {
      this.ring.send(origin, { type: 'put-done', op, code: 'not-owner' });
      return;
    }
    this.offer(item, true);
    const write: OwnerWrite = { origin, op, item, waiting: new Set(this.ring.replicas()) };
    if (write.waiting.size === 0) {
      this.ring.send(origin, { type: 'put-done', op, code: 'stored' });
      return;
    }
    this.ownerWrites.set(name, write);
    for (const replica of write.waiting) this.ring.send(replica, { type: 'replicate', op: this.ownerOp(name), item });
    this.ring.out.setTimer(ownerTimer(name), Math.max(1, Math.floor(this.config.operationTicks / 2)));
    this.ring.out.setTimer(resendTimer, this.config.resendTicks);
  }

  /** Replicas acknowledge by an op number local to the owner (origins' op numbers may collide). */
  private readonly ownerOps = new Map<number, string>();
  private nextOwnerOp = 1;
  private ownerOp(name: string): number {
    const op = this.nextOwnerOp++;
    this.ownerOps.set(op, name);
    return op;
  }

  private onReplicated(from: NodeId, op: number): void {
    const name = this.ownerOps.get(op);
    const write = name === undefined ? undefined : this.ownerWrites.get(name);
    if (write === undefined || !write.waiting.delete(from) || write.waiting.size > 0) return;
    this.endOwnerWrite(name!, 'stored');
  }

  private ownerWriteTimedOut(name: string): void {
    if (this.ownerWrites.has(name)) this.endOwnerWrite(name, 'partial');
  }

  private endOwnerWrite(name: string, code: 'stored' | 'partial'): void {
    const write = this.ownerWrites.get(name)!;
    this.ownerWrites.delete(name);
    for (const [op, owned] of this.ownerOps) if (owned === name) this.ownerOps.delete(op);
    this.ring.out.setTimer(ownerTimer(name), null);
    this.ring.send(write.origin, { type: 'put-done', op: write.op, code });
  }

  private resendReplicas(): void {
    if (this.ownerWrites.size === 0) return;
    for (const [op, name] of this.ownerOps) {
      const write = this.ownerWrites.get(name)!;
      for (const replica of write.waiting) this.ring.send(replica, { type: 'replicate', op, item: write.item });
    }
    this.ring.out.setTimer(resendTimer, this.config.resendTicks);
  }

  private onPutDone(from: NodeId, op: number, code: 'stored' | 'partial' | 'not-owner'): void {
    const operation = this.operations.get(op);
    if (operation === undefined || operation.owner !== from || operation.kind !== 'put') return;
    if (code === 'stored') this.finish(op, { type: 'ok', hops: operation.hops });
    else if (code === 'partial') this.finish(op, { type: 'error', code: ErrorCode.Timeout, message: 'stored at the owner; not every replica confirmed' });
    else this.finish(op, { type: 'error', code: ChordErrorCode.NotOwner, message: `${from} does not own the key (the ring is changing): not stored` });
  }

  private onReadDone(from: NodeId, op: number, code: 'ok' | 'not-owner', item: Item | null): void {
    const operation = this.operations.get(op);
    if (operation === undefined || operation.owner !== from || operation.kind !== 'get') return;
    if (code === 'not-owner') this.finish(op, { type: 'error', code: ChordErrorCode.NotOwner, message: `${from} does not own the key (the ring is changing)` });
    else this.finish(op, item === null || item.key !== operation.key ? { type: 'value', value: null, version: 0 } : { type: 'value', value: item.value, version: item.version });
  }
}
