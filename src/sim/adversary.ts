import type { Envelope } from '../core/envelope.js';
import { assertNever } from '../core/errors.js';
import type { NodeId } from '../core/ids.js';
import type { Rng } from '../core/rng.js';

/**
 * Byzantine behaviour (seed 003 §3.1, seed 004 §3.1): a pluggable adversary intercepts every
 * message a Byzantine node's core sends and decides what actually leaves — the message, an
 * altered one, several different ones, or nothing. The core itself stays the honest code; the
 * adversary sits between it and the network, like a compromised host.
 */
export interface Adversary<M> {
  readonly name: string;
  /**
   * Returns what the node actually sends instead of `envelope`: the envelope (unchanged or
   * altered), several envelopes, or null to withhold it. `from` is always the Byzantine node —
   * transports authenticate senders, so an adversary cannot impersonate another node.
   */
  intercept(envelope: Envelope<M>, context: AdversaryContext): Envelope<M> | readonly Envelope<M>[] | null;
}

export interface AdversaryContext {
  readonly rng: Rng;
  readonly nowUs: number;
  /** Every node of the run, in stable order. */
  readonly nodes: readonly NodeId[];
}

/** Produces a wrong-but-well-typed variant of a message (protocol-supplied for meaningful lies). */
export type MessageMutator<M> = (message: M, rng: Rng) => M;

export type ByzantineMode = 'corrupt' | 'equivocate' | 'withhold';
export const byzantineModes: readonly ByzantineMode[] = ['corrupt', 'equivocate', 'withhold'];

export interface AdversaryOptions<M> {
  readonly mode: ByzantineMode;
  /** How messages are altered (default `structuralMutate`). */
  readonly mutate?: MessageMutator<M>;
  /** corrupt: probability each message is altered (default 0.5). */
  readonly corruptRatio?: number;
  /** withhold: the peers this node stays silent towards (default: drawn, about half). */
  readonly victims?: readonly NodeId[];
}

/** Builds one of the standard adversaries. */
export function createAdversary<M>(options: AdversaryOptions<M>, self: NodeId, nodes: readonly NodeId[], rng: Rng): Adversary<M> {
  const mutate = options.mutate ?? (structuralMutate as MessageMutator<M>);
  switch (options.mode) {
    case 'corrupt': {
      const ratio = options.corruptRatio ?? 0.5;
      return {
        name: 'corrupt',
        intercept: (envelope, context) =>
          context.rng.chance(ratio) ? { from: envelope.from, to: envelope.to, message: mutate(envelope.message, context.rng) } : envelope,
      };
    }
    case 'equivocate':
      // Each recipient independently gets the true message or a lie: recipients of one broadcast
      // are told different things, the essence of equivocation.
      return {
        name: 'equivocate',
        intercept: (envelope, context) =>
          context.rng.chance(0.5) ? envelope : { from: envelope.from, to: envelope.to, message: mutate(envelope.message, context.rng) },
      };
    case 'withhold': {
      const others = nodes.filter((node) => node !== self);
      const victims = new Set(options.victims ?? rng.shuffle(others).slice(0, Math.max(1, Math.floor(others.length / 2))));
      return { name: `withhold(${[...victims].join(',')})`, intercept: (envelope) => (victims.has(envelope.to) ? null : envelope) };
    }
    default:
      return assertNever(options.mode, 'byzantine mode');
  }
}

/**
 * A protocol-agnostic mutator: copies the message and alters one numeric, string or boolean field
 * (never `type`, so the result still belongs to the protocol's union). Messages with no such field
 * come back unchanged.
 */
export function structuralMutate<M>(message: M, rng: Rng): M {
  if (typeof message === 'number') return (message + 1 + rng.int(0, 9)) as M;
  if (typeof message === 'string') return `${message}~` as M;
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return message;
  const copy: Record<string, unknown> = { ...(message as Record<string, unknown>) };
  const keys = Object.keys(copy).filter((key) => key !== 'type' && ['number', 'string', 'boolean'].includes(typeof copy[key]));
  if (keys.length === 0) return message;
  const key = rng.pick(keys);
  const value = copy[key];
  if (typeof value === 'number') copy[key] = value + 1 + rng.int(0, 9);
  else if (typeof value === 'string') copy[key] = `${value}~`;
  else copy[key] = !value;
  return copy as M;
}
