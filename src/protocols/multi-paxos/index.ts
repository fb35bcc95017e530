export * from './core.js';
export * from './types.js';
