export * from './config.js';
export * from './core.js';
export * from './ids.js';
export * from './types.js';
export * from './validate.js';
