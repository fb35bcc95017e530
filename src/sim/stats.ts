/** Counters of one simulation run (all plain integers, cheap to bump on the hot path). */
export interface SimStats {
  /** Events popped from the queue (every kind). */
  events: number;
  /** Messages handed to a core. */
  deliveries: number;
  /** Messages cores asked to send (before any fault). */
  sent: number;
  /** Extra copies created by link duplication. */
  duplicates: number;
  drops: DropStats;
  ticks: number;
  timers: number;
  requests: number;
  /** Requests that reached a down node (the client will time out). */
  requestsLost: number;
  replies: number;
  recordsPersisted: number;
  syncs: number;
  crashes: number;
  restarts: number;
  pauses: number;
  /** Messages a Byzantine adversary altered or added. */
  byzantineAltered: number;
}

export interface DropStats {
  loss: number;
  partition: number;
  noLink: number;
  nodeDown: number;
  sendOmission: number;
  receiveOmission: number;
  byzantine: number;
  pausedOverflow: number;
}

export function newStats(): SimStats {
  return {
    events: 0,
    deliveries: 0,
    sent: 0,
    duplicates: 0,
    drops: { loss: 0, partition: 0, noLink: 0, nodeDown: 0, sendOmission: 0, receiveOmission: 0, byzantine: 0, pausedOverflow: 0 },
    ticks: 0,
    timers: 0,
    requests: 0,
    requestsLost: 0,
    replies: 0,
    recordsPersisted: 0,
    syncs: 0,
    crashes: 0,
    restarts: 0,
    pauses: 0,
    byzantineAltered: 0,
  };
}

/** Total dropped messages over every reason. */
export function totalDrops(stats: SimStats): number {
  const drops = stats.drops;
  return drops.loss + drops.partition + drops.noLink + drops.nodeDown + drops.sendOmission + drops.receiveOmission + drops.byzantine + drops.pausedOverflow;
}
