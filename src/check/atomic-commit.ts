/**
 * Checker for atomic commitment (two-phase commit and its kin), a pure function over what was
 * recorded about each transaction: the outcome its client saw and what every node durably wrote.
 *
 * Properties:
 * - always (checked after every event):
 *   - `agreement`: no transaction is decided commit on one node and abort on another;
 *   - `commit-needs-votes`: a commit was logged only after every participant prepared (voted yes);
 *   - `commit-needs-decision`: no participant decided commit without the coordinator's commit record;
 *   - `ok-committed`: a client told "committed" has a logged commit behind it;
 *   - `fail-aborted`: a client told "aborted" sees no commit anywhere, ever;
 *   - `no-phantom`: every transaction in the records was requested by a client.
 * - once healed (`final`):
 *   - `termination`: every participant that prepared has decided;
 *   - `commit-everywhere`: a logged commit reached every participant.
 */
export type CommitOutcome = 'pending' | 'ok' | 'fail' | 'info';

export interface TransactionFacts {
  readonly txId: string;
  /** The participants the client asked for; null when no client request names the transaction. */
  readonly participants: readonly string[] | null;
  readonly outcome: CommitOutcome;
  /** Nodes with a durable prepared (yes-vote) record. */
  readonly prepared: ReadonlySet<string>;
  readonly decidedCommit: ReadonlySet<string>;
  readonly decidedAbort: ReadonlySet<string>;
  /** The coordinator logged the commit decision. */
  readonly commitLogged: boolean;
}

export type AtomicCommitProperty =
  | 'agreement' | 'commit-needs-votes' | 'commit-needs-decision' | 'ok-committed' | 'fail-aborted' | 'no-phantom' | 'termination' | 'commit-everywhere';

export interface AtomicCommitViolation {
  readonly property: AtomicCommitProperty;
  readonly txId: string;
  readonly message: string;
}

const list = (nodes: Iterable<string>): string => [...nodes].sort().join(', ');

function alwaysViolations(tx: TransactionFacts): AtomicCommitViolation[] {
  const found: AtomicCommitViolation[] = [];
  const add = (property: AtomicCommitProperty, message: string): void => {
    found.push({ property, txId: tx.txId, message: `${tx.txId}: ${message}` });
  };
  if (tx.decidedCommit.size > 0 && tx.decidedAbort.size > 0) add('agreement', `committed on ${list(tx.decidedCommit)} but aborted on ${list(tx.decidedAbort)}`);
  if (tx.participants === null) {
    add('no-phantom', 'in the records but never requested');
    return found;
  }
  const unprepared = tx.participants.filter((participant) => !tx.prepared.has(participant));
  if (tx.commitLogged && unprepared.length > 0) add('commit-needs-votes', `commit logged without a yes vote from ${list(unprepared)}`);
  if (tx.decidedCommit.size > 0 && !tx.commitLogged) add('commit-needs-decision', `${list(tx.decidedCommit)} decided commit without a logged commit`);
  if (tx.outcome === 'ok' && !tx.commitLogged) add('ok-committed', 'the client was told committed, but no commit is logged');
  if (tx.outcome === 'fail' && (tx.commitLogged || tx.decidedCommit.size > 0)) add('fail-aborted', 'the client was told aborted, but the transaction committed');
  return found;
}

function finalViolations(tx: TransactionFacts): AtomicCommitViolation[] {
  const found: AtomicCommitViolation[] = [];
  const undecided = [...tx.prepared].filter((node) => !tx.decidedCommit.has(node) && !tx.decidedAbort.has(node));
  if (undecided.length > 0) found.push({ property: 'termination', txId: tx.txId, message: `${tx.txId}: still in doubt on ${list(undecided)} after healing` });
  const missing = (tx.participants ?? []).filter((participant) => !tx.decidedCommit.has(participant));
  if (tx.commitLogged && missing.length > 0) found.push({ property: 'commit-everywhere', txId: tx.txId, message: `${tx.txId}: committed, but not on ${list(missing)} after healing` });
  return found;
}

export function checkAtomicCommit(
  transactions: Iterable<TransactionFacts>,
  options: { readonly final: boolean; readonly maxViolations?: number },
): AtomicCommitViolation[] {
  const limit = options.maxViolations ?? 20;
  const found: AtomicCommitViolation[] = [];
  for (const tx of transactions) {
    found.push(...alwaysViolations(tx));
    if (options.final) found.push(...finalViolations(tx));
    if (found.length >= limit) return found.slice(0, limit);
  }
  return found;
}
