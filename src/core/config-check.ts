import { ConcordError, ErrorCode } from './errors.js';

/**
 * Throws INVALID_CONFIG naming the first of `names` that is not a positive safe integer in
 * `config` (protocol knobs counted in ticks, messages, bytes).
 */
export function requirePositiveIntegers<T extends object>(protocol: string, config: T, names: readonly (keyof T & string)[]): void {
  for (const name of names) {
    const value = config[name];
    if (!Number.isSafeInteger(value) || (value as number) < 1) throw new ConcordError(ErrorCode.InvalidConfig, `${protocol}: ${name} must be a positive integer`);
  }
}

/** `defaults` with `overrides` on top; `testingBugs` is merged switch by switch (one override keeps the rest off). */
export function withOverrides<T extends { readonly testingBugs: object }>(defaults: T, overrides: Partial<T>): T {
  return { ...defaults, ...overrides, testingBugs: { ...defaults.testingBugs, ...overrides.testingBugs } };
}
