import fc from 'fast-check';
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

  it('compacts exactly like a full rescan at every sync, across crashes (property)', () => {
    // Reference model: every sync scans the whole synced prefix for its latest checkpoint.
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), checkpoint: fc.boolean() }),
      fc.record({ kind: fc.constant('sync' as const) }),
      fc.record({ kind: fc.constant('crash' as const), keep: fc.nat(3) }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 60 }), (operations) => {
        const log = new MemoryDurableLog<string>((record) => record.startsWith('snap'));
        let model: string[] = [];
        let modelSynced = 0;
        operations.forEach((operation, step) => {
          if (operation.kind === 'append') {
            const record = `${operation.checkpoint ? 'snap' : 'rec'}${step}`;
            log.append(record);
            model.push(record);
          } else if (operation.kind === 'sync') {
            log.sync();
            modelSynced = model.length;
            for (let index = modelSynced - 1; index > 0; index -= 1) {
              if (model[index]!.startsWith('snap')) {
                model = model.slice(index);
                modelSynced -= index;
                break;
              }
            }
          } else {
            const keep = Math.min(operation.keep, model.length - modelSynced);
            expect(log.crash(keep)).toEqual(model.slice(0, modelSynced + keep));
            model.length = modelSynced + keep;
            modelSynced = model.length;
          }
          expect(log.written()).toEqual(model);
          expect(log.synced()).toEqual(model.slice(0, modelSynced));
        });
      }),
      { numRuns: 300 },
    );
  });
});
