import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkAtomicCommit, type CommitOutcome, type TransactionFacts } from '../../src/check/atomic-commit.js';

const participants = ['n1', 'n2', 'n3'];

function tx(overrides: Partial<TransactionFacts> = {}): TransactionFacts {
  return {
    txId: 't1', participants, outcome: 'ok', prepared: new Set(participants), decidedCommit: new Set(participants), decidedAbort: new Set(), commitLogged: true, ...overrides,
  };
}

const properties = (facts: TransactionFacts, final = false): string[] => checkAtomicCommit([facts], { final }).map((violation) => violation.property);

describe('checkAtomicCommit', () => {
  it('accepts a committed and an aborted transaction, before and after healing', () => {
    expect(properties(tx())).toEqual([]);
    expect(properties(tx(), true)).toEqual([]);
    const aborted = tx({ outcome: 'fail', prepared: new Set(['n1']), decidedCommit: new Set(), decidedAbort: new Set(['n1']), commitLogged: false });
    expect(properties(aborted, true)).toEqual([]);
  });

  it('names each broken property', () => {
    expect(properties(tx({ decidedAbort: new Set(['n3']), decidedCommit: new Set(['n1', 'n2']) }))).toEqual(['agreement']);
    expect(properties(tx({ prepared: new Set(['n1', 'n2']), decidedCommit: new Set(['n1']) }))).toEqual(['commit-needs-votes']);
    expect(properties(tx({ commitLogged: false, outcome: 'info' }))).toEqual(['commit-needs-decision']);
    expect(properties(tx({ commitLogged: false, decidedCommit: new Set(), outcome: 'ok' }))).toEqual(['ok-committed']);
    expect(properties(tx({ outcome: 'fail' }))).toEqual(['fail-aborted']);
    expect(properties(tx({ participants: null }))).toEqual(['no-phantom']);
    // In flight is fine until healing; then it is a liveness failure of the protocol.
    const inFlight = tx({ outcome: 'pending', decidedCommit: new Set(['n1']) });
    expect(properties(inFlight)).toEqual([]);
    expect(properties(inFlight, true)).toEqual(['termination', 'commit-everywhere']);
  });

  it('bounds its report', () => {
    const broken = Array.from({ length: 50 }, (_, index) => tx({ txId: `t${index}`, outcome: 'fail' }));
    expect(checkAtomicCommit(broken, { final: false, maxViolations: 5 })).toHaveLength(5);
  });

  it('property: any run where one coordinator decision reached every participant that heard of it is accepted; flipping one participant breaks agreement', () => {
    const run = fc.record({
      commit: fc.boolean(),
      reached: fc.subarray(participants),
      outcome: fc.constantFrom<CommitOutcome>('ok', 'fail', 'info', 'pending'),
    });
    fc.assert(
      fc.property(run, ({ commit, reached, outcome }) => {
        const clientOutcome: CommitOutcome = outcome === 'ok' || outcome === 'fail' ? (commit ? 'ok' : 'fail') : outcome;
        const facts = tx({
          outcome: clientOutcome,
          prepared: new Set(commit ? participants : reached),
          decidedCommit: new Set(commit ? reached : []),
          decidedAbort: new Set(commit ? [] : reached),
          commitLogged: commit,
        });
        expect(properties(facts)).toEqual([]);
        if (reached.length >= 2) {
          const [flipped, ...rest] = reached;
          const broken = commit
            ? { ...facts, decidedCommit: new Set(rest), decidedAbort: new Set([flipped!]) }
            : { ...facts, decidedAbort: new Set(rest), decidedCommit: new Set([flipped!]) };
          expect(properties(broken)).toContain('agreement');
        }
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});
