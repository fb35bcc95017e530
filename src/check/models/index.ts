import { ConcordError, ErrorCode } from '../../core/errors.js';
import type { HistoryModel } from '../model.js';
import { kvModel } from './kv.js';
import { queueModel } from './queue.js';
import { registerModel } from './register.js';
import { setModel } from './set.js';

export * from './common.js';
export * from './kv.js';
export * from './queue.js';
export * from './register.js';
export * from './set.js';

export const MODEL_NAMES = ['register', 'kv', 'set', 'queue'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface NamedModelOptions {
  /** Initial value of the register / of every key (kv); default nil. */
  readonly initial?: string | number | null;
  /** kv only: check each key independently; default true. */
  readonly partitionByKey?: boolean;
}

/** A fresh model instance by name (each instance has its own value table). */
export function createModel(name: ModelName, options: NamedModelOptions = {}): HistoryModel<any, any, any> {
  switch (name) {
    case 'register':
      return registerModel({ initial: options.initial ?? null });
    case 'kv':
      return kvModel({
        initial: options.initial === undefined || options.initial === null ? null : String(options.initial),
        ...(options.partitionByKey !== undefined ? { partitionByKey: options.partitionByKey } : {}),
      });
    case 'set':
      return setModel();
    case 'queue':
      return queueModel();
    default:
      throw new ConcordError(ErrorCode.InvalidArgument, `unknown model ${JSON.stringify(name)} (expected ${MODEL_NAMES.join(', ')})`);
  }
}
