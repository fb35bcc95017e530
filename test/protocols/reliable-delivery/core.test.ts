import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkDelivery, type DeliveryObservation, type DeliveryOutcome } from '../../../src/check/delivery.js';
import { isConcordError } from '../../../src/core/errors.js';
import { Rng } from '../../../src/core/rng.js';
import {
  backoffTicks,
  countAppliedEffects,
  DedupWindow,
  type DeliveryRecord,
  EffectTally,
  type DeliveryMode,
  deliveryConfig,
  giveUpHorizonTicks,
  reliableDeliveryFactory,
} from '../../../src/protocols/reliable-delivery/index.js';
import { DeliveryDriver } from './driver.js';

describe('deliveryConfig', () => {
  it('fills defaults and rejects bad knobs with INVALID_CONFIG', () => {
    expect(deliveryConfig().mode).toBe('exactly-once');
    const bad = [{ mode: 'twice' as DeliveryMode }, { maxAttempts: 0 }, { retransmitMaxTicks: 1, retransmitBaseTicks: 2 }, { dedupWindowMax: 4, maxInflightPerPeer: 8 }, { retransmitJitterTicks: -1 }];
    for (const options of bad) {
      expect(() => deliveryConfig(options)).toThrow();
      try {
        deliveryConfig(options);
      } catch (error) {
        expect(isConcordError(error, 'INVALID_CONFIG')).toBe(true);
      }
    }
    expect(() => reliableDeliveryFactory({ seqBlockSize: 0 })).toThrow();
  });

  it('backs off exponentially up to the cap and states its give-up horizon', () => {
    const config = deliveryConfig({ retransmitBaseTicks: 3, retransmitMaxTicks: 20, retransmitJitterTicks: 0, maxAttempts: 5 });
    expect([1, 2, 3, 4, 5].map((attempt) => backoffTicks(config, attempt))).toEqual([3, 6, 12, 20, 20]);
    expect(giveUpHorizonTicks(config)).toBe(61);
    expect(giveUpHorizonTicks(deliveryConfig({ mode: 'at-most-once', ackTimeoutTicks: 9 }))).toBe(9);
  });
});

describe('DedupWindow', () => {
  it('matches a plain set of seen seqs, stays bounded, and honours the floor', () => {
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), offset: fc.integer({ min: 1, max: 8 }) }),
      fc.record({ kind: fc.constant('floor' as const), offset: fc.integer({ min: 0, max: 8 }) }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 200 }), (operations) => {
        const windowMax = 8;
        const window = new DedupWindow(windowMax);
        const seen = new Set<number>();
        let floor = 1;
        for (const { kind, offset } of operations) {
          if (kind === 'add') {
            const seq = window.contiguousThrough + offset;
            window.add(seq);
            seen.add(seq);
          } else {
            floor = Math.max(floor, window.contiguousThrough + 1 + offset);
            window.raiseFloor(floor);
          }
          expect(window.aboveCount).toBeLessThan(windowMax);
          for (let seq = 1; seq <= window.contiguousThrough + windowMax + 1; seq += 1) {
            expect(window.has(seq)).toBe(seen.has(seq) || seq < floor);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});

interface RandomRun {
  readonly observation: DeliveryObservation;
  readonly maxApplied: number;
  readonly lost: number;
}

/**
 * A random schedule on the in-test driver: sends, deliveries, drops, duplicates, reordering,
 * time, and crash/restart of any node (keeping a random prefix of unsynced writes), with the
 * mode's checker after every action; then a heal phase that must resolve everything.
 */
function randomRun(mode: DeliveryMode, seed: number): RandomRun {
  const rng = Rng.fromSeed(seed);
  const driver = new DeliveryDriver({ seed, config: { mode, retransmitBaseTicks: 2, retransmitMaxTicks: 8, maxAttempts: 1000, ackTimeoutTicks: 6 } });
  const ids = [...driver.nodes.keys()];
  const requests = new Map<number, string>();
  const observe = (): DeliveryObservation => {
    const outcomes: { appId: string; outcome: DeliveryOutcome }[] = [];
    for (const [requestId, appId] of requests) outcomes.push({ appId, outcome: driver.repliesFor(requestId).at(-1)?.type ?? 'pending' });
    return { requests: outcomes, applied: driver.effects() };
  };
  for (let action = 0; action < 150; action += 1) {
    randomAction(driver, rng, ids, requests);
    expect(checkDelivery(mode, observe(), { final: false })).toEqual([]);
  }
  for (const id of ids) if (!driver.isUp(id)) driver.restart(id);
  const inflight = (): number => ids.reduce((sum, id) => sum + ids.reduce((links, peer) => links + driver.core(id).inflight(peer), 0), 0);
  // Heal: everyone up, no more faults; every message must resolve within 200 rounds.
  for (let round = 0; round < 200 && inflight() > 0; round += 1) {
    driver.settle();
    driver.tick(8);
  }
  driver.settle();
  const observation = observe();
  expect(checkDelivery(mode, observation, { final: true })).toEqual([]);
  for (const id of ids) for (const peer of ids) expect(driver.core(id).inflight(peer)).toBe(0);
  const counts = [...observation.applied.values()];
  return {
    observation,
    maxApplied: Math.max(0, ...counts),
    lost: observation.requests.filter(({ appId }) => (observation.applied.get(appId) ?? 0) === 0).length,
  };
}

function randomAction(driver: DeliveryDriver, rng: Rng, ids: string[], requests: Map<number, string>): void {
  const roll = rng.next();
  const up = ids.filter((id) => driver.isUp(id));
  if (roll < 0.2 && up.length > 0) {
    const from = rng.pick(up);
    const to = rng.pick(ids.filter((id) => id !== from));
    const appId = `m${requests.size + 1}`;
    requests.set(driver.send(from, to, appId), appId);
  } else if (roll < 0.55) {
    driver.deliver(() => rng.chance(0.5));
  } else if (roll < 0.65) {
    driver.drop(() => rng.chance(0.3));
  } else if (roll < 0.72) {
    driver.duplicate(() => rng.chance(0.2));
  } else if (roll < 0.77) {
    driver.network = rng.shuffle(driver.network);
  } else if (roll < 0.93) {
    driver.tick(rng.int(1, 6));
  } else {
    const id = rng.pick(ids);
    if (driver.isUp(id)) {
      const unsynced = driver.nodes.get(id)!.log.writtenCount - driver.nodes.get(id)!.log.syncedRecordCount;
      driver.crash(id, rng.int(0, unsynced));
    } else driver.restart(id);
  }
}

describe('reliable-delivery under random drop/duplicate/reorder/crash schedules', () => {
  const seeds = Array.from({ length: 60 }, (_, index) => index + 1);

  it('exactly-once: every message applied exactly once after healing', () => {
    for (const seed of seeds) {
      const run = randomRun('exactly-once', seed);
      expect(run.maxApplied, `seed ${seed}`).toBeLessThanOrEqual(1);
    }
  });

  it('at-least-once: never loses, and does duplicate', () => {
    let duplicatedRuns = 0;
    for (const seed of seeds) if (randomRun('at-least-once', seed).maxApplied > 1) duplicatedRuns += 1;
    expect(duplicatedRuns).toBeGreaterThan(seeds.length / 2);
  });

  it('at-most-once: never duplicates, and does lose', () => {
    let lossyRuns = 0;
    for (const seed of seeds) if (randomRun('at-most-once', seed).lost > 0) lossyRuns += 1;
    expect(lossyRuns).toBeGreaterThan(seeds.length / 2);
  });
});

describe('EffectTally', () => {
  it('agrees with a full recount as logs grow and crash-truncate', () => {
    const applied = (appId: string): DeliveryRecord =>
      appId.endsWith('1') ? { type: 'sent', to: 'n2', seq: 1, appId, payload: '' } : { type: 'applied', from: 'n1', seq: 1, floorSeq: 1, appId, payload: '' };
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: -3, max: 3 })), { maxLength: 60 }), (steps) => {
        const logs: DeliveryRecord[][] = [[], [], []];
        const tally = new EffectTally();
        for (const [log, change] of steps) {
          if (change >= 0) for (let index = 0; index < change; index += 1) logs[log]!.push(applied(`m${(index + log) % 4}`));
          else logs[log]!.length = Math.max(0, logs[log]!.length + change);
          for (const [index, records] of logs.entries()) tally.update(`n${index}`, records);
          expect(new Map(tally.counts)).toEqual(countAppliedEffects(logs));
          const sent = new Set(logs.flat().filter((record) => record.type === 'sent').map((record) => record.appId));
          expect(tally.accepted).toEqual(sent);
          for (const appId of tally.drainChanged()) expect(tally.isAccepted(appId)).toBe(sent.has(appId));
          expect(tally.drainChanged()).toEqual([]);
        }
      }),
      { numRuns: 200 },
    );
  });
});
