export * from './types.js';
export * from './config.js';
export * from './dedup.js';
export * from './core.js';
export * from './effects.js';
export * from './validate.js';
