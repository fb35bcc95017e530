import { registerScenario } from '../sim/scenario.js';
import { causalBroadcastScenarios } from './causal-broadcast.js';
import { chordScenarios } from './chord.js';
import { failureDetectorScenarios } from './failure-detector.js';
import { multiPaxosScenarios } from './multi-paxos.js';
import { pbftScenarios } from './pbft.js';
import { quorumKvScenarios } from './quorum-kv.js';
import { pingCanaryScenario, pingScenario } from './ping.js';
import { raftKvScenarios } from './raft-kv.js';
import { reliableDeliveryScenarios } from './reliable-delivery.js';
import { twoPhaseCommitScenarios } from './two-phase-commit.js';

/**
 * The built-in scenarios, registered on import (the CLI and the sweep workers import this file).
 * To add one: write `src/scenarios/<name>.ts` exporting `defineScenario({...})` (see
 * `src/sim/scenario.ts`), then add one `registerScenario(...)` line here.
 */
registerScenario(pingScenario);
registerScenario(pingCanaryScenario);
for (const scenario of reliableDeliveryScenarios) registerScenario(scenario);
for (const scenario of raftKvScenarios) registerScenario(scenario);
for (const scenario of twoPhaseCommitScenarios) registerScenario(scenario);
for (const scenario of failureDetectorScenarios) registerScenario(scenario);
for (const scenario of causalBroadcastScenarios) registerScenario(scenario);
for (const scenario of multiPaxosScenarios) registerScenario(scenario);
for (const scenario of quorumKvScenarios) registerScenario(scenario);
for (const scenario of pbftScenarios) registerScenario(scenario);
for (const scenario of chordScenarios) registerScenario(scenario);

export { getScenario, listScenarios } from '../sim/scenario.js';
