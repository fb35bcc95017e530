import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { drawSchedule, type ScheduledAction } from '../../src/sim/nemesis.js';
import { resolveSettings } from '../../src/sim/runner.js';
import { baseDefaults, type ScenarioDefaults } from '../../src/sim/scenario.js';
import { faultNames, type RunSettings } from '../../src/sim/settings.js';

/** Settings as a scenario run resolves them: the base defaults, 7 nodes, every fault, up to 2 Byzantine nodes. */
function settingsFor(seed: number, overrides: Partial<ScenarioDefaults> = {}): RunSettings {
  const defaults: ScenarioDefaults = { ...baseDefaults, nodes: 7, faults: faultNames, livenessBoundMs: 5000, maxByzantineNodes: () => 2, ...overrides };
  return resolveSettings('test', defaults, { seed });
}

const schedule = (seed: number, settings = settingsFor(seed)): ScheduledAction[] => drawSchedule(settings, Rng.fromSeed(seed).split('nemesis'));
const describe_ = (actions: ScheduledAction[]): string => JSON.stringify(actions, (_key, value) => (value instanceof Uint8Array ? [...value] : value));

describe('nemesis', () => {
  it('is a pure function of the seed: same seed, same settings and schedule; other seeds differ', () => {
    expect(settingsFor(11)).toEqual(settingsFor(11));
    expect(describe_(schedule(11))).toBe(describe_(schedule(11)));
    const distinct = new Set(Array.from({ length: 20 }, (_, seed) => describe_(schedule(seed))));
    expect(distinct.size).toBe(20);
  });

  it('places faults so the system can recover: bounded faulty nodes, one partition at a time, all undone in the fault phase', () => {
    for (let seed = 0; seed < 200; seed += 1) {
      const settings = settingsFor(seed);
      const actions = schedule(seed, settings);
      const byzantine = Object.keys(settings.byzantine).length;
      expect(byzantine).toBeLessThanOrEqual(2);
      const faulty = new Map<string, string>();
      let partitioned = false;
      let previousUs = 0;
      for (const { atUs, action } of actions) {
        expect(atUs).toBeGreaterThanOrEqual(previousUs);
        expect(atUs).toBeLessThanOrEqual(settings.durationMs * 1000);
        previousUs = atUs;
        switch (action.kind) {
          case 'crash':
          case 'pause':
          case 'omission':
          case 'slow':
            expect(faulty.has(action.node)).toBe(false);
            expect(settings.byzantine[action.node]).toBeUndefined();
            faulty.set(action.node, action.kind);
            expect(faulty.size + byzantine).toBeLessThanOrEqual(settings.maxFaultyNodes);
            break;
          case 'restart':
          case 'resume':
          case 'omission-end':
          case 'slow-end':
            expect(faulty.has(action.node)).toBe(true);
            faulty.delete(action.node);
            break;
          case 'partition':
            expect(partitioned).toBe(false);
            partitioned = true;
            break;
          case 'heal':
            expect(partitioned).toBe(true);
            partitioned = false;
            break;
        }
      }
      expect(faulty.size).toBe(0);
      expect(partitioned).toBe(false);
    }
  });

  it('a scenario can pin link-fault ratios (min = max) or let each seed draw them in range', () => {
    const pinned = settingsFor(3, { lossRatioMin: 0.3, lossRatioMax: 0.3, duplicateRatioMin: 0.1, duplicateRatioMax: 0.1 });
    expect([pinned.lossRatio, pinned.duplicateRatio]).toEqual([0.3, 0.1]);
    const drawn = Array.from({ length: 50 }, (_, seed) => settingsFor(seed, { lossRatioMin: 0.1, lossRatioMax: 0.2 }).lossRatio);
    expect(Math.min(...drawn)).toBeGreaterThanOrEqual(0.1);
    expect(Math.max(...drawn)).toBeLessThanOrEqual(0.2);
    expect(new Set(drawn).size).toBeGreaterThan(40);
  });

  it('draws only the enabled faults', () => {
    for (let seed = 0; seed < 50; seed += 1) {
      const settings = settingsFor(seed, { faults: ['crash'] });
      expect(schedule(seed, settings).every(({ action }) => action.kind === 'crash' || action.kind === 'restart')).toBe(true);
      expect(settings.lossRatio + settings.duplicateRatio + settings.reorderRatio).toBe(0);
      expect(settings.clockDrift).toEqual({});
      expect(settings.byzantine).toEqual({});
    }
    expect(schedule(1, settingsFor(1, { faults: [] }))).toEqual([]);
  });
});
