import { isNodeId } from '../../core/ids.js';
import type { RaftMessage } from './types.js';

/**
 * Structural validation of a decoded peer message, for hosts that receive bytes from the network
 * (use with `validatingCodec`). The transport authenticates the sender; this makes sure a
 * well-authenticated but malformed frame (a bug, a version skew) is rejected at the edge instead
 * of tripping an assertion inside the core. Commands are application data: pass
 * `commandProblem` (e.g. the state machine's `validateCommand`) to check them too.
 */
export function raftMessageProblem(value: unknown, commandProblem: (command: unknown) => string | null = () => null): string | null {
  if (!isRecord(value)) return 'message must be an object';
  if (!isCount(value['term'])) return 'term must be a non-negative integer';
  const type = value['type'];
  switch (type) {
    case 'append':
      return (
        counts(value, ['prevIndex', 'prevTerm', 'commit']) ??
        (Array.isArray(value['entries']) ? firstProblem(value['entries'], (entry) => entryProblem(entry, commandProblem)) : 'entries must be an array')
      );
    case 'appendAccepted':
      return counts(value, ['matchIndex']);
    case 'appendRejected':
      return counts(value, ['rejectedIndex', 'hintIndex', 'hintTerm']);
    case 'requestPreVote':
      return counts(value, ['lastIndex', 'lastTerm']);
    case 'requestVote':
      return counts(value, ['lastIndex', 'lastTerm']) ?? booleans(value, ['transfer']);
    case 'preVoteResponse':
    case 'voteResponse':
      return booleans(value, ['granted']);
    case 'heartbeat':
      return counts(value, ['commit', 'context']);
    case 'heartbeatResponse':
      return counts(value, ['context']);
    case 'snapshotChunk':
      return snapshotChunkProblem(value);
    case 'snapshotChunkAck':
      return counts(value, ['snapshotIndex', 'receivedBytes']);
    case 'timeoutNow':
      return null;
    case 'forwardProposals':
      return Array.isArray(value['proposals']) ? firstProblem(value['proposals'], (proposal) => proposalProblem(proposal, commandProblem)) : 'proposals must be an array';
    case 'forwardedProposalResults':
      return Array.isArray(value['results']) ? firstProblem(value['results'], resultProblem) : 'results must be an array';
    case 'readIndexRequest':
      return counts(value, ['context']);
    case 'readIndexResponse':
      return counts(value, ['context']) ?? (value['readIndex'] === null || isCount(value['readIndex']) ? null : 'readIndex must be a count or null');
    default:
      return `unknown message type ${JSON.stringify(type)}`;
  }
}

/** A type guard over `raftMessageProblem`. */
export function isRaftMessage(value: unknown, commandProblem?: (command: unknown) => string | null): value is RaftMessage {
  return raftMessageProblem(value, commandProblem) === null;
}

function entryProblem(value: unknown, commandProblem: (command: unknown) => string | null): string | null {
  if (!isRecord(value)) return 'entry must be an object';
  const problem = counts(value, ['index', 'term', 'sizeBytes']);
  if (problem !== null) return `entry: ${problem}`;
  const payload = value['payload'];
  if (!isRecord(payload)) return 'entry payload must be an object';
  switch (payload['type']) {
    case 'empty':
      return null;
    case 'command':
      return sessionProblem(payload['session']) ?? commandProblem(payload['command']);
    case 'membership':
      return changeProblem(payload['change']);
    case 'bootstrap':
      return nodeListProblem(payload['voters'], 'voters');
    default:
      return 'unknown entry payload type';
  }
}

function sessionProblem(value: unknown): string | null {
  if (value === null) return null;
  if (!isRecord(value) || typeof value['clientId'] !== 'string' || !isCount(value['sequence'])) return 'session must be null or {clientId, sequence}';
  return null;
}

function changeProblem(value: unknown): string | null {
  if (!isRecord(value) || !Array.isArray(value['changes'])) return 'membership change must have a changes array';
  if (!['auto', 'jointImplicit', 'jointExplicit'].includes(value['transition'] as string)) return 'bad membership transition';
  return firstProblem(value['changes'], (item) =>
    isRecord(item) && ['addVoter', 'addLearner', 'remove'].includes(item['type'] as string) && isNodeId(item['node']) ? null : 'bad membership change item',
  );
}

function snapshotChunkProblem(value: Record<string, unknown>): string | null {
  const problem = counts(value, ['totalBytes', 'offset']);
  if (problem !== null) return problem;
  if (!(value['data'] instanceof Uint8Array)) return 'data must be bytes';
  if ((value['offset'] as number) + value['data'].length > (value['totalBytes'] as number)) return 'chunk runs past totalBytes';
  const meta = value['snapshot'];
  if (!isRecord(meta)) return 'snapshot must be an object';
  const metaProblem = counts(meta, ['index', 'term']);
  if (metaProblem !== null) return `snapshot: ${metaProblem}`;
  const membership = meta['membership'];
  if (!isRecord(membership) || typeof membership['autoLeave'] !== 'boolean') return 'snapshot membership must be an object';
  for (const key of ['voters', 'outgoingVoters', 'learners', 'learnersNext']) {
    const listProblem = nodeListProblem(membership[key], key);
    if (listProblem !== null) return listProblem;
  }
  return null;
}

function proposalProblem(value: unknown, commandProblem: (command: unknown) => string | null): string | null {
  if (!isRecord(value)) return 'proposal must be an object';
  return counts(value, ['origin', 'sizeBytes']) ?? sessionProblem(value['session']) ?? commandProblem(value['command']);
}

function resultProblem(value: unknown): string | null {
  if (!isRecord(value) || !isCount(value['origin'])) return 'result must have an origin';
  if (value['accepted'] === true) return counts(value, ['index', 'term']);
  if (value['accepted'] === false) return typeof value['code'] === 'string' && typeof value['message'] === 'string' ? null : 'rejected result needs code and message';
  return 'result.accepted must be a boolean';
}

function nodeListProblem(value: unknown, name: string): string | null {
  return Array.isArray(value) && value.every(isNodeId) ? null : `${name} must be a list of node ids`;
}

function counts(value: Record<string, unknown>, keys: readonly string[]): string | null {
  for (const key of keys) if (!isCount(value[key])) return `${key} must be a non-negative integer`;
  return null;
}

function booleans(value: Record<string, unknown>, keys: readonly string[]): string | null {
  for (const key of keys) if (typeof value[key] !== 'boolean') return `${key} must be a boolean`;
  return null;
}

function firstProblem(values: readonly unknown[], check: (value: unknown) => string | null): string | null {
  for (const value of values) {
    const problem = check(value);
    if (problem !== null) return problem;
  }
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
