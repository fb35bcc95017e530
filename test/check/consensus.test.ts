import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_REPORTED_VIOLATIONS,
  checkAgreement,
  checkConsensus,
  checkConvergence,
  checkIntegrity,
  checkTermination,
  checkValidity,
  decisionsFromLogs,
  type Decision,
} from '../../src/check/index.js';

describe('consensus properties', () => {
  const decisions: Decision[] = [
    { node: 'n1', instance: 1, value: 'a' },
    { node: 'n2', instance: 1, value: 'a' },
    { node: 'n3', instance: 1, value: 'a' },
    { node: 'n1', instance: 2, value: { op: 'put', k: 1 } },
    { node: 'n2', instance: 2, value: { k: 1, op: 'put' } },
  ];

  it('a correct run satisfies all four', () => {
    const results = checkConsensus({ decisions, proposals: [{ value: 'a' }, { instance: 2, value: { op: 'put', k: 1 } }], correctNodes: ['n1', 'n2'] });
    expect(results.map((property) => [property.property, property.ok])).toEqual([
      ['agreement', true],
      ['validity', true],
      ['integrity', true],
      ['termination', true],
    ]);
  });

  it('agreement: two values decided in one instance', () => {
    const result = checkAgreement([...decisions, { node: 'n3', instance: 2, value: 'b' }]);
    expect(result.ok).toBe(false);
    expect(result.violations).toEqual([
      { property: 'agreement', instance: 2, nodes: ['n1', 'n2', 'n3'], message: 'instance 2: n1, n2 decided {"k":1,"op":"put"}; n3 decided "b"' },
    ]);
  });

  it('validity: a value nobody proposed, or proposed for another instance', () => {
    const result = checkValidity(decisions, [{ value: 'a' }, { instance: 3, value: { op: 'put', k: 1 } }]);
    expect(result.ok).toBe(false);
    expect(result.violationCount).toBe(2);
    expect(result.violations[0]!.message).toMatch(/n1 decided .* in instance 2, which nobody proposed/);
  });

  it('integrity: deciding twice in one instance', () => {
    const result = checkIntegrity([...decisions, { node: 'n1', instance: 1, value: 'a' }]);
    expect(result.ok).toBe(false);
    expect(result.violations[0]).toMatchObject({ instance: 1, nodes: ['n1'] });
  });

  it('termination: a correct node that never decided a required instance', () => {
    const result = checkTermination({ decisions, correctNodes: ['n1', 'n2', 'n3'], instances: [1, 2, 3] });
    expect(result.violations.map((violation) => [violation.instance, violation.nodes])).toEqual([
      [2, ['n3']],
      [3, ['n1', 'n2', 'n3']],
    ]);
  });

  it('convergence: correct replicas only, compared structurally', () => {
    expect(checkConvergence([{ node: 'n1', digest: { x: 1, y: 2 } }, { node: 'n2', digest: { y: 2, x: 1 } }, { node: 'n3', digest: 'stale', correct: false }]).ok).toBe(true);
    const diverged = checkConvergence([{ node: 'n1', digest: 'h1' }, { node: 'n2', digest: 'h2' }, { node: 'n3', digest: 'h1' }]);
    expect(diverged.ok).toBe(false);
    expect(diverged.violations[0]!.message).toBe('2 different states: n1, n3 at "h1"; n2 at "h2"');
  });

  it('decisions from committed logs; diverging logs violate agreement', () => {
    const logs = { n1: ['x', 'y'], n2: ['x', 'y', 'z'], n3: ['x', 'q'] };
    const fromLogs = decisionsFromLogs(logs);
    expect(fromLogs).toHaveLength(7);
    expect(fromLogs[0]).toEqual({ node: 'n1', instance: 1, value: 'x' });
    const agreement = checkAgreement(fromLogs);
    expect(agreement.violations.map((violation) => violation.instance)).toEqual([2]);
    expect(decisionsFromLogs(new Map([['n1', ['x']]]), 0)).toEqual([{ node: 'n1', instance: 0, value: 'x' }]);
  });

  it('bounds the listed violations but counts them all', () => {
    const many = Array.from({ length: 50 }, (_, instance): Decision[] => [
      { node: 'n1', instance, value: 1 },
      { node: 'n2', instance, value: 2 },
    ]).flat();
    const result = checkAgreement(many);
    expect(result.violations).toHaveLength(MAX_REPORTED_VIOLATIONS);
    expect(result.violationCount).toBe(50);
  });

  it('property: agreement holds iff every instance has one canonical value', () => {
    const decisionArbitrary = fc.record({ node: fc.constantFrom('n1', 'n2', 'n3'), instance: fc.nat(4), value: fc.constantFrom('a', 'b', 1) });
    fc.assert(
      fc.property(fc.array(decisionArbitrary, { maxLength: 20 }), (list) => {
        const distinct = new Map<number, Set<unknown>>();
        for (const decision of list) distinct.set(decision.instance, (distinct.get(decision.instance) ?? new Set()).add(decision.value));
        const expected = [...distinct.values()].every((values) => values.size === 1);
        expect(checkAgreement(list).ok).toBe(expected);
      }),
    );
  });
});
