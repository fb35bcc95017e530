import { afterEach, describe, expect, it } from 'vitest';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { Runtime, type RuntimeOptions } from '../../src/net/runtime.js';
import { ConcordError, isConcordError } from '../../src/core/errors.js';
import { ManualLog, MemoryNetwork, TestCore, type TestMessage, type TestReply, type TestRequest } from './runtime-helpers.js';
import { OutputBuilder, noOutput } from '../../src/core/protocol.js';

type TestRuntime = Runtime<TestMessage, string, TestRequest, TestReply>;
const started: TestRuntime[] = [];

afterEach(async () => {
  for (const runtime of started.splice(0)) await runtime.stop();
});

function makeRuntime(
  options: Partial<RuntimeOptions<TestMessage, string, TestRequest, TestReply>> & { log?: ManualLog<string>; network?: MemoryNetwork<TestMessage>; id?: string } = {},
): { runtime: TestRuntime; log: ManualLog<string>; network: MemoryNetwork<TestMessage>; cores: TestCore[] } {
  const peers = options.peers ?? ['n1', 'n2'];
  const id = options.id ?? 'n1';
  const log = options.log ?? new ManualLog<string>();
  const network = options.network ?? new MemoryNetwork<TestMessage>();
  const cores: TestCore[] = [];
  const runtime = new Runtime<TestMessage, string, TestRequest, TestReply>({
    id,
    peers,
    factory: (context) => {
      const core = new TestCore(context);
      cores.push(core);
      return core;
    },
    transport: network.transport(id, peers),
    log,
    tickIntervalMs: 10,
    requestTimeoutMs: 2_000,
    maxPendingRequests: 1_000,
    seed: 1,
    ...options,
  });
  started.push(runtime);
  return { runtime, log, network, cores };
}

/** Leaves a request running; its eventual STOPPED rejection is expected. */
const ignore = (promise: Promise<unknown>): void => {
  promise.catch(() => undefined);
};
const write = (value: string, sync: boolean, broadcast = false): TestRequest => ({ type: 'write', value, sync, broadcast });

describe('Runtime (real host) output contract', () => {
  it('group-commits: many writes in one turn cost one sync, and replies wait for it', async () => {
    const { runtime, log } = makeRuntime();
    runtime.start();
    let replied = 0;
    const replies = Array.from({ length: 50 }, (_, index) => runtime.request(write(`v${index}`, true)).then((reply) => {
      replied += 1;
      return reply;
    }));
    await nextTurn();
    await nextTurn();
    expect(log.appended).toHaveLength(50);
    expect(log.syncCalls).toBe(1);
    expect(replied).toBe(0);
    log.completeSyncs();
    const results = await Promise.all(replies);
    expect(replied).toBe(50);
    expect(results[49]!.values).toHaveLength(50);
    expect(log.durableCount).toBe(50);
  });

  it('holds messages of a sync output until the sync completes; later messages never overtake', async () => {
    const { runtime, log, network } = makeRuntime();
    runtime.start();
    ignore(runtime.request(write('a', true, true)));
    await nextTurn();
    expect(network.sent).toHaveLength(0);
    // An unsynced write right after must queue behind the held message.
    ignore(runtime.request(write('b', false, true)));
    await nextTurn();
    expect(network.sent).toHaveLength(0);
    log.completeSyncs();
    await nextTurn();
    expect(network.sent.map((entry) => entry.message.value)).toEqual(['a', 'b']);
  });

  it('sends messages and replies of an unsynced output at once, and syncs the records at the end of the turn', async () => {
    const { runtime, log, network, cores } = makeRuntime();
    runtime.start();
    const reply = await runtime.request(write('x', false, true));
    expect(reply.values).toEqual(['x']);
    await nextTurn();
    expect(network.sent).toHaveLength(1);
    expect(log.syncCalls).toBe(1);
    log.completeSyncs();
    await nextTurn();
    expect(cores[0]!.persistedInputs).toEqual([1]);
  });

  it('holds a reply of an unsynced output behind an earlier held reply (order is kept)', async () => {
    const { runtime, log } = makeRuntime();
    runtime.start();
    const order: string[] = [];
    const first = runtime.request(write('a', true)).then(() => order.push('a'));
    const second = runtime.request(write('b', false)).then(() => order.push('b'));
    await nextTurn();
    expect(order).toEqual([]);
    log.completeSyncs();
    await Promise.all([first, second]);
    expect(order).toEqual(['a', 'b']);
  });

  it('feeds persisted inputs with the record count covered by each sync; records appended during a sync go into the next', async () => {
    const { runtime, log, cores } = makeRuntime();
    runtime.start();
    ignore(runtime.request(write('a', false)));
    ignore(runtime.request(write('b', false)));
    await nextTurn();
    expect(log.syncCalls).toBe(1);
    ignore(runtime.request(write('c', false)));
    await nextTurn();
    expect(log.syncCalls).toBe(1); // one in flight: c waits for the next group
    log.completeSyncs();
    await nextTurn();
    await nextTurn();
    expect(cores[0]!.persistedInputs).toEqual([2]);
    expect(log.syncCalls).toBe(2);
    log.completeSyncs();
    await nextTurn();
    expect(cores[0]!.persistedInputs).toEqual([2, 3]);
  });

  it('replies to reads at once when nothing is waiting for durability', async () => {
    const { runtime, log } = makeRuntime();
    runtime.start();
    const reply = await runtime.request({ type: 'read' });
    expect(reply.values).toEqual([]);
    expect(log.syncCalls).toBe(0);
  });

  it('delivers messages between two runtimes and recovers records on restart', async () => {
    const network = new MemoryNetwork<TestMessage>();
    const logA = new ManualLog<string>([], true);
    const a = makeRuntime({ id: 'n1', network, log: logA });
    const b = makeRuntime({ id: 'n2', network, log: new ManualLog<string>([], true) });
    a.runtime.start();
    b.runtime.start();
    await a.runtime.request(write('hello', true, true));
    await sleep(20);
    expect(b.cores[0]!.received).toEqual(['n1:hello']);
    await a.runtime.stop();
    const restarted = makeRuntime({ id: 'n1', network, log: new ManualLog<string>(logA.appended.slice(0, logA.durableCount), true) });
    restarted.runtime.start();
    expect((await restarted.runtime.request({ type: 'read' })).values).toEqual(['hello']);
  });
});

/** A test core that merges per turn: `endTurn` sends one message naming the requests of the turn. */
class TurnCore extends TestCore {
  private turn: string[] = [];
  readonly turns: string[][] = [];
  override step(input: Parameters<TestCore['step']>[0]): ReturnType<TestCore['step']> {
    if (input.type === 'request' && input.request.type === 'ignore') this.turn.push(String(input.requestId));
    return super.step(input);
  }
  endTurn(): ReturnType<TestCore['step']> {
    if (this.turn.length > 0) {
      this.turns.push(this.turn);
      const builder = new OutputBuilder<TestMessage, string, TestReply>(this.id);
      builder.send('n2', { type: 'copy', value: this.turn.join(',') });
      this.turn = [];
      return builder.take();
    }
    return noOutput();
  }
}

describe('Runtime end of turn', () => {
  it('calls endTurn once per event-loop turn, after every input of the turn, and sends what it returns', async () => {
    const cores: TurnCore[] = [];
    const { runtime, network } = makeRuntime({
      factory: (context) => {
        const core = new TurnCore(context);
        cores.push(core);
        return core;
      },
    });
    runtime.start();
    for (let index = 0; index < 5; index += 1) ignore(runtime.request({ type: 'ignore' }));
    expect(network.sent).toHaveLength(0);
    await nextTurn();
    ignore(runtime.request({ type: 'ignore' }));
    await nextTurn();
    expect(cores[0]!.turns).toEqual([['1', '2', '3', '4', '5'], ['6']]);
    expect(network.sent.map((sent) => sent.message.value)).toEqual(['1,2,3,4,5', '6']);
  });
});

describe('Runtime lazy records', () => {
  const lazyOptions = { isPromptRecord: (record: string) => !record.startsWith('lazy:'), lazySyncDelayMs: 30 };

  it('starts no sync for lazy records alone, but syncs them within the lazy delay', async () => {
    const { runtime, log, cores } = makeRuntime(lazyOptions);
    runtime.start();
    await runtime.request(write('lazy:commit', false));
    await nextTurn();
    await nextTurn();
    expect(log.syncCalls).toBe(0);
    await sleep(60);
    expect(log.syncCalls).toBe(1);
    log.completeSyncs();
    await nextTurn();
    expect(cores[0]!.persistedInputs).toEqual([1]);
  });

  it('lets lazy records ride along with the next prompt sync', async () => {
    const { runtime, log, cores } = makeRuntime(lazyOptions);
    runtime.start();
    await runtime.request(write('lazy:commit', false));
    await runtime.request(write('entry', false));
    await nextTurn();
    expect(log.syncCalls).toBe(1);
    log.completeSyncs();
    await nextTurn();
    expect(cores[0]!.persistedInputs).toEqual([2]);
    await sleep(60);
    expect(log.syncCalls).toBe(1);
  });

  it('treats a lazy-looking record of a sync output as prompt', async () => {
    const { runtime, log } = makeRuntime(lazyOptions);
    runtime.start();
    const reply = runtime.request(write('lazy:vote', true));
    await nextTurn();
    expect(log.syncCalls).toBe(1);
    log.completeSyncs();
    await reply;
  });
});

describe('Runtime time, timers, deadlines and failure', () => {
  it('counts ticks from the clock and delivers missed ticks before the next request', async () => {
    let nowMs = 0;
    const { runtime } = makeRuntime({ clock: () => nowMs, log: new ManualLog<string>([], true) });
    runtime.start();
    nowMs = 95; // 9 ticks passed while the event loop was, say, stopped
    const reply = await runtime.request({ type: 'read' });
    expect(reply.ticks).toBe(9);
    nowMs = 1_000_000;
    const capped = await runtime.request({ type: 'read' });
    expect(capped.ticks).toBe(9 + 10_000);
  });

  it('fires named timers after their ticks; re-arming replaces, null cancels', async () => {
    let nowMs = 0;
    const { runtime, cores } = makeRuntime({ clock: () => nowMs, log: new ManualLog<string>([], true) });
    runtime.start();
    await runtime.request({ type: 'arm', timer: 't1', afterTicks: 3 });
    await runtime.request({ type: 'arm', timer: 't2', afterTicks: 2 });
    await runtime.request({ type: 'arm', timer: 't2', afterTicks: 5 });
    await runtime.request({ type: 'arm', timer: 't3', afterTicks: 1 });
    await runtime.request({ type: 'arm', timer: 't3', afterTicks: null });
    nowMs = 30;
    await runtime.request({ type: 'read' });
    expect(cores[0]!.timersFired).toEqual(['t1']);
    nowMs = 60;
    await runtime.request({ type: 'read' });
    expect(cores[0]!.timersFired).toEqual(['t1', 't2']);
  });

  it('ticks on its own with the real clock', async () => {
    const { runtime, cores } = makeRuntime();
    runtime.start();
    await sleep(120);
    expect(cores[0]!.ticks).toBeGreaterThanOrEqual(5);
  });

  it('rejects a request without a reply with TIMEOUT, and beyond the bound with OVERLOADED', async () => {
    const { runtime } = makeRuntime({ requestTimeoutMs: 30, maxPendingRequests: 2 });
    runtime.start();
    const first = runtime.request({ type: 'ignore' });
    const second = runtime.request({ type: 'ignore' }, { timeoutMs: 5_000 });
    await expect(runtime.request({ type: 'ignore' })).rejects.toSatisfy((error: unknown) => isConcordError(error, 'OVERLOADED'));
    await expect(first).rejects.toSatisfy((error: unknown) => isConcordError(error, 'TIMEOUT'));
    expect(runtime.stats.requestTimeouts).toBe(1);
    await runtime.stop();
    await expect(second).rejects.toSatisfy((error: unknown) => isConcordError(error, 'STOPPED'));
    await expect(runtime.request({ type: 'read' })).rejects.toBeInstanceOf(ConcordError);
  });

  it('halts (fail-stop) when the core throws, and reports it once', async () => {
    const fatal: unknown[] = [];
    const { runtime } = makeRuntime({ onFatal: (error) => fatal.push(error) });
    runtime.start();
    const pending = runtime.request({ type: 'ignore' });
    await expect(runtime.request({ type: 'explode' })).rejects.toSatisfy((error: unknown) => isConcordError(error, 'INTERNAL'));
    await expect(pending).rejects.toSatisfy((error: unknown) => isConcordError(error, 'INTERNAL'));
    expect(fatal).toHaveLength(1);
    expect(runtime.running).toBe(false);
  });

  it('halts when a sync fails and never releases the replies that depended on it', async () => {
    const fatal: unknown[] = [];
    const { runtime, log } = makeRuntime({ onFatal: (error) => fatal.push(error) });
    runtime.start();
    const reply = runtime.request(write('a', true));
    await nextTurn();
    log.failNextSync = new Error('EIO');
    log.completeSyncs();
    await expect(reply).rejects.toSatisfy((error: unknown) => isConcordError(error, 'INTERNAL'));
    expect(fatal).toHaveLength(1);
  });
});
