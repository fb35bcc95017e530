import { performance } from 'node:perf_hooks';
import { ConcordError, ErrorCode } from '../core/errors.js';
import { isNodeId, type NodeId } from '../core/ids.js';
import type { LinkFaults } from '../net/link-faults.js';

/**
 * Fault injection for the fault harness (issue "fault tolerance of the real service"), reachable
 * over HTTP only when a node runs with `--enable-fault-injection` (never by default):
 *
 * - a **clock** the runtime counts ticks with: `offsetMs` jumps it, `rate` makes it run fast or
 *   slow (rate < 1 stretches this node's ticks, the dangerous case for lease reads);
 * - the transport's **link faults**: block traffic to/from peers (the partition fallback when
 *   network namespaces are unavailable).
 */
export class FaultClock {
  private originMs = performance.now();
  private baseMs = this.originMs;
  private rate = 1;
  private offsetMs = 0;

  readonly now = (): number => this.baseMs + (performance.now() - this.originMs) * this.rate + this.offsetMs;

  /** Changes rate and/or adds an offset from now on; time stays continuous except for the offset. */
  set(options: { readonly offsetMs?: number; readonly rate?: number }): void {
    const current = this.now() - this.offsetMs;
    this.originMs = performance.now();
    this.baseMs = current;
    if (options.rate !== undefined) this.rate = options.rate;
    if (options.offsetMs !== undefined) this.offsetMs += options.offsetMs;
  }

  describe(): { rate: number; offsetMs: number } {
    return { rate: this.rate, offsetMs: this.offsetMs };
  }
}

export interface FaultControls {
  readonly clock: FaultClock;
  readonly links: LinkFaults;
  readonly members: () => readonly NodeId[];
}

function invalid(message: string): ConcordError {
  return new ConcordError(ErrorCode.InvalidArgument, message);
}

/** Applies one fault request body; returns the fault state afterwards. */
export function applyFaultRequest(controls: FaultControls, kind: string, body: Record<string, unknown>): unknown {
  switch (kind) {
    case 'clock': {
      const offsetMs = body.offsetMs;
      const rate = body.rate;
      if (offsetMs !== undefined && (typeof offsetMs !== 'number' || !Number.isFinite(offsetMs) || Math.abs(offsetMs) > 86_400_000)) throw invalid('offsetMs must be a number of milliseconds (|offset| ≤ 1 day)');
      if (rate !== undefined && (typeof rate !== 'number' || !(rate > 0 && rate <= 100))) throw invalid('rate must be in (0, 100]');
      controls.clock.set({ offsetMs: offsetMs as number | undefined, rate: rate as number | undefined });
      break;
    }
    case 'links': {
      if (body.heal === true) {
        controls.links.heal();
        break;
      }
      const direction = body.direction ?? 'both';
      if (direction !== 'both' && direction !== 'inbound' && direction !== 'outbound') throw invalid('direction must be both, inbound or outbound');
      const peers = body.isolate === true ? controls.members() : body.block;
      if (!Array.isArray(peers) || !peers.every((peer) => isNodeId(peer))) throw invalid('give "block": [node ids], "isolate": true or "heal": true');
      for (const peer of peers as NodeId[]) controls.links.block(peer, direction);
      break;
    }
    default:
      throw new ConcordError(ErrorCode.NotFound, `no fault kind ${kind} (clock, links)`);
  }
  return describeFaults(controls);
}

export function describeFaults(controls: FaultControls): unknown {
  return { clock: controls.clock.describe(), links: controls.links.describe() };
}
