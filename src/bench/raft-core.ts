/**
 * Core-only Raft throughput: five `RaftCore`s wired by a minimal in-process loop (no simulator,
 * no network model, no checkers), closed-loop clients proposing KV puts at the leader, every
 * output's records "synced" at the end of each delivery round (group commit). It measures what
 * the protocol core and the KV state machine cost per committed command, the floor under any
 * host. Usage: node dist/bench/raft-core.js [--clients 256] [--seconds 3] [--keys 1000]
 *
 * Reports commands per wall-clock second and per CPU second (the machine may be shared).
 */
import type { Envelope } from '../core/envelope.js';
import type { Output } from '../core/protocol.js';
import { Rng } from '../core/rng.js';
import { resolveRaftConfig } from '../protocols/raft/config.js';
import { KvStateMachine, type KvCommand, type KvTypes } from '../protocols/raft/kv.js';
import { RaftCore } from '../protocols/raft/raft.js';
import type { RaftMessage, RaftRecord, RaftReply } from '../protocols/raft/types.js';

type KvOutput = Output<RaftMessage<KvCommand>, RaftRecord<KvCommand>, RaftReply<KvTypes>>;

function argument(name: string, fallback: number): number {
  const position = process.argv.indexOf(`--${name}`);
  return position >= 0 ? Number(process.argv[position + 1]) : fallback;
}

function main(): void {
  const clients = argument('clients', 256);
  const seconds = argument('seconds', 3);
  const keys = argument('keys', 1000);
  const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];
  const config = resolveRaftConfig<KvTypes>({ stateMachine: () => new KvStateMachine({ maxRecentChanges: 1000 }) });
  const root = Rng.fromSeed(1);
  const cores = new Map(ids.map((id) => [id, new RaftCore<KvTypes>({ id, peers: ids, rng: root.split(id), recovered: [] }, config)]));
  const emitted = new Map(ids.map((id) => [id, 0]));
  const dirty = new Set<string>();
  const pending = new Map<number, number>();
  const value = 'v'.repeat(128);
  let queue: Envelope<RaftMessage<KvCommand>>[] = [];
  let committed = 0;
  let nextRequest = 1;

  const absorb = (id: string, output: KvOutput): void => {
    if (output.persist.length > 0) {
      emitted.set(id, emitted.get(id)! + output.persist.length);
      dirty.add(id);
    }
    for (const envelope of output.messages) queue.push(envelope);
    for (const { requestId, reply } of output.replies) {
      const client = pending.get(requestId);
      if (client === undefined) continue;
      pending.delete(requestId);
      if (reply.type === 'applied') committed += 1;
      propose(client);
    }
  };
  const propose = (client: number): void => {
    const requestId = nextRequest;
    nextRequest += 1;
    pending.set(requestId, client);
    const command: KvCommand = { op: 'put', key: `key${requestId % keys}`, value };
    absorb('n1', cores.get('n1')!.step({ type: 'request', requestId, request: { type: 'propose', command } }));
  };
  const round = (): void => {
    const batch = queue;
    queue = [];
    for (const envelope of batch) absorb(envelope.to, cores.get(envelope.to)!.step({ type: 'message', from: envelope.from, message: envelope.message }));
    for (const id of [...dirty]) {
      dirty.delete(id);
      absorb(id, cores.get(id)!.step({ type: 'persisted', throughRecord: emitted.get(id)! }));
    }
  };

  for (const [id, core] of cores) absorb(id, core.start());
  absorb('n1', cores.get('n1')!.step({ type: 'request', requestId: 0, request: { type: 'campaign' } }));
  for (let warmup = 0; warmup < 20; warmup += 1) round();
  for (let client = 0; client < clients; client += 1) propose(client);
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  let rounds = 0;
  while (performance.now() - started < seconds * 1000) {
    round();
    rounds += 1;
    if (rounds % 20 === 0) for (const [id, core] of cores) absorb(id, core.step({ type: 'tick' }));
  }
  const wallSeconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  console.log(
    JSON.stringify({
      nodes: ids.length,
      clients,
      committed,
      wallSeconds: Number(wallSeconds.toFixed(2)),
      commandsPerWallSecond: Math.round(committed / wallSeconds),
      commandsPerCpuSecond: Math.round(committed / cpuSeconds),
      rounds,
    }),
  );
}

main();
