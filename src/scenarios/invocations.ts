import type { HistoryEvent } from '../core/history.js';

/**
 * Incremental reading of a client history for safety checkers: each new invocation, and each
 * `ok` completion paired with the value its operation was invoked with.
 */
export class InvocationReader {
  private seen = 0;
  private readonly openByProcess = new Map<number, unknown>();

  /** Only operations named `f` count when given. */
  constructor(private readonly f?: string) {}

  /** Reads the events not read yet; stops at (and returns) the first problem `ok` reports. */
  read(history: readonly HistoryEvent[], handlers: { invoke(value: unknown): void; ok(invoked: unknown, result: unknown): string | null }): string | null {
    for (; this.seen < history.length; this.seen += 1) {
      const event = history[this.seen]!;
      if (this.f !== undefined && event.f !== this.f) continue;
      if (event.type === 'invoke') {
        handlers.invoke(event.value);
        this.openByProcess.set(event.process, event.value);
        continue;
      }
      const invoked = this.openByProcess.get(event.process);
      this.openByProcess.delete(event.process);
      if (event.type !== 'ok' || invoked === undefined) continue;
      const problem = handlers.ok(invoked, event.value);
      if (problem !== null) {
        this.seen += 1;
        return problem;
      }
    }
    return null;
  }
}
