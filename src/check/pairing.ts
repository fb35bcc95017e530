import type { HistoryEvent } from '../core/history.js';
import { malformedInput, type InputLocation } from './malformed.js';
import type { RecordedOperation } from './model.js';

export interface PairingOptions {
  /** File name for error messages. */
  readonly file?: string;
  /** 1-based source line of each event, for error messages. */
  readonly lines?: readonly number[];
}

interface OpenInvocation {
  readonly event: HistoryEvent;
  readonly index: number;
}

/**
 * Pairs each invocation with its process's next completion. `info` completions and invocations
 * never completed stay open to the end (`return = Infinity`): they may or may not take effect.
 * Throws MALFORMED_INPUT for a completion without an invocation, a second invocation while one is
 * open, or a completion whose `f` differs from its invocation's.
 */
export function pairEvents(events: readonly HistoryEvent[], options: PairingOptions = {}): RecordedOperation[] {
  const where = (index: number): InputLocation =>
    options.lines !== undefined ? { file: options.file, line: options.lines[index] } : { file: options.file, eventIndex: index };
  const open = new Map<number, OpenInvocation>();
  const slots: (RecordedOperation | OpenInvocation)[] = [];
  const slotOf = new Map<OpenInvocation, number>();
  for (let index = 0; index < events.length; index++) {
    const event = events[index]!;
    const current = open.get(event.process);
    if (event.type === 'invoke') {
      if (current !== undefined) {
        throw malformedInput(where(index), `a completion of process ${event.process}'s open ${current.event.f} before its next invocation`, `invoke ${event.f}`);
      }
      const invocation = { event, index };
      open.set(event.process, invocation);
      slotOf.set(invocation, slots.length);
      slots.push(invocation);
      continue;
    }
    if (current === undefined) throw malformedInput(where(index), `an invocation by process ${event.process} before this ${event.type}`, `${event.type} ${event.f}`);
    if (current.event.f !== event.f) throw malformedInput(where(index), `a completion of ${current.event.f} (process ${event.process})`, `${event.type} ${event.f}`);
    open.delete(event.process);
    if (event.time < current.event.time) throw malformedInput(where(index), `a completion time ≥ its invocation's (${current.event.time})`, String(event.time));
    slots[slotOf.get(current)!] = record(current, event, where(current.index));
  }
  return slots.map((slot) => ('process' in slot ? slot : record(slot, undefined, where(slot.index))));
}

function record(invocation: OpenInvocation, completion: HistoryEvent | undefined, location: InputLocation): RecordedOperation {
  const invoke = invocation.event;
  const type = completion === undefined ? 'open' : completion.type;
  return {
    process: invoke.process,
    f: invoke.f,
    key: invoke.key,
    argument: invoke.value,
    completion: type === 'invoke' ? 'open' : type,
    result: completion?.value,
    error: completion?.error,
    call: invoke.time,
    return: completion === undefined || completion.type === 'info' ? Infinity : completion.time,
    invokeIndex: invocation.index,
    location,
  };
}
