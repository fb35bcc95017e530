import { assert } from '../core/errors.js';

/**
 * The simulator's single event queue: a binary min-heap ordered by (time, sequence). The sequence
 * number is assigned at push time, so events scheduled for the same instant pop in the order they
 * were scheduled — the stable order that makes a run reproducible.
 *
 * This is the hot path of every simulation, so it is written for speed rather than generality:
 * events live in a struct-of-arrays slot pool (typed arrays, no object per event), and the heap
 * itself is an `Int32Array` of slot numbers, so a sift moves one integer instead of an object.
 *
 * An event is `(time, kind, node, aux, aux2, payload)`; the meaning of the fields belongs to the
 * user (the `Simulation` uses kind = event type, node = target node index, aux = sender index or
 * timer generation, aux2 = incarnation or send time, payload = message / timer name / callback).
 *
 * Use: `const slot = queue.pop()`, read `queue.time[slot]`, `queue.kind[slot]` … then
 * `queue.release(slot)` **before** pushing new events (a released slot is reused by the next push).
 *
 * Bound: the queue grows by doubling up to `capacityMax` pending events (default 8 Mi, ~400 MB);
 * a push beyond it throws
 * (a simulation that floods its queue is a bug in the scenario, not something to hide).
 */
export class EventQueue {
  /** Virtual time of each slot's event. */
  time: Float64Array;
  /** Push order of each slot's event (the tie-breaker). */
  seq: Float64Array;
  kind: Uint8Array;
  node: Int32Array;
  aux: Int32Array;
  aux2: Float64Array;
  payload: unknown[];

  private heap: Int32Array;
  private freeSlots: Int32Array;
  private freeCount: number;
  private heapSize = 0;
  private nextSeq = 0;
  private capacity: number;

  constructor(
    initialCapacity = 1024,
    readonly capacityMax = 1 << 23,
  ) {
    assert(initialCapacity >= 1 && initialCapacity <= capacityMax, 'event queue capacity out of range');
    this.capacity = initialCapacity;
    this.time = new Float64Array(initialCapacity);
    this.seq = new Float64Array(initialCapacity);
    this.kind = new Uint8Array(initialCapacity);
    this.node = new Int32Array(initialCapacity);
    this.aux = new Int32Array(initialCapacity);
    this.aux2 = new Float64Array(initialCapacity);
    this.payload = new Array<unknown>(initialCapacity).fill(undefined);
    this.heap = new Int32Array(initialCapacity);
    this.freeSlots = new Int32Array(initialCapacity);
    for (let index = 0; index < initialCapacity; index += 1) this.freeSlots[index] = initialCapacity - 1 - index;
    this.freeCount = initialCapacity;
  }

  /** Number of pending events. */
  get size(): number {
    return this.heapSize;
  }

  /** Number of events ever pushed (the next sequence number). */
  get pushed(): number {
    return this.nextSeq;
  }

  /** Schedules an event. `time` must be a finite number. */
  push(time: number, kind: number, node: number, aux: number, aux2: number, payload: unknown): void {
    if (this.freeCount === 0) this.grow();
    const slot = this.freeSlots[--this.freeCount]!;
    this.time[slot] = time;
    this.seq[slot] = this.nextSeq++;
    this.kind[slot] = kind;
    this.node[slot] = node;
    this.aux[slot] = aux;
    this.aux2[slot] = aux2;
    this.payload[slot] = payload;
    this.siftUp(this.heapSize++, slot);
  }

  /** Time of the earliest event, or `Infinity` when empty. */
  peekTime(): number {
    return this.heapSize === 0 ? Infinity : this.time[this.heap[0]!]!;
  }

  /** Removes the earliest event and returns its slot (read its fields, then `release` it); -1 when empty. */
  pop(): number {
    if (this.heapSize === 0) return -1;
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap[--this.heapSize]!;
    if (this.heapSize > 0) this.siftDown(last);
    return top;
  }

  /** Returns a popped slot to the pool (drops its payload reference). */
  release(slot: number): void {
    this.payload[slot] = undefined;
    this.freeSlots[this.freeCount++] = slot;
  }

  /** Drops every pending event. */
  clear(): void {
    while (this.heapSize > 0) this.release(this.heap[--this.heapSize]!);
  }

  private siftUp(position: number, slot: number): void {
    const heap = this.heap;
    const time = this.time;
    const seq = this.seq;
    const slotTime = time[slot]!;
    const slotSeq = seq[slot]!;
    while (position > 0) {
      const parentPosition = (position - 1) >> 1;
      const parent = heap[parentPosition]!;
      const parentTime = time[parent]!;
      if (parentTime < slotTime || (parentTime === slotTime && seq[parent]! < slotSeq)) break;
      heap[position] = parent;
      position = parentPosition;
    }
    heap[position] = slot;
  }

  /** Places `slot` (the former last element) starting from the root. */
  private siftDown(slot: number): void {
    const heap = this.heap;
    const time = this.time;
    const seq = this.seq;
    const size = this.heapSize;
    const slotTime = time[slot]!;
    const slotSeq = seq[slot]!;
    let position = 0;
    for (;;) {
      let child = 2 * position + 1;
      if (child >= size) break;
      let childSlot = heap[child]!;
      let childTime = time[childSlot]!;
      const right = child + 1;
      if (right < size) {
        const rightSlot = heap[right]!;
        const rightTime = time[rightSlot]!;
        if (rightTime < childTime || (rightTime === childTime && seq[rightSlot]! < seq[childSlot]!)) {
          child = right;
          childSlot = rightSlot;
          childTime = rightTime;
        }
      }
      if (slotTime < childTime || (slotTime === childTime && slotSeq < seq[childSlot]!)) break;
      heap[position] = childSlot;
      position = child;
    }
    heap[position] = slot;
  }

  private grow(): void {
    const oldCapacity = this.capacity;
    assert(oldCapacity < this.capacityMax, () => `event queue full: ${oldCapacity} pending events (capacityMax)`);
    const capacity = Math.min(oldCapacity * 2, this.capacityMax);
    this.time = growFloat(this.time, capacity);
    this.seq = growFloat(this.seq, capacity);
    const kind = new Uint8Array(capacity);
    kind.set(this.kind);
    this.kind = kind;
    this.node = growInt(this.node, capacity);
    this.aux = growInt(this.aux, capacity);
    this.aux2 = growFloat(this.aux2, capacity);
    for (let index = oldCapacity; index < capacity; index += 1) this.payload.push(undefined);
    this.heap = growInt(this.heap, capacity);
    this.freeSlots = growInt(this.freeSlots, capacity);
    for (let slot = capacity - 1; slot >= oldCapacity; slot -= 1) this.freeSlots[this.freeCount++] = slot;
    this.capacity = capacity;
  }
}

function growFloat(array: Float64Array, capacity: number): Float64Array {
  const grown = new Float64Array(capacity);
  grown.set(array);
  return grown;
}

function growInt(array: Int32Array, capacity: number): Int32Array {
  const grown = new Int32Array(capacity);
  grown.set(array);
  return grown;
}
