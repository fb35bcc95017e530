import { assert } from '../core/errors.js';

export interface BackoffOptions {
  readonly delayMsMin: number;
  readonly delayMsMax: number;
  /** Uniform draw in [0, 1); injected so tests are deterministic. */
  readonly random: () => number;
}

/**
 * Jittered exponential backoff, bounded: attempt k waits a uniform draw in
 * [cap/2, cap] where cap = min(delayMsMax, delayMsMin · 2^k). The jitter keeps nodes that lost a
 * peer at the same moment from redialling in lockstep; the floor of cap/2 keeps the delay growing.
 */
export class Backoff {
  private attempt = 0;

  constructor(private readonly options: BackoffOptions) {
    assert(options.delayMsMin > 0 && options.delayMsMax >= options.delayMsMin, 'backoff needs 0 < delayMsMin <= delayMsMax');
  }

  get attempts(): number {
    return this.attempt;
  }

  nextDelayMs(): number {
    const cap = Math.min(this.options.delayMsMax, this.options.delayMsMin * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return cap / 2 + (cap / 2) * this.options.random();
  }

  reset(): void {
    this.attempt = 0;
  }
}
