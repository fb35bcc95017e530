import { malformedInput } from '../malformed.js';
import type { RecordedOperation } from '../model.js';

/** Output of an operation whose result is unknown (timed out, `info`, never completed). */
export const UNKNOWN = -1;
/** Outputs of a cas. */
export const CAS_FAILED = 0;
export const CAS_OK = 1;

/** True when the result of the operation is not known: it may match any state. */
export function resultUnknown(operation: RecordedOperation): boolean {
  return operation.completion === 'info' || operation.completion === 'open';
}

/** A cas output: `ok` succeeded, `fail` ran and found a different value (Jepsen), else unknown. */
export function casOutput(operation: RecordedOperation): number {
  if (operation.completion === 'ok') return CAS_OK;
  if (operation.completion === 'fail') return CAS_FAILED;
  return UNKNOWN;
}

/** The `[expected, new]` argument of a cas. */
export function casArguments(operation: RecordedOperation): readonly [unknown, unknown] {
  const argument = operation.argument;
  if (!Array.isArray(argument) || argument.length !== 2) {
    throw malformedInput(operation.location, 'a cas argument [expected, new]', JSON.stringify(argument) ?? 'undefined');
  }
  return [argument[0], argument[1]];
}

/** Whether a read that returned `output` can have seen the value id `current` (an unknown output matches every value). */
export function readMatches(current: number, output: number): boolean {
  return output === UNKNOWN || output === current;
}

/**
 * A cas on the value id `current`: the value id after it, or undefined when `output` contradicts
 * `current` (it succeeded though the value differed, or failed though it matched).
 */
export function casStep(current: number, expected: number, replacement: number, output: number): number | undefined {
  if (current === expected) return output === CAS_FAILED ? undefined : replacement;
  return output === CAS_OK ? undefined : current;
}

export function unsupportedOperation(operation: RecordedOperation, model: string, supported: readonly string[]): never {
  throw malformedInput(operation.location, `one of the ${model} model's operations (${supported.join(', ')})`, operation.f);
}

export function describeCasOutput(output: number): string {
  return output === CAS_OK ? 'ok' : output === CAS_FAILED ? 'fail' : '?';
}
