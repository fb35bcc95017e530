export * from './core.js';
export * from './validate.js';
