export * from './ids.js';
export * from './envelope.js';
export * from './errors.js';
export * from './codec.js';
export * from './protocol.js';
export * from './rng.js';
export * from './storage.js';
export * from './history.js';
