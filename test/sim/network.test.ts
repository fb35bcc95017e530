import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeIds } from '../../src/core/ids.js';
import { Rng } from '../../src/core/rng.js';
import { DropReason, Network } from '../../src/sim/network.js';
import { sampleDelayUs, type TimingModel } from '../../src/sim/timing.js';
import { Topology } from '../../src/sim/topology.js';

function network(n: number, model: TimingModel, seed: number): Network {
  return new Network(Topology.build('full', nodeIds(n)), model, Rng.fromSeed(seed));
}

describe('network timing models', () => {
  it('synchronous: no delivery is ever later than Δ after sending, whatever the link faults', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 0, max: 20_000 }),
        fc.double({ min: 1, max: 8, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (seed, delayUsMin, extraUs, delayFactor, reorderRatio) => {
          const deltaUs = delayUsMin + extraUs;
          const net = network(3, { kind: 'synchronous', delayUsMin, deltaUs }, seed);
          net.setAllLinkFaults({ lossRatio: 0, duplicateRatio: 0.3, reorderRatio, delayFactor });
          const rng = Rng.fromSeed(seed + 1);
          let now = 0;
          for (let index = 0; index < 300; index += 1) {
            now += rng.int(0, 3000);
            const from = rng.int(0, 2);
            const to = rng.int(0, 2);
            const delivery = net.route(from, to, now);
            if (delivery - now < delayUsMin || delivery - now > deltaUs) expect.fail(`delay ${delivery - now} outside [${delayUsMin}, ${deltaUs}]`);
            const duplicate = net.routeDuplicate(from, to, now);
            if (duplicate >= 0 && duplicate - now > deltaUs) expect.fail(`duplicate delay ${duplicate - now} > Δ ${deltaUs}`);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('partial synchrony: arbitrary (heavy-tailed) before GST, by GST+Δ for earlier sends, within Δ after GST', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: 200_000 }), (seed, gstUs) => {
        const model: TimingModel = { kind: 'partial', delayUsMin: 100, deltaUs: 5000, gstUs, scaleUs: 3000, alpha: 1.2 };
        const net = network(4, model, seed);
        const rng = Rng.fromSeed(seed + 7);
        let now = 0;
        for (let index = 0; index < 400; index += 1) {
          now += rng.int(0, 1000);
          const delivery = net.route(rng.int(0, 3), rng.int(0, 3), now);
          if (now >= gstUs && delivery - now > model.deltaUs) expect.fail(`sent after GST at ${now}, delay ${delivery - now} > Δ`);
          if (now < gstUs && delivery > gstUs + model.deltaUs) expect.fail(`sent before GST at ${now}, delivered ${delivery} > GST + Δ`);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('partial synchrony: before GST delays do exceed Δ (the bound does not hold yet)', () => {
    const model: TimingModel = { kind: 'partial', delayUsMin: 100, deltaUs: 2000, gstUs: 10_000_000, scaleUs: 1000, alpha: 1.2 };
    const net = network(2, model, 5);
    net.setAllLinkFaults({ lossRatio: 0, duplicateRatio: 0, reorderRatio: 1, delayFactor: 1 });
    const late = Array.from({ length: 5000 }, (_, index) => net.route(0, 1, index * 100) - index * 100).filter((delay) => delay > model.deltaUs);
    expect(late.length).toBeGreaterThan(100);
  });

  it('asynchronous delays are unbounded in practice: a heavy tail far above the scale', () => {
    const model: TimingModel = { kind: 'asynchronous', delayUsMin: 100, scaleUs: 1000, alpha: 1.2 };
    const rng = Rng.fromSeed(3);
    const delays = Array.from({ length: 20_000 }, () => sampleDelayUs(model, rng, 0, 1)).sort((a, b) => a - b);
    expect(delays[0]).toBeGreaterThanOrEqual(100);
    expect(delays[Math.floor(delays.length / 2)]!).toBeLessThan(2000);
    expect(delays.at(-1)!).toBeGreaterThan(100_000);
  });

  it('after switching to a synchronous model, new messages arrive within Δ even behind slow old ones', () => {
    const net = network(2, { kind: 'asynchronous', delayUsMin: 100, scaleUs: 1_000_000, alpha: 1.1 }, 2);
    let latest = 0;
    for (let now = 0; now < 100_000; now += 1000) latest = Math.max(latest, net.route(0, 1, now));
    expect(latest).toBeGreaterThan(200_000); // a heavy tail blocks the FIFO link well past the switch
    net.setTimingModel({ kind: 'synchronous', delayUsMin: 100, deltaUs: 1000 });
    for (let now = 100_000; now < 110_000; now += 100) expect(net.route(0, 1, now) - now).toBeLessThanOrEqual(1000);
  });

  it('links are FIFO without reordering, and reordering appears when enabled', () => {
    const countInversions = (reorderRatio: number): number => {
      const net = network(2, { kind: 'synchronous', delayUsMin: 100, deltaUs: 10_000 }, 9);
      net.setAllLinkFaults({ lossRatio: 0, duplicateRatio: 0, reorderRatio, delayFactor: 1 });
      let inversions = 0;
      let previous = -1;
      for (let now = 0; now < 1_000_000; now += 500) {
        const delivery = net.route(0, 1, now);
        if (delivery < previous) inversions += 1;
        previous = Math.max(previous, delivery);
      }
      return inversions;
    };
    expect(countInversions(0)).toBe(0);
    expect(countInversions(0.5)).toBeGreaterThan(100);
  });

  it('loss and duplication happen at about their ratios', () => {
    const net = network(2, { kind: 'synchronous', delayUsMin: 100, deltaUs: 1000 }, 4);
    net.setAllLinkFaults({ lossRatio: 0.3, duplicateRatio: 0.1, reorderRatio: 0, delayFactor: 1 });
    let lost = 0;
    let duplicated = 0;
    const total = 20_000;
    for (let index = 0; index < total; index += 1) {
      const delivery = net.route(0, 1, index * 10);
      if (delivery === -DropReason.Loss) lost += 1;
      else if (net.routeDuplicate(0, 1, index * 10) >= 0) duplicated += 1;
    }
    expect(lost / total).toBeGreaterThan(0.27);
    expect(lost / total).toBeLessThan(0.33);
    expect(duplicated / (total - lost)).toBeGreaterThan(0.08);
    expect(duplicated / (total - lost)).toBeLessThan(0.12);
  });

  it('a missing topology link drops as no-link, a cut one as partition', () => {
    const ids = nodeIds(3);
    const net = new Network(Topology.build('line', ids), { kind: 'synchronous', delayUsMin: 1, deltaUs: 10 }, Rng.fromSeed(1));
    expect(net.route(0, 2, 0)).toBe(-DropReason.NoLink);
    const cut = new Uint8Array(9);
    cut[0 * 3 + 1] = 1;
    net.setPartition({ mode: 'custom', groups: [], cut });
    expect(net.route(0, 1, 0)).toBe(-DropReason.Partition);
    expect(net.route(1, 0, 0)).toBeGreaterThan(0);
    net.heal();
    expect(net.route(0, 1, 0)).toBeGreaterThan(0);
  });
});
