import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isConcordError } from '../../src/core/errors.js';
import type { Transport } from '../../src/core/host.js';
import type { NodeId } from '../../src/core/ids.js';
import { sleep, waitFor } from './helpers.js';

/**
 * The shared transport compliance suite (after js-libp2p's interface-compliance-tests): every
 * `Transport` implementation — the in-memory hub and the TCP transport — must pass it.
 */
export interface TransportCluster<M> {
  readonly transports: ReadonlyMap<NodeId, Transport<M>>;
  /** Stops `id`'s transport and starts a fresh one with the same id and address (a process restart). */
  restart(id: NodeId): Promise<Transport<M>>;
  /** Drops traffic from `from` to `to` (one direction) until `heal()`. */
  block(from: NodeId, to: NodeId): void;
  heal(): void;
  close(): Promise<void>;
}

export interface TransportFactory {
  readonly name: string;
  create<M>(ids: readonly NodeId[]): Promise<TransportCluster<M>>;
}

interface Inbox<M> {
  readonly received: { from: NodeId; message: M }[];
}

function listen<M>(transport: Transport<M>): Inbox<M> {
  const inbox: Inbox<M> = { received: [] };
  transport.onMessage((from, message) => inbox.received.push({ from, message }));
  return inbox;
}

/** Best-effort delivery: resend until one copy arrives (connections may still be forming). */
async function deliverEventually<M>(sender: Transport<M>, to: NodeId, inbox: Inbox<M>, make: (attempt: number) => M, matches: (message: M) => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    sender.send(to, make(attempt));
    const deadline = Date.now() + 50;
    while (Date.now() < deadline) {
      if (inbox.received.some((entry) => matches(entry.message))) return;
      await sleep(5);
    }
  }
  throw new Error(`no message from ${sender.self} reached ${to}`);
}

type Probe = { kind: string; seq: number; body?: unknown };

export function transportComplianceSuite(factory: TransportFactory): void {
  describe(`Transport compliance: ${factory.name}`, () => {
    let cluster: TransportCluster<Probe> | null = null;
    const ids = ['n1', 'n2', 'n3'];

    afterEach(async () => {
      await cluster?.close();
      cluster = null;
    });

    async function start(): Promise<{ c: TransportCluster<Probe>; inboxes: Map<NodeId, Inbox<Probe>> }> {
      cluster = await factory.create<Probe>(ids);
      const inboxes = new Map([...cluster.transports].map(([id, transport]) => [id, listen(transport)]));
      // Warm every ordered pair so later assertions are about semantics, not connection set-up.
      for (const from of ids) {
        for (const to of ids) {
          if (from === to) continue;
          const inbox = inboxes.get(to)!;
          await deliverEventually(cluster.transports.get(from)!, to, inbox, (seq) => ({ kind: `warm-${from}`, seq }), (m) => m.kind === `warm-${from}`);
        }
      }
      for (const inbox of inboxes.values()) inbox.received.length = 0;
      return { c: cluster, inboxes };
    }

    it('delivers between every ordered pair and names the sender', async () => {
      const { c, inboxes } = await start();
      for (const from of ids) for (const to of ids) if (from !== to) c.transports.get(from)!.send(to, { kind: 'hello', seq: 0, body: `${from}>${to}` });
      for (const to of ids) {
        await waitFor(() => inboxes.get(to)!.received.length === 2, `two messages at ${to}`);
        const got = inboxes.get(to)!.received.map((entry) => `${entry.from}:${String(entry.message.body)}`).sort();
        expect(got).toEqual(ids.filter((id) => id !== to).map((from) => `${from}:${from}>${to}`));
      }
    });

    it('keeps per-pair FIFO order in both directions at once', async () => {
      const { c, inboxes } = await start();
      const count = 500;
      for (let seq = 0; seq < count; seq += 1) {
        c.transports.get('n1')!.send('n2', { kind: 'fifo', seq });
        c.transports.get('n2')!.send('n1', { kind: 'fifo', seq });
      }
      for (const id of ['n1', 'n2']) {
        await waitFor(() => inboxes.get(id)!.received.length === count, `${count} messages at ${id}`);
        expect(inboxes.get(id)!.received.map((entry) => entry.message.seq)).toEqual(Array.from({ length: count }, (_, index) => index));
      }
    });

    it('throws UNKNOWN_NODE for a destination that is not a member, and nothing else', async () => {
      const { c } = await start();
      let error: unknown = null;
      try {
        c.transports.get('n1')!.send('n9', { kind: 'x', seq: 0 });
      } catch (caught) {
        error = caught;
      }
      expect(isConcordError(error, ErrorCode.UnknownNode)).toBe(true);
    });

    it('delivers a copy: mutating a sent message does not change what arrives', async () => {
      const { c, inboxes } = await start();
      const message: Probe = { kind: 'copy', seq: 1, body: { list: [1, 2, 3] } };
      c.transports.get('n1')!.send('n2', message);
      (message.body as { list: number[] }).list.push(4);
      message.seq = 99;
      await waitFor(() => inboxes.get('n2')!.received.length === 1, 'the copy');
      expect(inboxes.get('n2')!.received[0]!.message).toEqual({ kind: 'copy', seq: 1, body: { list: [1, 2, 3] } });
    });

    it('never throws for a dead peer and reaches it again after a restart', async () => {
      const { c, inboxes } = await start();
      await c.transports.get('n3')!.close();
      for (let seq = 0; seq < 50; seq += 1) expect(() => c.transports.get('n1')!.send('n3', { kind: 'into-void', seq })).not.toThrow();
      await sleep(30);
      expect(inboxes.get('n3')!.received).toEqual([]);
      const restarted = await c.restart('n3');
      const inbox = listen(restarted);
      await deliverEventually(c.transports.get('n1')!, 'n3', inbox, (seq) => ({ kind: 'after-restart', seq }), (m) => m.kind === 'after-restart');
      await deliverEventually(restarted, 'n1', inboxes.get('n1')!, (seq) => ({ kind: 'from-restarted', seq }), (m) => m.kind === 'from-restarted');
    });

    it('a blocked direction drops while the reverse still flows; heal restores it', async () => {
      const { c, inboxes } = await start();
      c.block('n1', 'n2');
      for (let seq = 0; seq < 20; seq += 1) c.transports.get('n1')!.send('n2', { kind: 'blocked', seq });
      c.transports.get('n2')!.send('n1', { kind: 'reverse', seq: 0 });
      await waitFor(() => inboxes.get('n1')!.received.length === 1, 'the reverse message');
      await sleep(50);
      expect(inboxes.get('n2')!.received).toEqual([]);
      c.heal();
      await deliverEventually(c.transports.get('n1')!, 'n2', inboxes.get('n2')!, (seq) => ({ kind: 'healed', seq }), (m) => m.kind === 'healed');
      expect(inboxes.get('n2')!.received.every((entry) => entry.message.kind === 'healed')).toBe(true);
    });

    it('after close: sends are dropped without throwing and close is idempotent', async () => {
      const { c, inboxes } = await start();
      const n1 = c.transports.get('n1')!;
      await n1.close();
      expect(() => n1.send('n2', { kind: 'late', seq: 0 })).not.toThrow();
      await n1.close();
      await sleep(50);
      expect(inboxes.get('n2')!.received).toEqual([]);
    });

    it('round-trips arbitrary JSON-like payloads unchanged (property, fixed seed)', async () => {
      const { c, inboxes } = await start();
      // A `__proto__` key is outside the contract (MessagePack decoding renames it to stay pollution-safe).
      const bodies = fc.sample(fc.jsonValue({ maxDepth: 4 }), { seed: 7, numRuns: 200 }).filter((body) => !JSON.stringify(body).includes('"__proto__"'));
      bodies.forEach((body, seq) => c.transports.get('n2')!.send('n3', { kind: 'json', seq, body }));
      await waitFor(() => inboxes.get('n3')!.received.length === bodies.length, 'all JSON payloads');
      const got = inboxes.get('n3')!.received.map((entry) => JSON.stringify(entry.message.body));
      expect(got).toEqual(bodies.map((body) => JSON.stringify(body)));
    });
  });
}
