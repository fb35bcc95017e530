export * from './core.js';
export * from './types.js';
export * from './validate.js';
