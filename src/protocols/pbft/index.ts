export * from './certificates.js';
export * from './config.js';
export * from './core.js';
export * from './crypto.js';
export * from './state-machine.js';
export * from './types.js';
export * from './validate.js';
export * from './view-change.js';
