import { describe, expect, it } from 'vitest';
import { isConcordError } from '../../../src/core/errors.js';
import { Rng } from '../../../src/core/rng.js';
import { type FailureDetectorCore, failureDetectorFactory, fdConfig, type FdConfig, type FdMessage } from '../../../src/protocols/failure-detector/index.js';

const peers = ['n1', 'n2', 'n3'];
const heartbeat: FdMessage = { type: 'heartbeat', seq: 1 };

function detector(overrides: Partial<FdConfig> = {}): FailureDetectorCore {
  const core = failureDetectorFactory({ heartbeatTicks: 5, initialTimeoutTicks: 10, timeoutIncrementTicks: 4, maxTimeoutTicks: 18, ...overrides })({
    id: 'n1', peers, rng: Rng.fromSeed(1), recovered: [],
  });
  core.start();
  return core;
}

function ticks(core: FailureDetectorCore, count: number, heartbeatsFrom: readonly string[] = []): void {
  for (let tick = 0; tick < count; tick += 1) {
    core.step({ type: 'tick' });
    for (const from of heartbeatsFrom) core.step({ type: 'message', from, message: heartbeat });
  }
}

describe('heartbeat failure detector core', () => {
  it('sends a heartbeat to every peer at start and every heartbeatTicks', () => {
    const core = failureDetectorFactory({ heartbeatTicks: 5 })({ id: 'n1', peers, rng: Rng.fromSeed(1), recovered: [] });
    expect(core.start().messages.map((envelope) => envelope.to)).toEqual(['n2', 'n3']);
    const sent = Array.from({ length: 10 }, () => core.step({ type: 'tick' }).messages.length);
    expect(sent).toEqual([0, 0, 0, 0, 2, 0, 0, 0, 0, 2]);
  });

  it('suspects a silent peer once its timeout passes, and only that peer', () => {
    const core = detector();
    ticks(core, 10, ['n2']);
    expect(core.suspects()).toEqual([]);
    ticks(core, 1, ['n2']);
    expect(core.suspects()).toEqual(['n3']);
    expect(core.isSuspected('n2')).toBe(false);
  });

  it('withdraws a false suspicion when the peer is heard, and waits longer next time (up to the cap)', () => {
    const core = detector();
    const timeouts: number[] = [];
    for (let round = 0; round < 4; round += 1) {
      ticks(core, core.timeoutOf('n3')! + 1, ['n2']);
      expect(core.isSuspected('n3')).toBe(true);
      core.step({ type: 'message', from: 'n3', message: heartbeat });
      expect(core.isSuspected('n3')).toBe(false);
      timeouts.push(core.timeoutOf('n3')!);
    }
    expect(timeouts).toEqual([14, 18, 18, 18]);
    expect(core.stats.falseSuspicions).toBe(4);
    expect(core.timeoutOf('n2')).toBe(10);
  });

  it('answers a client with the current suspects; drops heartbeats from strangers and malformed ones', () => {
    const core = detector();
    ticks(core, 11);
    expect(core.step({ type: 'request', requestId: 1, request: { type: 'suspects' } }).replies).toEqual([{ requestId: 1, reply: { type: 'suspects', suspects: ['n2', 'n3'] } }]);
    core.step({ type: 'message', from: 'n9', message: heartbeat });
    core.step({ type: 'message', from: 'n2', message: { type: 'heartbeat', seq: 'x' } as unknown as FdMessage });
    expect(core.stats.malformedDropped).toBe(2);
    expect(core.suspects()).toEqual(['n2', 'n3']);
  });

  it('the test-only bugs do what they say', () => {
    const shared = detector({ testingBugs: { anyHeartbeatRefreshesAll: true, neverTrustAgain: false } });
    ticks(shared, 30, ['n2']);
    expect(shared.suspects()).toEqual([]); // n3 is silent, yet never suspected
    const stubborn = detector({ testingBugs: { anyHeartbeatRefreshesAll: false, neverTrustAgain: true } });
    ticks(stubborn, 11);
    ticks(stubborn, 5, ['n2', 'n3']);
    expect(stubborn.suspects()).toEqual(['n2', 'n3']);
  });

  it('rejects bad configuration with INVALID_CONFIG', () => {
    for (const overrides of [{ heartbeatTicks: 0 }, { initialTimeoutTicks: 50, maxTimeoutTicks: 10 }, { timeoutIncrementTicks: 0.5 }]) {
      try {
        fdConfig(overrides);
        expect.unreachable();
      } catch (error) {
        expect(isConcordError(error, 'INVALID_CONFIG')).toBe(true);
      }
    }
  });
});
