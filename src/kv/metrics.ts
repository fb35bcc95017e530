import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the metrics read from the node at scrape time. */
export interface MetricsSource {
  status(): {
    readonly term: number;
    readonly commitIndex: number;
    readonly appliedIndex: number;
    readonly isLeader: boolean;
    readonly revision: number;
  };
  runtime(): {
    readonly syncs: number;
    readonly recordsPersisted: number;
    readonly messagesSent: number;
    readonly pendingRequests: number;
    readonly requestTimeouts: number;
  };
  wal(): {
    /** Whether the WAL's group commits currently run inline on the event loop (`io` auto/inline). */
    readonly inlineIo: boolean;
    readonly inlineBatches: number;
  };
}

/**
 * Prometheus metrics of one node (its own registry, so several nodes can share a process in
 * tests). Counters that the node already keeps are read at scrape time instead of being
 * incremented on the hot path.
 */
export class KvMetrics {
  readonly registry = new Registry();
  readonly requestDuration: Histogram<'route' | 'status'>;
  readonly proposals: Counter<'op'>;
  readonly elections: Counter;
  readonly syncRecords: Histogram;
  readonly syncDuration: Histogram;
  private lastTerm = 0;

  constructor(nodeId: string, source: MetricsSource) {
    this.registry.setDefaultLabels({ node: nodeId });
    collectDefaultMetrics({ register: this.registry, prefix: 'concord_' });
    this.requestDuration = new Histogram({
      name: 'concord_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['route', 'status'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.proposals = new Counter({ name: 'concord_proposals_total', help: 'Writes proposed through this node', labelNames: ['op'], registers: [this.registry] });
    this.elections = new Counter({ name: 'concord_elections_observed_total', help: 'Term changes seen by this node', registers: [this.registry] });
    this.syncRecords = new Histogram({
      name: 'concord_wal_sync_records',
      help: 'Records made durable per fsync (group-commit batch size)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024],
      registers: [this.registry],
    });
    this.syncDuration = new Histogram({
      name: 'concord_wal_sync_duration_seconds',
      help: 'Duration of one group-commit sync',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1],
      registers: [this.registry],
    });
    this.registerGauges(source);
  }

  /** Label children, cached: `labels()` hashes its arguments on every call, and these run per request. */
  private readonly proposalChildren = new Map<string, { inc(): void }>();
  /** Bounded by routes × statuses (a few dozen). */
  private readonly requestChildren = new Map<string, { observe(value: number): void }>();

  /** Counts one proposal (runs once per write). */
  countProposal(op: string): void {
    let child = this.proposalChildren.get(op);
    if (child === undefined) {
      child = this.proposals.labels(op);
      this.proposalChildren.set(op, child);
    }
    child.inc();
  }

  /** Records one HTTP request's latency (runs once per request). */
  observeRequest(route: string, status: number, seconds: number): void {
    const key = `${route} ${status}`;
    let child = this.requestChildren.get(key);
    if (child === undefined) {
      child = this.requestDuration.labels(route, String(status));
      this.requestChildren.set(key, child);
    }
    child.observe(seconds);
  }

  /** Call on every status change worth counting (cheap). */
  observeTerm(term: number): void {
    if (term > this.lastTerm) {
      if (this.lastTerm !== 0) this.elections.inc(term - this.lastTerm);
      this.lastTerm = term;
    }
  }

  private registerGauges(source: MetricsSource): void {
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read());
        },
      });
    };
    gauge('concord_raft_term', 'Current Raft term', () => source.status().term);
    gauge('concord_raft_commit_index', 'Highest committed log index known here', () => source.status().commitIndex);
    gauge('concord_raft_applied_index', 'Highest log index applied here', () => source.status().appliedIndex);
    gauge('concord_raft_apply_lag', 'Committed but not yet applied entries', () => {
      const status = source.status();
      return status.commitIndex - status.appliedIndex;
    });
    gauge('concord_raft_is_leader', '1 on the leader', () => (source.status().isLeader ? 1 : 0));
    gauge('concord_kv_revision', 'Store revision applied here', () => source.status().revision);
    gauge('concord_commits_total', 'Entries committed (commit index), a counter in effect', () => source.status().commitIndex);
    gauge('concord_wal_syncs_total', 'fsyncs of the write-ahead log', () => source.runtime().syncs);
    gauge('concord_wal_records_total', 'Records made durable', () => source.runtime().recordsPersisted);
    gauge('concord_wal_inline_io', '1 while WAL writes and fdatasyncs run inline on the event loop, 0 on the thread pool', () => (source.wal().inlineIo ? 1 : 0));
    gauge('concord_wal_inline_batches_total', 'Group commits written and synced inline on the event loop', () => source.wal().inlineBatches);
    gauge('concord_peer_messages_sent_total', 'Messages handed to the transport', () => source.runtime().messagesSent);
    gauge('concord_pending_requests', 'Requests awaiting the core', () => source.runtime().pendingRequests);
    gauge('concord_request_timeouts_total', 'Requests that hit their deadline', () => source.runtime().requestTimeouts);
  }
}
