import type { NodeId } from '../../../../src/core/ids.js';
import { describeEntry, describeRecord, describeStatus } from '../../../../src/protocols/raft/describe.js';
import type { MembershipChangeItem } from '../../../../src/protocols/raft/types.js';
import { checkLogMatching } from './monitor.js';
import { RaftNetwork, type KvRaftOptions } from './network.js';

/**
 * Scripted interaction tests in the style of etcd's `testdata/*.txt` (datadriven): each case is
 * one or more command lines, a `----` line, and the expected canonical output up to a blank line.
 * Comments (`#`) and blank lines between cases are kept. `runScript` returns the file with every
 * expectation replaced by the actual output, so a test compares it with the original, and a
 * rewrite (REWRITE=1) writes it back.
 */

interface Case {
  readonly prelude: string[];
  readonly commands: string[];
  readonly expected: string[];
}

export function parseScript(text: string): { cases: Case[]; trailer: string[] } {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const cases: Case[] = [];
  let prelude: string[] = [];
  let position = 0;
  while (position < lines.length) {
    const line = lines[position]!;
    if (line.trim() === '' || line.startsWith('#')) {
      prelude.push(line);
      position += 1;
      continue;
    }
    const commands: string[] = [];
    while (position < lines.length && lines[position] !== '----') {
      commands.push(lines[position]!);
      position += 1;
    }
    if (position >= lines.length) throw new Error(`command without ---- separator: ${commands.join(' / ')}`);
    position += 1;
    const expected: string[] = [];
    while (position < lines.length && lines[position]!.trim() !== '') {
      expected.push(lines[position]!);
      position += 1;
    }
    cases.push({ prelude, commands, expected });
    prelude = [];
  }
  return { cases, trailer: prelude };
}

/** Runs a script; returns the text with actual outputs in place of the expectations. */
export function runScript(text: string): string {
  const { cases, trailer } = parseScript(text);
  const runner = new ScriptRunner();
  const out: string[] = [];
  for (const testCase of cases) {
    out.push(...testCase.prelude, ...testCase.commands, '----');
    const actual: string[] = [];
    for (const command of testCase.commands) actual.push(...runner.run(command));
    out.push(...(actual.length === 0 ? ['ok'] : actual));
  }
  out.push(...trailer);
  return out.join('\n') + '\n';
}

type Args = { positional: string[]; named: Map<string, string> };

function parseArgs(tokens: string[]): Args {
  const positional: string[] = [];
  const named = new Map<string, string>();
  for (const token of tokens) {
    const equals = token.indexOf('=');
    if (equals > 0) named.set(token.slice(0, equals), token.slice(equals + 1));
    else positional.push(token);
  }
  return { positional, named };
}

class ScriptRunner {
  private network: RaftNetwork | null = null;
  private electionTicks = 0;
  private heartbeatTicks = 1;

  run(command: string): string[] {
    const [name, ...rest] = command.trim().split(/\s+/);
    const args = parseArgs(rest);
    const handler = this.handlers[name!];
    if (handler === undefined) throw new Error(`unknown command: ${name}`);
    const lines = handler(args);
    return [...this.net().takeTrace(), ...lines];
  }

  private net(): RaftNetwork {
    if (this.network === null) throw new Error('no cluster: start with the `cluster` command');
    return this.network;
  }

  private readonly handlers: Record<string, (args: Args) => string[]> = {
    cluster: (args) => this.cluster(args),
    'add-node': (args) => {
      for (const id of args.positional) this.net().addNode(id, true);
      return [];
    },
    campaign: (args) => {
      this.net().request(args.positional[0]!, { type: 'campaign' });
      return [];
    },
    tick: (args) => {
      const count = Number(args.positional[1] ?? '1');
      this.net().tick(args.positional[0]!, count);
      return [];
    },
    'tick-election': (args) => {
      for (const id of args.positional) this.net().tick(id, this.electionTicks);
      return [];
    },
    'tick-heartbeat': (args) => {
      for (const id of args.positional) this.net().tick(id, this.heartbeatTicks);
      return [];
    },
    'tick-all': (args) => {
      const count = Number(args.positional[0] ?? '1');
      for (let tick = 0; tick < count; tick += 1) for (const id of this.net().upIds()) this.net().tick(id);
      return [];
    },
    // N rounds of: every node (or those of `nodes=a,b`) ticks once, then the network stabilizes.
    // Heartbeat traffic is left out of the output (it is implied by time passing).
    elapse: (args) => {
      const rounds = Number(args.positional[0] ?? '1');
      const only = args.named.get('nodes')?.split(',');
      const lines: string[] = [];
      for (let round = 0; round < rounds; round += 1) {
        for (const id of this.net().upIds()) if (only === undefined || only.includes(id)) this.net().tick(id);
        this.net().stabilize();
        lines.push(...this.net().takeTrace().filter((line) => !/ heartbeat(Response)? /.test(line)));
      }
      return lines;
    },
    stabilize: () => {
      this.net().stabilize();
      return [];
    },
    deliver: (args) => {
      const limit = args.named.get('limit');
      this.net().deliver({ from: args.named.get('from'), to: args.named.get('to'), limit: limit === undefined ? undefined : Number(limit) });
      return [];
    },
    drop: (args) => {
      const dropped = this.net().drop({ from: args.named.get('from'), to: args.named.get('to'), type: args.named.get('type') });
      return dropped === 0 ? ['dropped 0 message(s)'] : [];
    },
    queue: () => this.net().queue.map((envelope) => `${envelope.from}->${envelope.to} ${envelope.message.type}`),
    put: (args) => {
      const [id, key, value] = args.positional;
      const client = args.named.get('client');
      const session = client === undefined ? undefined : { clientId: client, sequence: Number(args.named.get('seq') ?? '1') };
      this.net().propose(id!, { op: 'put', key: key!, value: value! }, session);
      return [];
    },
    del: (args) => {
      this.net().propose(args.positional[0]!, { op: 'delete', key: args.positional[1]! });
      return [];
    },
    cas: (args) => {
      const [id, key, expected, value] = args.positional;
      this.net().propose(id!, { op: 'cas', key: key!, expected: expected === 'nil' ? null : expected!, value: value! });
      return [];
    },
    get: (args) => {
      const [id, key, mode] = args.positional;
      this.net().read(id!, { op: 'get', key: key! }, mode === 'serializable' ? 'serializable' : 'linearizable');
      return [];
    },
    range: (args) => {
      const [id, prefix, limit] = args.positional;
      this.net().read(id!, { op: 'range', prefix: prefix ?? '', limit: Number(limit ?? '100') });
      return [];
    },
    change: (args) => this.change(args),
    transfer: (args) => {
      this.net().request(args.positional[0]!, { type: 'transferLeader', target: args.positional[1]! });
      return [];
    },
    partition: (args) => {
      const groups: NodeId[][] = [[]];
      for (const token of args.positional) {
        if (token === '|') groups.push([]);
        else groups[groups.length - 1]!.push(token);
      }
      this.net().partition(...groups);
      return [];
    },
    isolate: (args) => {
      this.net().isolate(args.positional[0]!);
      return [];
    },
    heal: () => {
      this.net().heal();
      return [];
    },
    crash: (args) => {
      this.net().crash(args.positional[0]!, Number(args.named.get('keep') ?? '0'));
      return [];
    },
    restart: (args) => {
      this.net().restart(args.positional[0]!);
      return [];
    },
    'end-turn': (args) => {
      for (const id of args.positional) this.net().endTurn(id);
      return [];
    },
    'hold-sync': (args) => {
      this.net().setHoldSync(args.positional[0]!, args.positional[1] !== 'off');
      return [];
    },
    sync: (args) => {
      this.net().sync(args.positional[0]!);
      return [];
    },
    status: (args) => {
      const ids = args.positional.length > 0 ? args.positional : this.net().upIds();
      return ids.map((id) => `${id}: ${describeStatus(this.net().core(id).status())}`);
    },
    progress: (args) => {
      const progress = this.net().core(args.positional[0]!).status().progress;
      if (progress === null) return ['not leader'];
      return Object.entries(progress).map(([id, pr]) => `${id}: ${pr.state} match=${pr.match} next=${pr.next} inflight=${pr.inflightMessages}${pr.learner ? ' learner' : ''}`);
    },
    log: (args) => {
      const log = this.net().core(args.positional[0]!).log;
      const lines = [`start=${log.term(log.firstIndex() - 1)}/${log.firstIndex() - 1}`];
      for (const entry of log.slice(log.firstIndex(), log.lastIndex())) lines.push(describeEntry(entry));
      return lines;
    },
    craft: (args) => {
      const terms = (args.named.get('log') ?? '').split(',').filter((term) => term !== '').map(Number);
      const vote = args.named.get('vote');
      this.net().craft(args.positional[0]!, {
        term: Number(args.named.get('term') ?? '1'),
        vote: vote === undefined || vote === '-' ? null : vote,
        commit: Number(args.named.get('commit') ?? '1'),
        terms,
      });
      return [];
    },
    records: (args) => this.net().records(args.positional[0]!).map(describeRecord),
    lease: (args) => [`${args.positional[0]} lease ${this.net().core(args.positional[0]!).hasValidLease() ? 'valid' : 'invalid'}`],
    check: () => {
      const net = this.net();
      const problems = [...net.monitor.violations, ...checkLogMatching(net.upIds().map((id) => net.core(id)))];
      return problems.length === 0 ? ['safe'] : problems;
    },
  };

  private cluster(args: Args): string[] {
    const options: Record<string, unknown> = {};
    const mapping: Record<string, [string, (value: string) => unknown]> = {
      preVote: ['preVote', (value) => value === 'true'],
      checkQuorum: ['checkQuorum', (value) => value === 'true'],
      readMode: ['linearizableReadMode', (value) => value],
      snapshotThreshold: ['snapshotThresholdEntries', Number],
      catchUp: ['snapshotCatchUpEntries', Number],
      chunkBytes: ['snapshotChunkBytes', Number],
      stepBytes: ['snapshotStepBytes', Number],
      electionTimeout: ['electionTimeoutTicks', Number],
      electionRandom: ['electionTimeoutRandomTicks', Number],
      heartbeat: ['heartbeatTicks', Number],
      maxInflight: ['maxInflightMessages', Number],
      maxMessageBytes: ['maxSizePerMessageBytes', Number],
      maxUncommittedBytes: ['maxUncommittedBytes', Number],
      batching: ['appendBatching', (value) => value === 'true'],
      forwardPerTurn: ['forwardPerTurn', (value) => value === 'true'],
      requestTimeout: ['requestTimeoutTicks', Number],
      leaseDrift: ['leaseClockDriftMaxRatio', Number],
    };
    for (const [key, value] of args.named) {
      if (key === 'seed' || key === 'records' || key === 'bugs') continue;
      const target = mapping[key];
      if (target === undefined) throw new Error(`unknown cluster option ${key}`);
      options[target[0]] = target[1](value);
    }
    const bugs = (args.named.get('bugs') ?? '').split(',').filter((bug) => bug !== '');
    if (bugs.length > 0) {
      options['testingBugs'] = {
        skipVoteUpToDateCheck: bugs.includes('skipVoteUpToDateCheck'),
        commitPreviousTermByCounting: bugs.includes('commitPreviousTermByCounting'),
      };
    }
    const network = new RaftNetwork(args.positional, options as KvRaftOptions, Number(args.named.get('seed') ?? '1'));
    network.traceRecords = args.named.get('records') === 'on';
    this.network = network;
    const election = Number(options['electionTimeoutTicks'] ?? 10);
    const random = Number(options['electionTimeoutRandomTicks'] ?? election);
    this.electionTicks = election + random - 1;
    this.heartbeatTicks = Number(options['heartbeatTicks'] ?? 1);
    return [];
  }

  private change(args: Args): string[] {
    const [id, ...items] = args.positional;
    const changes: MembershipChangeItem[] = items.map((item) => {
      const [type, node] = item.split(':');
      if (type !== 'addVoter' && type !== 'addLearner' && type !== 'remove') throw new Error(`bad change item ${item}`);
      return { type, node: node! };
    });
    const transition = (args.named.get('transition') ?? 'auto') as 'auto' | 'jointImplicit' | 'jointExplicit';
    this.net().changeMembership(id!, { changes, transition });
    return [];
  }
}
