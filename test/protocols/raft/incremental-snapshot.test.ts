import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isConcordError } from '../../../src/core/errors.js';
import { defaultRaftConfig, resolveRaftConfig } from '../../../src/protocols/raft/config.js';
import { IncrementalSnapshot } from '../../../src/protocols/raft/incremental-snapshot.js';
import { KvStateMachine, type KvTypes } from '../../../src/protocols/raft/kv.js';
import { membershipOfVoters } from '../../../src/protocols/raft/membership.js';
import { recoverRaftState } from '../../../src/protocols/raft/recovery.js';
import { frameBytes, type StateMachine } from '../../../src/protocols/raft/state-machine.js';
import { RaftNetwork } from './harness/network.js';

/**
 * The core's side of incremental snapshots: the framed image `IncrementalSnapshot` assembles
 * equals `frameBytes(header, snapshot())`; the step budget is a validated knob; a state machine
 * without `beginSnapshot` keeps the synchronous path; and what the core reports as durable never
 * includes a snapshot still in progress.
 */

const meta = { index: 7, term: 2, membership: membershipOfVoters(['n1', 'n2', 'n3']) };

function loaded(keys: number): KvStateMachine {
  const kv = new KvStateMachine({ maxRecentChanges: 8 });
  for (let index = 0; index < keys; index += 1) kv.apply({ op: 'put', key: `key${index}`, value: `value${index}`.repeat(1 + (index % 5)) });
  return kv;
}

/** The KV store without `beginSnapshot`: the core must snapshot it synchronously. */
function withoutWriter(): StateMachine<KvTypes> {
  const kv = new KvStateMachine();
  return {
    apply: (command) => kv.apply(command),
    query: (query) => kv.query(query),
    snapshot: () => kv.snapshot(),
    restore: (data) => kv.restore(data),
    digest: () => kv.digest(),
    commandSizeBytes: (command) => kv.commandSizeBytes(command),
  };
}

describe('IncrementalSnapshot', () => {
  it('assembles exactly frameBytes(header, snapshot()) whatever the budget, within about the budget per step', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 5000 }), (keys, budget) => {
        const kv = loaded(keys);
        const header = { sessions: { digest: [1, 2], sessions: [['c1', 3, { op: 'put', revision: 1, previous: null }]] } };
        const expected = frameBytes(header, kv.snapshot());
        const snapshot = new IncrementalSnapshot(meta, header, kv.beginSnapshot());
        let data: Uint8Array | null = null;
        let steps = 0;
        while (data === null) {
          data = snapshot.advance(budget);
          steps += 1;
          expect(steps).toBeLessThan(10_000);
        }
        expect(data).toEqual(expected);
        expect(snapshot.meta).toBe(meta);
        // Producing and copying both count against the budget (a record may overshoot it).
        if (budget >= 400) expect(steps).toBeLessThanOrEqual(Math.ceil((2 * expected.length) / budget) + 2);
        expect(() => snapshot.advance(budget)).toThrow(/already completed/);
      }),
      { numRuns: 200 },
    );
  });

  it('abort stops the writer: the state machine can begin another snapshot', () => {
    const kv = loaded(40);
    const snapshot = new IncrementalSnapshot(meta, {}, kv.beginSnapshot());
    expect(snapshot.advance(100)).toBeNull();
    expect(snapshot.producedBytes).toBeGreaterThan(0);
    snapshot.abort();
    expect(() => snapshot.advance(100)).toThrow(/aborted/);
    kv.beginSnapshot().abort();
  });
});

describe('snapshotStepBytes', () => {
  it('defaults to 64 KiB and must be a positive integer', () => {
    expect(defaultRaftConfig.snapshotStepBytes).toBe(65_536);
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      let thrown: unknown = null;
      try {
        resolveRaftConfig<KvTypes>({ stateMachine: () => new KvStateMachine(), snapshotStepBytes: bad });
      } catch (error) {
        thrown = error;
      }
      expect(isConcordError(thrown, 'INVALID_CONFIG'), `snapshotStepBytes ${bad}`).toBe(true);
    }
  });
});

describe('the core with incremental snapshots', () => {
  function putAll(network: RaftNetwork, count: number, from = 0): void {
    for (let index = from; index < from + count; index += 1) network.propose('n1', { op: 'put', key: `k${index}`, value: `v${index}` });
    network.stabilize();
  }

  function elect(network: RaftNetwork): void {
    network.request('n1', { type: 'campaign' });
    network.stabilize();
  }

  it('a state machine without beginSnapshot is snapshotted in the step that reaches the threshold', () => {
    const network = new RaftNetwork(['n1', 'n2', 'n3'], { snapshotThresholdEntries: 4, snapshotStepBytes: 1, stateMachine: withoutWriter });
    elect(network);
    putAll(network, 3);
    for (const id of ['n1', 'n2', 'n3']) {
      expect(network.core(id).status()).toMatchObject({ snapshotIndex: 5, snapshotInProgressIndex: 0, snapshotInProgressBytes: 0 });
    }
  });

  it('with 1 byte per step a snapshot takes about twice its size in steps; durable state and recovery never include it before it completes', () => {
    const network = new RaftNetwork(['n1', 'n2', 'n3'], { snapshotThresholdEntries: 4, snapshotStepBytes: 1 });
    elect(network);
    putAll(network, 3);
    const core = network.core('n2');
    expect(core.status()).toMatchObject({ snapshotIndex: 0, snapshotInProgressIndex: 5 });
    let ticks = 0;
    let bytes = 0;
    while (network.core('n2').status().snapshotInProgressIndex !== 0) {
      bytes = network.core('n2').status().snapshotInProgressBytes;
      network.sync('n2');
      expect(network.core('n2').durableState().snapshot).toBeNull();
      expect(recoverRaftState(network.records('n2'))?.snapshot).toBeNull();
      network.tick('n2');
      ticks += 1;
    }
    const image = network.core('n2').durableState();
    expect(image.snapshot).toMatchObject({ index: 5, term: 2 });
    // Every step produced (at least) one byte, then copied one: the image is ~500 bytes.
    expect(bytes).toBeGreaterThan(400);
    expect(ticks).toBeGreaterThan(bytes);
    expect(ticks).toBeLessThan(2 * bytes + 10);
    network.sync('n2');
    expect(recoverRaftState(network.records('n2'))?.snapshot?.meta).toEqual(image.snapshot);
  });

  it('a single-node cluster keeps serving while its snapshot is in progress, and completes it', () => {
    const network = new RaftNetwork(['n1'], { snapshotThresholdEntries: 4, snapshotStepBytes: 16, snapshotCatchUpEntries: 0 });
    elect(network);
    putAll(network, 3);
    // Entries 3–5 committed together: the snapshot is taken at 5.
    expect(network.core('n1').status().snapshotInProgressIndex).toBe(5);
    putAll(network, 3, 3);
    expect(network.core('n1').status()).toMatchObject({ appliedIndex: 8, snapshotIndex: 0, snapshotInProgressIndex: 5 });
    for (let tick = 0; tick < 200 && network.core('n1').status().snapshotIndex === 0; tick += 1) network.tick('n1');
    // Compacted through the snapshot's index; the entries applied meanwhile stay in the log.
    expect(network.core('n1').status()).toMatchObject({ snapshotIndex: 5, snapshotInProgressIndex: 0, firstIndex: 6, lastIndex: 8 });
    network.read('n1', { op: 'get', key: 'k5' });
    network.stabilize();
    expect([...network.replies.values()].at(-1)).toMatchObject({ type: 'read', result: { record: { value: 'v5' } } });
    expect(network.monitor.violations).toEqual([]);
  });
});
