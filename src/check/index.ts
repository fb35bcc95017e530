/**
 * concord's checkers: linearizability (Wing & Gong search with Lowe's memoization,
 * P-compositionality, pluggable sequential models) and consensus properties over recorded runs.
 */
export * from './model.js';
export * from './nondeterministic.js';
export * from './linearizability.js';
export * from './pairing.js';
export * from './values.js';
export * from './models/index.js';
export * from './readers/index.js';
export { malformedInput, type InputLocation } from './malformed.js';
export * from './html.js';
