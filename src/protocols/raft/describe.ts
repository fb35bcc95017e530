import { assertNever } from '../../core/errors.js';
import { describeChange, describeMembership } from './membership.js';
import type { AppTypes, LogEntry, RaftMessage, RaftRecord, RaftReply, RaftStatus } from './types.js';

/**
 * Canonical one-line descriptions of Raft values, for scripted tests, traces and logs. Stable:
 * scripted test expectations depend on them.
 */

export function describeEntry(entry: LogEntry<unknown>): string {
  const payload = entry.payload;
  switch (payload.type) {
    case 'empty':
      return `${entry.term}/${entry.index} empty`;
    case 'bootstrap':
      return `${entry.term}/${entry.index} bootstrap(${payload.voters.join(' ')})`;
    case 'command': {
      const session = payload.session === null ? '' : ` session=${payload.session.clientId}#${payload.session.sequence}`;
      return `${entry.term}/${entry.index} ${describeValue(payload.command)}${session}`;
    }
    case 'membership':
      return `${entry.term}/${entry.index} conf[${describeChange(payload.change)}]`;
    default:
      return assertNever(payload, 'entry payload');
  }
}

export function describeEntries(entries: readonly LogEntry<unknown>[]): string {
  return `[${entries.map(describeEntry).join(', ')}]`;
}

export function describeMessage(message: RaftMessage<unknown>): string {
  const term = `term=${message.term}`;
  switch (message.type) {
    case 'append':
      return `append ${term} prev=${message.prevTerm}/${message.prevIndex} commit=${message.commit} ${describeEntries(message.entries)}`;
    case 'appendAccepted':
      return `appendAccepted ${term} match=${message.matchIndex}`;
    case 'appendRejected':
      return `appendRejected ${term} rejected=${message.rejectedIndex} hint=${message.hintTerm}/${message.hintIndex}`;
    case 'requestPreVote':
      return `requestPreVote ${term} last=${message.lastTerm}/${message.lastIndex}`;
    case 'preVoteResponse':
      return `preVoteResponse ${term} ${message.granted ? 'granted' : 'rejected'}`;
    case 'requestVote':
      return `requestVote ${term} last=${message.lastTerm}/${message.lastIndex}${message.transfer ? ' transfer' : ''}`;
    case 'voteResponse':
      return `voteResponse ${term} ${message.granted ? 'granted' : 'rejected'}`;
    case 'heartbeat':
      return `heartbeat ${term} commit=${message.commit} context=${message.context}`;
    case 'heartbeatResponse':
      return `heartbeatResponse ${term} context=${message.context}`;
    case 'snapshotChunk':
      return `snapshotChunk ${term} snapshot=${message.snapshot.term}/${message.snapshot.index} bytes=${message.offset}+${message.data.length}/${message.totalBytes}`;
    case 'snapshotChunkAck':
      return `snapshotChunkAck ${term} snapshot=${message.snapshotIndex} received=${message.receivedBytes}`;
    case 'timeoutNow':
      return `timeoutNow ${term}`;
    case 'forwardProposals':
      return `forwardProposals ${term} [${message.proposals.map((proposal) => `#${proposal.origin} ${describeValue(proposal.command)}`).join(', ')}]`;
    case 'forwardedProposalResults':
      return `forwardedProposalResults ${term} [${message.results
        .map((result) => (result.accepted ? `#${result.origin} ${result.term}/${result.index}` : `#${result.origin} ${result.code}`))
        .join(', ')}]`;
    case 'readIndexRequest':
      return `readIndexRequest ${term} context=${message.context}`;
    case 'readIndexResponse':
      return `readIndexResponse ${term} context=${message.context} index=${message.readIndex ?? 'none'}`;
    default:
      return assertNever(message, 'message');
  }
}

export function describeRecord(record: RaftRecord<unknown>): string {
  switch (record.type) {
    case 'hardState':
      return `hardState term=${record.hardState.term} vote=${record.hardState.vote ?? '-'} commit=${record.hardState.commit}`;
    case 'entries':
      return `entries ${describeEntries(record.entries)}`;
    case 'checkpoint':
      return (
        `checkpoint snapshot=${record.snapshot.term}/${record.snapshot.index} bytes=${record.data.length} ` +
        `term=${record.hardState.term} vote=${record.hardState.vote ?? '-'} commit=${record.hardState.commit} ` +
        `logStart=${record.logStart.term}/${record.logStart.index} entries=${record.entries.length}`
      );
    default:
      return assertNever(record, 'record');
  }
}

export function describeReply<A extends AppTypes>(reply: RaftReply<A>): string {
  switch (reply.type) {
    case 'applied':
      return `applied index=${reply.index} ${describeValue(reply.result)}`;
    case 'read':
      return `read index=${reply.index} ${describeValue(reply.result)}`;
    case 'membershipChanged':
      return `membershipChanged index=${reply.index} ${describeMembership(reply.membership)}`;
    case 'leaderTransferred':
      return `leaderTransferred target=${reply.target} term=${reply.term}`;
    case 'status':
      return `status ${describeStatus(reply.status)}`;
    case 'accepted':
      return 'accepted';
    case 'error':
      return `error ${reply.code} effect=${reply.effect}${reply.leaderHint === null ? '' : ` leader=${reply.leaderHint}`}: ${reply.message}`;
    default:
      return assertNever(reply, 'reply');
  }
}

export function describeStatus(status: RaftStatus): string {
  return (
    `${status.role} term=${status.term} vote=${status.vote ?? '-'} leader=${status.leader ?? '-'} ` +
    `commit=${status.commitIndex} applied=${status.appliedIndex} log=${status.firstIndex}..${status.lastIndex} ` +
    `snapshot=${status.snapshotTerm}/${status.snapshotIndex}${status.snapshotInProgressIndex > 0 ? ` snapshotting=${status.snapshotInProgressIndex}` : ''} ` +
    describeMembership(status.membership)
  );
}

/** Compact JSON-ish rendering of commands and results (objects without quotes around keys). */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value !== 'object') return String(value);
  if (value instanceof Uint8Array) return `bytes(${value.length})`;
  if (Array.isArray(value)) return `[${value.map(describeValue).join(' ')}]`;
  const parts = Object.entries(value as Record<string, unknown>).map(([key, inner]) => `${key}:${describeValue(inner)}`);
  return `{${parts.join(' ')}}`;
}
