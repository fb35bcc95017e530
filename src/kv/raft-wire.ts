/**
 * Shape checks for what arrives from the network (peer messages) and from disk (WAL records)
 * before it reaches the Raft core: the transport and the WAL refuse values that fail them (the
 * connection is closed / recovery stops with a clear message) instead of letting a malformed value
 * break a core invariant. They check the discriminant and the fields every handler reads first;
 * payload contents (entries, commands) are checked by the core itself (`validateCommand`).
 */
const messageFields: Record<string, readonly string[]> = {
  append: ['prevIndex', 'prevTerm', 'commit'],
  appendAccepted: ['matchIndex'],
  appendRejected: ['rejectedIndex', 'hintIndex', 'hintTerm'],
  requestPreVote: ['lastIndex', 'lastTerm'],
  preVoteResponse: [],
  requestVote: ['lastIndex', 'lastTerm'],
  voteResponse: [],
  heartbeat: ['commit', 'context'],
  heartbeatResponse: ['context'],
  snapshotChunk: ['totalBytes', 'offset'],
  snapshotChunkAck: ['snapshotIndex', 'receivedBytes'],
  timeoutNow: [],
  forwardProposals: [],
  forwardedProposalResults: [],
  readIndexRequest: ['context'],
  readIndexResponse: ['context'],
};

const isCount = (value: unknown): boolean => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

export function raftMessageProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'message must be an object';
  const message = value as Record<string, unknown>;
  const fields = typeof message.type === 'string' ? messageFields[message.type] : undefined;
  if (fields === undefined) return `unknown message type ${JSON.stringify(message.type)}`;
  if (!isCount(message.term)) return 'term must be a non-negative integer';
  for (const field of fields) if (!isCount(message[field])) return `${message.type}.${field} must be a non-negative integer`;
  switch (message.type) {
    case 'append':
      return Array.isArray(message.entries) && message.entries.every(isEntry) ? null : 'append.entries must be log entries';
    case 'preVoteResponse':
    case 'voteResponse':
      return typeof message.granted === 'boolean' ? null : `${message.type}.granted must be a boolean`;
    case 'requestVote':
      return typeof message.transfer === 'boolean' ? null : 'requestVote.transfer must be a boolean';
    case 'snapshotChunk':
      return message.data instanceof Uint8Array && typeof message.snapshot === 'object' && message.snapshot !== null ? null : 'snapshotChunk needs data bytes and snapshot metadata';
    case 'forwardProposals':
      return Array.isArray(message.proposals) ? null : 'forwardProposals.proposals must be an array';
    case 'forwardedProposalResults':
      return Array.isArray(message.results) ? null : 'forwardedProposalResults.results must be an array';
    case 'readIndexResponse':
      return message.readIndex === null || isCount(message.readIndex) ? null : 'readIndexResponse.readIndex must be an index or null';
    default:
      return null;
  }
}

function isEntry(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  return isCount(entry.index) && isCount(entry.term) && typeof entry.payload === 'object' && entry.payload !== null;
}

export function raftRecordProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'record must be an object';
  const record = value as Record<string, unknown>;
  switch (record.type) {
    case 'hardState':
      return typeof record.hardState === 'object' && record.hardState !== null ? null : 'hardState record without hard state';
    case 'entries':
      return Array.isArray(record.entries) && record.entries.every(isEntry) ? null : 'entries record with malformed entries';
    case 'checkpoint':
      return record.data instanceof Uint8Array && typeof record.snapshot === 'object' && Array.isArray(record.entries) ? null : 'malformed checkpoint record';
    default:
      return `unknown record type ${JSON.stringify(record.type)}`;
  }
}
