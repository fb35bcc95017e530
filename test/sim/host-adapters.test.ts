import { describe, expect, it } from 'vitest';
import { isConcordError, ErrorCode } from '../../src/core/errors.js';
import { groupsPartition } from '../../src/sim/partition.js';
import { SimTransportHub } from '../../src/sim/host-adapters.js';
import { MemoryDisk } from '../../src/sim/memory-durable-log.js';

describe('simulated Transport', () => {
  it('delivers between members through the virtual network, within the synchronous bound', async () => {
    const hub = new SimTransportHub<string>(['a', 'b', 'c']);
    const inbox: string[] = [];
    const a = hub.transport('a');
    hub.transport('b').onMessage((from, message) => inbox.push(`${from}:${message}`));
    a.send('b', 'hello');
    a.send('b', 'world');
    expect(inbox).toEqual([]);
    hub.advance(1000); // Δ of the default synchronous model
    expect(inbox).toEqual(['a:hello', 'a:world']);
  });

  it('throws UNKNOWN_NODE for a non-member and drops traffic across a partition or to a closed endpoint', async () => {
    const hub = new SimTransportHub<number>(['a', 'b']);
    const a = hub.transport('a');
    const b = hub.transport('b');
    const got: number[] = [];
    b.onMessage((_from, message) => got.push(message));
    try {
      a.send('z', 1);
      expect.unreachable();
    } catch (error) {
      expect(isConcordError(error, ErrorCode.UnknownNode)).toBe(true);
    }
    hub.network.setPartition(groupsPartition('custom', 2, [[0], [1]]));
    a.send('b', 1);
    await hub.settle();
    hub.network.heal();
    a.send('b', 2);
    await hub.settle();
    await b.close();
    a.send('b', 3);
    await hub.settle();
    expect(got).toEqual([2]);
    expect(hub.dropped).toBe(2);
  });
});

describe('simulated DurableLog', () => {
  it('recovers synced records after a crash and loses unsynced ones', async () => {
    const disk = new MemoryDisk<string>();
    const first = disk.open();
    expect(first.recovered()).toEqual([]);
    first.append(['a', 'b']);
    await first.sync();
    first.append(['c']);
    disk.crash();
    expect(() => first.append(['d'])).toThrow(/closed/);
    const second = disk.open();
    expect(second.recovered()).toEqual(['a', 'b']);
    second.append(['e']);
    await second.sync();
    await second.close();
    expect(disk.open().recovered()).toEqual(['a', 'b', 'e']);
  });
});
