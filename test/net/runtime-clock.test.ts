import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/net/runtime.js';
import { ManualLog, MemoryNetwork, TestCore, type TestMessage, type TestReply, type TestRequest } from './runtime-helpers.js';

/**
 * Regression (found by the fault harness, test/jepsen: `clock-back-partition` with lease reads):
 * when the runtime's time source stepped backwards, no tick was delivered until the clock had
 * caught up again. A leader's ticks stalled, so neither its lease nor its check-quorum could
 * expire: isolated, it kept serving lease reads for seconds after the majority had elected
 * another leader (stale reads). A backward step must count as no time, not stall the ticks.
 */
const started: Runtime<TestMessage, string, TestRequest, TestReply>[] = [];

afterEach(async () => {
  for (const runtime of started.splice(0)) await runtime.stop();
});

function makeRuntime(clock: () => number): { runtime: Runtime<TestMessage, string, TestRequest, TestReply>; cores: TestCore[] } {
  const cores: TestCore[] = [];
  const network = new MemoryNetwork<TestMessage>();
  const runtime = new Runtime<TestMessage, string, TestRequest, TestReply>({
    id: 'n1',
    peers: ['n1', 'n2'],
    factory: (context) => {
      const core = new TestCore(context);
      cores.push(core);
      return core;
    },
    transport: network.transport('n1', ['n1', 'n2']),
    log: new ManualLog<string>([], true),
    tickIntervalMs: 10,
    requestTimeoutMs: 2_000,
    maxPendingRequests: 100,
    seed: 1,
    clock,
  });
  started.push(runtime);
  return { runtime, cores };
}

describe('Runtime clock that steps backwards', () => {
  it('keeps ticking at the normal rate after a backward step instead of stalling until the clock catches up', async () => {
    let nowMs = 1_000;
    const { runtime } = makeRuntime(() => nowMs);
    runtime.start();
    nowMs = 1_050;
    expect((await runtime.request({ type: 'read' })).ticks).toBe(5);
    nowMs = -2_000; // the source jumps 3 s back
    expect((await runtime.request({ type: 'read' })).ticks).toBe(5);
    nowMs = -1_970; // 30 ms later: 3 more ticks, not zero until t = 1 050 again
    expect((await runtime.request({ type: 'read' })).ticks).toBe(8);
  });

  it('still counts forward jumps as elapsed time (bounded catch-up)', async () => {
    let nowMs = 0;
    const { runtime } = makeRuntime(() => nowMs);
    runtime.start();
    nowMs = 2_000;
    expect((await runtime.request({ type: 'read' })).ticks).toBe(200);
  });
});
