import { describe, expect, it } from 'vitest';
import { isConcordError, ErrorCode } from '../../src/core/errors.js';
import { getScenario } from '../../src/scenarios/index.js';
import { runSweep } from '../../src/scenarios/sweep.js';
import { defineScenario } from '../../src/sim/runner.js';
import { FloodCore, type FloodMessage } from './test-cores.js';

const ping = getScenario('ping');

describe('scenario ping', () => {
  it('same seed → identical trace hash, history and stats; different seeds differ', () => {
    const a = ping.run({ seed: 7 });
    const b = ping.run({ seed: 7 });
    expect(b.traceHash).toBe(a.traceHash);
    expect(b.history).toEqual(a.history);
    expect(b.stats).toEqual(a.stats);
    expect(b.settings).toEqual(a.settings);
    expect(a.history.length).toBeGreaterThan(10);
    const hashes = new Set([7, 8, 9, 10, 11].map((seed) => ping.run({ seed }).traceHash));
    expect(hashes.size).toBe(5);
  });

  it('holds its properties and reaches liveness under every fault, Byzantine nodes included', () => {
    for (let seed = 1; seed <= 12; seed += 1) {
      const result = ping.run({ seed, nodes: 7, faults: ['crash', 'partition', 'loss', 'dup', 'reorder', 'drift', 'pause', 'omission', 'slow', 'byzantine'], durationMs: 5000 });
      expect(result.violations, `seed ${seed}`).toEqual([]);
      expect(result.liveness.held).toBe(true);
      expect(Object.keys(result.settings.byzantine).length).toBeGreaterThanOrEqual(1);
    }
  });

  it('regression: a one-node cluster (no peer to ping) runs clean — seed 100 used to throw', () => {
    for (const seed of [99, 100]) {
      const result = ping.run({ seed, nodes: 1, faults: ['crash', 'partition', 'loss', 'dup', 'reorder', 'drift', 'pause', 'omission', 'slow', 'byzantine'] });
      expect(result.violations).toEqual([]);
    }
  });

  it('runs on a sparse topology: non-links drop as no-link, liveness covers linked pairs only', () => {
    const result = ping.run({ seed: 4, nodes: 6, topology: 'ring' });
    expect(result.violations).toEqual([]);
    expect(result.settings.topology).toBe('ring');
    expect(result.stats.drops.noLink).toBeGreaterThan(0);
    expect(result.liveness.held).toBe(true);
  });

  it('records a well-formed history with virtual times in nanoseconds', () => {
    const { history } = ping.run({ seed: 3, durationMs: 3000 });
    let previous = 0;
    const open = new Set<number>();
    for (const event of history) {
      expect(event.time).toBeGreaterThanOrEqual(previous);
      expect(event.time % 1000).toBe(0);
      previous = event.time;
      if (event.type === 'invoke') {
        expect(open.has(event.process)).toBe(false);
        open.add(event.process);
      } else {
        expect(open.delete(event.process)).toBe(true);
      }
    }
  });

  it('rejects bad options with INVALID_ARGUMENT', () => {
    const invalid = (run: () => unknown): void => {
      try {
        run();
        expect.unreachable();
      } catch (error) {
        expect(isConcordError(error, ErrorCode.InvalidArgument)).toBe(true);
      }
    };
    invalid(() => ping.run({ seed: -1 }));
    invalid(() => ping.run({ seed: 1, nodes: 0 }));
    invalid(() => ping.run({ seed: 1, durationMs: 0 }));
    invalid(() => ping.run({ seed: 1, timing: 'bogus' as never }));
    invalid(() => ping.run({ seed: 1, topology: 'hypercube' as never }));
    invalid(() => getScenario('no-such-scenario'));
  });
});

describe('scenario runner', () => {
  it('the canary’s deliberately wrong invariant is caught by an in-process sweep', async () => {
    const outcomes = await runSweep({ scenario: 'ping-canary', fromSeed: 1, seeds: 4, workers: 0, options: { durationMs: 3000 } });
    expect(outcomes.map((outcome) => outcome.seed)).toEqual([1, 2, 3, 4]);
    const failing = outcomes.filter((outcome) => outcome.violations.length > 0);
    expect(failing.length).toBeGreaterThan(0);
    expect(failing[0]!.violations[0]!.checker).toMatch(/no-unexpected-echo/);
  });

  it('an exception thrown by a core becomes a violation with its virtual time', () => {
    const scenario = defineScenario<FloodCore, FloodMessage, never, never, never>({
      name: 'throws',
      description: 'a core that breaks an assertion on its 50th message',
      defaults: { nodes: 3, faults: [] },
      build: () => ({
        factory: (context) => {
          const core = new FloodCore(context);
          const step = core.step.bind(core);
          core.step = (input) => {
            if (core.received.length >= 50) throw new Error('assertion broken');
            return step(input);
          };
          return core;
        },
      }),
    });
    const result = scenario.run({ seed: 1 });
    expect(result.violations).toHaveLength(1);
    expect(result.violations[0]).toMatchObject({ checker: 'exception', message: 'Error: assertion broken', phase: 'faults' });
    expect(result.violations[0]!.timeUs).toBeGreaterThan(0);
  });

  it('a liveness condition that never holds is reported after its bound', () => {
    const scenario = defineScenario<FloodCore, FloodMessage, never, never, never>({
      name: 'never-live',
      description: 'liveness that cannot hold',
      defaults: { nodes: 3, faults: ['crash'], durationMs: 500, livenessBoundMs: 200 },
      build: () => ({
        factory: (context) => new FloodCore(context, 10),
        liveness: { description: 'n1 hears from n4 (there is no n4)', begin: (view) => () => view.core('n1')?.receivedFrom.has('n4') ?? false },
      }),
    });
    const result = scenario.run({ seed: 2 });
    expect(result.liveness).toMatchObject({ held: false, boundMs: 200 });
    expect(result.violations).toEqual([
      { timeUs: 700_000, checker: 'liveness', message: 'not within 200ms after healing: n1 hears from n4 (there is no n4)', phase: 'heal' },
    ]);
  });

  it('safety checkers see every node’s core after every event and can stop the run', () => {
    let calls = 0;
    const scenario = defineScenario<FloodCore, FloodMessage, never, never, never>({
      name: 'counting',
      description: 'a checker that fails at the 100th delivery',
      defaults: { nodes: 3, faults: [] },
      build: () => ({
        factory: (context) => new FloodCore(context),
        checkers: [
          {
            name: 'fewer-than-100',
            check: (view) => {
              calls += 1;
              const total = view.nodeIds.reduce((sum, id) => sum + (view.core(id)?.received.length ?? 0), 0);
              return total >= 100 ? `delivered ${total}` : null;
            },
          },
        ],
      }),
    });
    const result = scenario.run({ seed: 1 });
    expect(result.violations).toMatchObject([{ checker: 'fewer-than-100', message: 'delivered 100' }]);
    expect(calls).toBe(result.stats.events);
  });
});
