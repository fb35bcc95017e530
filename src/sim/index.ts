/**
 * The deterministic simulator. Entry points:
 * - `Simulation`: the kernel (virtual time, event queue, nodes hosting cores, faults);
 * - `defineScenario` / `registerScenario` / `getScenario`: named seeded runs with a nemesis,
 *   clients, safety checkers and a liveness condition (see `scenario.ts` for how to add one);
 * - `Network`, `Topology`, partitions and timing models; `EventQueue`; `TraceHash`.
 */
export * from './adversary.js';
export * from './clients.js';
export * from './event-queue.js';
export * from './nemesis.js';
export * from './network.js';
export * from './partition.js';
export * from './runner.js';
export * from './scenario.js';
export * from './settings.js';
export * from './simulation.js';
export * from './stats.js';
export * from './timing.js';
export * from './topology.js';
export * from './trace-hash.js';
export * from './host-adapters.js';
export * from './memory-durable-log.js';
