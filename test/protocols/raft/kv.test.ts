import { describe, expect, it } from 'vitest';
import { KvStateMachine } from '../../../src/protocols/raft/kv.js';
import { SessionTable } from '../../../src/protocols/raft/sessions.js';

describe('KvStateMachine', () => {
  it('put, get, delete and compare-and-set with revisions', () => {
    const kv = new KvStateMachine();
    expect(kv.apply({ op: 'put', key: 'a', value: '1' })).toEqual({ op: 'put', revision: 1, previous: null });
    expect(kv.apply({ op: 'put', key: 'a', value: '2' })).toMatchObject({ revision: 2, previous: { value: '1', version: 1 } });
    expect(kv.query({ op: 'get', key: 'a' })).toEqual({
      op: 'get',
      revision: 2,
      record: { key: 'a', value: '2', createRevision: 1, modRevision: 2, version: 2 },
    });
    expect(kv.apply({ op: 'cas', key: 'a', expected: '1', value: 'x' })).toMatchObject({ succeeded: false, revision: 2, current: { value: '2' } });
    expect(kv.apply({ op: 'cas', key: 'a', expected: '2', value: '3' })).toMatchObject({ succeeded: true, revision: 3, current: { value: '3' } });
    expect(kv.apply({ op: 'cas', key: 'b', expected: null, value: 'new' })).toMatchObject({ succeeded: true, revision: 4 });
    expect(kv.apply({ op: 'delete', key: 'zzz' })).toEqual({ op: 'delete', revision: 4, deleted: false });
    expect(kv.apply({ op: 'delete', key: 'a' })).toEqual({ op: 'delete', revision: 5, deleted: true });
    expect(kv.query({ op: 'get', key: 'a' })).toEqual({ op: 'get', revision: 5, record: null });
  });

  it('ranges by prefix in key order with a limit', () => {
    const kv = new KvStateMachine();
    for (const key of ['b/2', 'a/1', 'b/1', 'b/3', 'c']) kv.apply({ op: 'put', key, value: key });
    const page = kv.query({ op: 'range', prefix: 'b/', limit: 2 });
    expect(page).toMatchObject({ more: true });
    expect(page.op === 'range' && page.records.map((record) => record.key)).toEqual(['b/1', 'b/2']);
    kv.apply({ op: 'delete', key: 'b/1' });
    const rest = kv.query({ op: 'range', prefix: 'b/', limit: 10 });
    expect(rest.op === 'range' && rest.records.map((record) => record.key)).toEqual(['b/2', 'b/3']);
    expect(rest).toMatchObject({ more: false });
  });

  it('keeps a bounded recent-changes log for watchers', () => {
    const kv = new KvStateMachine({ maxRecentChanges: 3 });
    for (let value = 1; value <= 5; value += 1) kv.apply({ op: 'put', key: value % 2 === 0 ? 'even' : 'odd', value: String(value) });
    const recent = kv.changesSince(4);
    expect(recent.events.map((event) => event.revision)).toEqual([4, 5]);
    expect(recent.compactedBefore).toBeNull();
    const old = kv.changesSince(1, 'odd');
    expect(old.compactedBefore).toBe(3);
    expect(old.events.map((event) => `${event.key}@${event.revision}`)).toEqual(['odd@3', 'odd@5']);
  });

  it('snapshots and restores to an identical state and digest', () => {
    const kv = new KvStateMachine({ maxRecentChanges: 4 });
    for (let step = 0; step < 10; step += 1) kv.apply({ op: 'put', key: `k${step % 3}`, value: `v${step}` });
    kv.apply({ op: 'delete', key: 'k1' });
    const copy = new KvStateMachine({ maxRecentChanges: 4 });
    copy.restore(kv.snapshot());
    expect(copy.digest()).toBe(kv.digest());
    expect(copy.query({ op: 'range', prefix: '', limit: 10 })).toEqual(kv.query({ op: 'range', prefix: '', limit: 10 }));
    expect(copy.changesSince(0)).toEqual(kv.changesSince(0));
    kv.apply({ op: 'put', key: 'z', value: '1' });
    copy.apply({ op: 'put', key: 'z', value: '1' });
    expect(copy.digest()).toBe(kv.digest());
  });

  it('digests the same whether write hashes are memoized per command object or not', () => {
    const shared = new KvStateMachine();
    const own = new KvStateMachine({ shareCommands: false });
    const commands = [
      { op: 'put', key: 'a', value: '1' },
      { op: 'put', key: 'b', value: '2' },
      { op: 'cas', key: 'a', expected: '1', value: '3' },
      { op: 'delete', key: 'b' },
    ] as const;
    for (const command of commands) {
      shared.apply(command);
      own.apply({ ...command });
    }
    expect(own.digest()).toBe(shared.digest());
  });

  it('digests differ when histories differ', () => {
    const left = new KvStateMachine();
    const right = new KvStateMachine();
    left.apply({ op: 'put', key: 'a', value: '1' });
    right.apply({ op: 'put', key: 'a', value: '2' });
    expect(left.digest()).not.toBe(right.digest());
  });
});

describe('SessionTable (thesis §6.3)', () => {
  it('applies new sequences, answers duplicates from the table, refuses stale and expired ones', () => {
    const table = new SessionTable<string>(2);
    expect(table.check({ clientId: 'a', sequence: 2 })).toEqual({ kind: 'expired' });
    expect(table.check({ clientId: 'a', sequence: 1 })).toEqual({ kind: 'new' });
    table.record({ clientId: 'a', sequence: 1 }, 'r1');
    expect(table.check({ clientId: 'a', sequence: 1 })).toEqual({ kind: 'duplicate', result: 'r1' });
    table.record({ clientId: 'a', sequence: 2 }, 'r2');
    expect(table.check({ clientId: 'a', sequence: 1 })).toEqual({ kind: 'stale' });
  });

  it('evicts the least recently used session when full, deterministically', () => {
    const table = new SessionTable<string>(2);
    table.record({ clientId: 'a', sequence: 1 }, 'a1');
    table.record({ clientId: 'b', sequence: 1 }, 'b1');
    table.record({ clientId: 'a', sequence: 2 }, 'a2'); // a is now the most recent
    table.record({ clientId: 'c', sequence: 1 }, 'c1'); // evicts b
    expect(table.size).toBe(2);
    expect(table.check({ clientId: 'b', sequence: 2 })).toEqual({ kind: 'expired' });
    expect(table.lastSequence('a')).toBe(2);
    const copy = new SessionTable<string>(2);
    copy.restore(JSON.parse(JSON.stringify(table.snapshot())));
    expect(copy.digest()).toBe(table.digest());
    expect(copy.check({ clientId: 'c', sequence: 1 })).toEqual({ kind: 'duplicate', result: 'c1' });
  });
});
