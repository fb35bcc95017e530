export * from './config.js';
export * from './core.js';
export * from './factory.js';
export * from './ids.js';
export * from './routing.js';
export * from './types.js';
export * from './validate.js';
