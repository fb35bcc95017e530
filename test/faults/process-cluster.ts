import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBuilt } from '../kv/cluster-helpers.js';
import { FaultCluster } from '../jepsen/harness/cluster.js';
import { harnessTiming } from '../jepsen/harness/run.js';

export const testToken = 'fault-harness-token';
export const testSecret = 'fault-harness-secret-0123456789';

/** A loopback cluster of real `concord node` processes (token set, fault injection on), torn down by `cleanup`. */
export async function startProcessCluster(size: number, extraArgs: readonly string[] = []): Promise<{ cluster: FaultCluster; dataRoot: string; cleanup: () => Promise<void> }> {
  ensureBuilt();
  const dataRoot = mkdtempSync(path.join(os.tmpdir(), 'concord-faults-'));
  const cluster = await FaultCluster.create({ size, lab: null, dataRoot, token: testToken, secret: testSecret, extraArgs: [...harnessTiming, '--log-level', 'warn', ...extraArgs] });
  const cleanup = async (): Promise<void> => {
    await cluster.killAll();
    rmSync(dataRoot, { recursive: true, force: true });
  };
  try {
    for (const id of cluster.members()) cluster.start(id);
    await cluster.waitForAgreedLeader(30_000);
  } catch (error) {
    await cleanup();
    throw error;
  }
  return { cluster, dataRoot, cleanup };
}
