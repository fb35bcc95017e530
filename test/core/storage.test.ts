import { describe, expect, it } from 'vitest';
import { MemoryDurableLog } from '../../src/core/storage.js';

describe('MemoryDurableLog', () => {
  it('loses unsynced writes and keeps synced ones in a crash', () => {
    const log = new MemoryDurableLog<string>();
    log.append('a');
    log.append('b');
    log.sync();
    log.append('c');
    expect(log.written()).toEqual(['a', 'b', 'c']);
    expect(log.crash()).toEqual(['a', 'b']);
    expect(log.synced()).toEqual(['a', 'b']);
  });

  it('may keep a prefix of unsynced writes, never a gap', () => {
    const log = new MemoryDurableLog<number>();
    log.append(1);
    log.sync();
    log.append(2);
    log.append(3);
    expect(log.crash(1)).toEqual([1, 2]);
    expect(() => log.crash(1)).toThrow();
  });

  it('drops records before the latest synced checkpoint', () => {
    const log = new MemoryDurableLog<string>((record) => record.startsWith('snap'));
    log.append('a');
    log.append('snap1');
    log.append('b');
    log.sync();
    expect(log.synced()).toEqual(['snap1', 'b']);
  });
});
