import { describe, expect, it } from 'vitest';
import { isConcordError } from '../../../src/core/errors.js';
import { Rng } from '../../../src/core/rng.js';
import {
  tpcConfig, type TpcMessage, type TpcRecord, type TpcReply, type TpcRequest, twoPhaseCommitFactory, type TwoPhaseCommitCore,
} from '../../../src/protocols/two-phase-commit/index.js';
import { ScriptedNet } from '../scripted-net.js';

/**
 * Scripted interaction tests: three nodes, messages carried by hand, so each test states exactly
 * what was delivered, lost or crashed.
 */
const peers = ['n1', 'n2', 'n3'];

class Cluster extends ScriptedNet<TwoPhaseCommitCore, TpcMessage, TpcRecord, TpcRequest, TpcReply> {
  constructor(factory = twoPhaseCommitFactory({ voteTimeoutTicks: 20, resendTicks: 5 })) {
    super(peers, (id, recovered) => factory({ id, peers, rng: Rng.fromSeed(7), recovered }));
  }

  /** Power cut and restart from the node's records (every record here is durable once emitted). */
  restart(id: string): void {
    this.boot(id);
  }

  records(id: string, type: TpcRecord['type']): TpcRecord[] {
    return this.disks.get(id)!.filter((record) => record.type === type);
  }
}

const transfer = (txId: string): TpcRequest => ({ type: 'transact', txId, writes: { n1: { a: `${txId}-a` }, n2: { b: `${txId}-b` }, n3: { c: `${txId}-c` } } });

describe('two-phase commit core', () => {
  it('commits when every participant votes yes: prepared before each vote, the commit logged before anyone hears of it', () => {
    const cluster = new Cluster();
    cluster.request('n1', transfer('t1'));
    // n1 prepared itself (synced in the same output that sends the prepares).
    expect(cluster.records('n1', 'prepared')).toHaveLength(1);
    expect(cluster.outputs.at(-1)!.sync).toBe(true);
    expect(cluster.inFlight.map((envelope) => `${envelope.to}:${envelope.message.type}`)).toEqual(['n2:prepare', 'n3:prepare']);
    cluster.deliverAll();
    expect(cluster.replies).toEqual([{ type: 'committed', txId: 't1' }]);
    const commitOutput = cluster.outputs.find((output) => output.persist.some((record) => record.type === 'commit'))!;
    expect(commitOutput.sync).toBe(true);
    expect(commitOutput.replies).toHaveLength(1);
    for (const id of peers) expect(cluster.core(id).participantState('t1')).toBe('committed');
    expect(cluster.core('n2').committedValues().get('b')).toBe('t1-b');
    // Every participant acknowledged: the coordinator ends the transaction with a lazy record.
    expect(cluster.records('n1', 'end')).toEqual([{ type: 'end', txId: 't1' }]);
    expect(cluster.core('n1').coordinating()).toBe(0);
    expect(peers.map((id) => cluster.core(id).lockedKeys())).toEqual([0, 0, 0]);
  });

  it('aborts on a no vote (a key locked by an undecided transaction) without logging anything at the coordinator', () => {
    const cluster = new Cluster();
    cluster.request('n3', { type: 'transact', txId: 'holder', writes: { n2: { b: 'x' } } });
    // n2 prepares `holder` and votes yes; the vote is lost, so n2 keeps `b` locked.
    cluster.deliverAll((envelope) => envelope.message.type === 'vote');
    expect(cluster.core('n2').inDoubt()).toEqual(['holder']);
    cluster.request('n1', transfer('t2'));
    cluster.deliverAll((envelope) => envelope.message.type === 'vote' && envelope.message.txId === 'holder');
    expect(cluster.replies).toContainEqual({ type: 'aborted', txId: 't2', reason: 'vote-no' });
    expect(cluster.records('n1', 'commit')).toEqual([]);
    expect(cluster.core('n1').participantState('t2')).toBe('aborted');
    expect(cluster.core('n3').participantState('t2')).toBe('aborted');
    expect(cluster.core('n2').participantState('t2')).toBeNull();
  });

  it('aborts when votes do not arrive within the vote timeout', () => {
    const cluster = new Cluster();
    cluster.request('n1', transfer('t3'));
    cluster.inFlight.length = 0; // both prepares lost
    for (let round = 0; round < 4; round += 1) {
      cluster.timer('n1', 'resend/t3');
      cluster.inFlight.length = 0; // and every resend
    }
    expect(cluster.replies).toEqual([{ type: 'aborted', txId: 't3', reason: 'timeout' }]);
    expect(cluster.core('n1').participantState('t3')).toBe('aborted');
  });

  it('a restarted participant keeps its locks and asks its coordinator until it learns the outcome', () => {
    const cluster = new Cluster();
    cluster.request('n1', transfer('t4'));
    // Votes reach n1, which commits; the decisions to n2 and n3 are lost and n3 restarts.
    cluster.deliverAll((envelope) => envelope.message.type === 'decision');
    expect(cluster.replies).toEqual([{ type: 'committed', txId: 't4' }]);
    cluster.restart('n3');
    expect(cluster.core('n3').inDoubt()).toEqual(['t4']);
    expect(cluster.core('n3').lockedKeys()).toBe(1);
    cluster.timer('n3', 'inquire/t4');
    expect(cluster.inFlight.map((envelope) => `${envelope.from}->${envelope.to}:${envelope.message.type}`)).toContain('n3->n1:inquire');
    cluster.deliverAll((envelope) => envelope.to === 'n2');
    expect(cluster.core('n3').participantState('t4')).toBe('committed');
    expect(cluster.core('n3').committedValues().get('c')).toBe('t4-c');
    expect(cluster.core('n3').lockedKeys()).toBe(0);
  });

  it('a restarted coordinator resends logged commits, and presumes abort for what it never logged', () => {
    const cluster = new Cluster();
    cluster.request('n1', transfer('t5'));
    cluster.deliverAll((envelope) => envelope.message.type === 'decision');
    // A second transaction is still collecting votes when n1 crashes: nothing about it is logged.
    cluster.request('n1', { type: 'transact', txId: 't6', writes: { n1: { z: '1' }, n2: { y: '1' } } });
    cluster.deliverAll((envelope) => envelope.message.type === 'vote');
    expect(cluster.core('n2').inDoubt().sort()).toEqual(['t5', 't6']);
    cluster.restart('n1');
    // start() resent the commit of t5 to both other participants.
    expect(cluster.inFlight.filter((envelope) => envelope.message.type === 'decision').map((envelope) => envelope.to).sort()).toEqual(['n2', 'n3']);
    cluster.deliverAll();
    expect(cluster.core('n2').participantState('t5')).toBe('committed');
    expect(cluster.core('n3').participantState('t5')).toBe('committed');
    // n1 itself had prepared t6 and learns (from itself) that it aborted; n2 asks and hears abort.
    cluster.timer('n1', 'inquire/t6');
    expect(cluster.core('n1').participantState('t6')).toBe('aborted');
    cluster.timer('n2', 'inquire/t6');
    cluster.deliverAll();
    expect(cluster.core('n2').participantState('t6')).toBe('aborted');
    expect(cluster.core('n2').lockedKeys()).toBe(0);
  });

  it('refuses bad requests with typed errors, drops malformed messages, ignores commits for unprepared transactions', () => {
    const cluster = new Cluster();
    cluster.request('n1', { type: 'transact', txId: 'bad', writes: { n9: { a: '1' } } });
    cluster.request('n1', { type: 'transact', txId: '', writes: { n1: { a: '1' } } });
    cluster.request('n1', { type: 'transact', txId: 'empty', writes: {} });
    cluster.request('n1', transfer('t7'));
    cluster.deliverAll();
    cluster.request('n1', transfer('t7'));
    expect(cluster.replies.filter((reply) => reply.type === 'error').map((reply) => (reply as { code: string }).code)).toEqual([
      'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'CONFLICT',
    ]);
    const n2 = cluster.core('n2');
    n2.step({ type: 'message', from: 'n1', message: { type: 'vote', txId: 't7' } as unknown as TpcMessage });
    n2.step({ type: 'message', from: 'n1', message: { type: 'prepare', txId: 'x', writes: {} } as TpcMessage });
    n2.step({ type: 'message', from: 'intruder', message: { type: 'ack', txId: 't7' } });
    expect(n2.stats.malformedDropped).toBe(3);
    const output = n2.step({ type: 'message', from: 'n3', message: { type: 'decision', txId: 'never-prepared', commit: true } });
    expect(output.messages).toEqual([]);
    expect(n2.unexpectedCommits).toBe(1);
  });

  it('rejects bad configuration with INVALID_CONFIG', () => {
    for (const overrides of [{ voteTimeoutTicks: 0 }, { inquireBaseTicks: 50, inquireMaxTicks: 10 }, { resendTicks: 1.5 }]) {
      try {
        tpcConfig(overrides);
        expect.unreachable();
      } catch (error) {
        expect(isConcordError(error, 'INVALID_CONFIG')).toBe(true);
      }
    }
  });
});
