import { ConcordError, ErrorCode } from '../core/errors.js';
import type { Rng } from '../core/rng.js';

/**
 * Network timing models (seed 003 §1.2, seed 004 §1.2). Times are integer microseconds.
 *
 * - **synchronous**: every message is delivered within Δ (`deltaUs`): delay ∈ [delayUsMin, Δ].
 * - **asynchronous**: no bound; delays are heavy-tailed (`delayUsMin` plus a Pareto excess with
 *   scale `scaleUs` and shape `alpha`), capped only at `asyncDelayUsMax` to keep numbers finite.
 * - **partial** (partial synchrony, DLS "global stabilisation time"): before `gstUs` delays are
 *   heavy-tailed as in the asynchronous model, but a message sent before GST arrives by GST + Δ at
 *   the latest; a message sent at or after GST arrives within Δ.
 */
export type TimingModel =
  | { readonly kind: 'synchronous'; readonly delayUsMin: number; readonly deltaUs: number }
  | { readonly kind: 'asynchronous'; readonly delayUsMin: number; readonly scaleUs: number; readonly alpha: number }
  | {
      readonly kind: 'partial';
      readonly delayUsMin: number;
      readonly deltaUs: number;
      readonly gstUs: number;
      readonly scaleUs: number;
      readonly alpha: number;
    };

export type TimingModelKind = TimingModel['kind'];
export const timingModelKinds: readonly TimingModelKind[] = ['synchronous', 'asynchronous', 'partial'];

/** The asynchronous model's practical cap (1000 s of virtual time). */
export const asyncDelayUsMax = 1_000_000_000;

export function validateTimingModel(model: TimingModel): void {
  const bad = (why: string): never => {
    throw new ConcordError(ErrorCode.InvalidConfig, `timing model ${model.kind}: ${why}`);
  };
  if (!Number.isInteger(model.delayUsMin) || model.delayUsMin < 1) bad('delayUsMin must be an integer ≥ 1');
  if (model.kind !== 'asynchronous' && (!Number.isInteger(model.deltaUs) || model.deltaUs < model.delayUsMin)) {
    bad('deltaUs must be an integer ≥ delayUsMin');
  }
  if (model.kind !== 'synchronous') {
    if (!(model.scaleUs > 0) || !(model.alpha > 0)) bad('scaleUs and alpha must be positive');
  }
  if (model.kind === 'partial' && (!Number.isInteger(model.gstUs) || model.gstUs < 0)) bad('gstUs must be a non-negative integer');
}

/** The largest delay a message sent at `sendUs` can have under `model` (Infinity-like for async). */
export function delayBoundUs(model: TimingModel, sendUs: number): number {
  switch (model.kind) {
    case 'synchronous':
      return model.deltaUs;
    case 'asynchronous':
      return asyncDelayUsMax;
    case 'partial':
      return sendUs >= model.gstUs ? model.deltaUs : model.gstUs + model.deltaUs - sendUs;
  }
}

/**
 * Draws one message delay in microseconds (an integer ≥ delayUsMin) for a message sent at
 * `sendUs`; `factor` ≥ 1 stretches the delay of a slow link but never past the model's bound.
 */
export function sampleDelayUs(model: TimingModel, rng: Rng, sendUs: number, factor: number): number {
  let delay: number;
  switch (model.kind) {
    case 'synchronous':
      delay = model.delayUsMin + rng.next() * (model.deltaUs - model.delayUsMin);
      break;
    case 'asynchronous':
      delay = model.delayUsMin + rng.pareto(model.scaleUs, model.alpha) - model.scaleUs;
      break;
    case 'partial':
      delay =
        sendUs >= model.gstUs
          ? model.delayUsMin + rng.next() * (model.deltaUs - model.delayUsMin)
          : model.delayUsMin + rng.pareto(model.scaleUs, model.alpha) - model.scaleUs;
      break;
  }
  delay = Math.floor(delay * factor);
  const bound = delayBoundUs(model, sendUs);
  if (delay > bound) delay = bound;
  return delay < model.delayUsMin ? model.delayUsMin : delay;
}

/** One-line human description. */
export function describeTimingModel(model: TimingModel): string {
  const ms = (us: number): string => `${us / 1000}ms`;
  switch (model.kind) {
    case 'synchronous':
      return `synchronous (delay ${ms(model.delayUsMin)}..Δ=${ms(model.deltaUs)})`;
    case 'asynchronous':
      return `asynchronous (delay ≥ ${ms(model.delayUsMin)}, Pareto tail scale ${ms(model.scaleUs)} α=${model.alpha})`;
    case 'partial':
      return `partially synchronous (GST ${ms(model.gstUs)}, Δ=${ms(model.deltaUs)} after GST, Pareto tail before)`;
  }
}
