/**
 * A Jepsen-style operation history: each client process invokes an operation and later
 * completes it with `ok` (it happened, with this result), `fail` (it did not take effect — except
 * a failed `cas`, which ran and returned false), or `info` (unknown: it may or may not have taken
 * effect, and stays open to the end of the history). A process never reuses its id after `info`.
 *
 * Exported as JSON lines, one `HistoryEvent` per line.
 */
export type HistoryEventType = 'invoke' | 'ok' | 'fail' | 'info';

export interface HistoryEvent {
  /** Client process id. */
  readonly process: number;
  readonly type: HistoryEventType;
  /** Operation name: read, write, cas, get, put, append, delete, add, enqueue, dequeue … */
  readonly f: string;
  /** Key for keyed models; absent for a single register. */
  readonly key?: string;
  /**
   * On invoke: the argument (write value, `[expected, new]` for cas). On ok: the result (read
   * value). `null` means nil / absent.
   */
  readonly value: unknown;
  /** Time in nanoseconds (virtual in the simulator, monotonic wall time in real runs). */
  readonly time: number;
  /** Optional error code for fail / info. */
  readonly error?: string;
}

export function historyToJsonLines(history: readonly HistoryEvent[]): string {
  return history.map((event) => JSON.stringify(event)).join('\n') + (history.length > 0 ? '\n' : '');
}

/** Records a history; completions are matched to the process's open invocation. */
export class HistoryRecorder {
  private readonly events: HistoryEvent[] = [];
  private readonly open = new Map<number, HistoryEvent>();

  invoke(event: { process: number; f: string; key?: string; value: unknown; time: number }): void {
    if (this.open.has(event.process)) throw new Error(`process ${event.process} already has an open operation`);
    const recorded: HistoryEvent = { ...event, type: 'invoke' };
    this.open.set(event.process, recorded);
    this.events.push(recorded);
  }

  complete(event: { process: number; type: 'ok' | 'fail' | 'info'; value: unknown; time: number; error?: string }): void {
    const invocation = this.open.get(event.process);
    if (invocation === undefined) throw new Error(`process ${event.process} has no open operation`);
    this.open.delete(event.process);
    const recorded: HistoryEvent = { process: event.process, type: event.type, f: invocation.f, value: event.value, time: event.time };
    this.events.push({
      ...recorded,
      ...(invocation.key !== undefined ? { key: invocation.key } : {}),
      ...(event.error !== undefined ? { error: event.error } : {}),
    });
  }

  /** Processes with an operation still open. */
  openProcesses(): number[] {
    return [...this.open.keys()];
  }

  history(): readonly HistoryEvent[] {
    return this.events;
  }
}
