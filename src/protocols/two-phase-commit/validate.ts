import type { NodeId } from '../../core/ids.js';
import type { TpcConfig } from './config.js';
import type { TpcMessage, TpcRequest } from './types.js';

/**
 * Shape checks for what crosses a trust boundary. A peer's message and a client's transaction
 * return null when well formed, else the reason; the core drops (and counts) malformed messages
 * and answers a malformed request with an error instead of trusting either.
 */
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isTxId = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 128;

function writesProblem(value: unknown, config: TpcConfig): string | null {
  if (!isObject(value)) return 'writes must be an object';
  const entries = Object.entries(value);
  if (entries.length === 0) return 'no writes';
  if (entries.length > config.maxWritesPerParticipant) return `more than ${config.maxWritesPerParticipant} writes on one participant`;
  for (const [key, written] of entries) {
    if (key.length === 0 || key.length > config.maxKeyBytes) return `key length must be 1..${config.maxKeyBytes}`;
    if (typeof written !== 'string' || written.length > config.maxValueBytes) return `value of ${JSON.stringify(key)} must be a string of at most ${config.maxValueBytes} characters`;
  }
  return null;
}

export function validateTpcMessage(value: unknown, config: TpcConfig): string | null {
  if (!isObject(value)) return 'not an object';
  const message = value as Partial<TpcMessage> & Record<string, unknown>;
  if (!isTxId(message.txId)) return 'txId must be a non-empty string of at most 128 characters';
  switch (message.type) {
    case 'prepare':
      return writesProblem(message.writes, config);
    case 'vote':
      return typeof message.yes === 'boolean' ? null : 'vote: yes must be a boolean';
    case 'decision':
      return typeof message.commit === 'boolean' ? null : 'decision: commit must be a boolean';
    case 'ack':
    case 'inquire':
      return null;
    default:
      return `unknown message type ${JSON.stringify(message.type)}`;
  }
}

/** A client's transaction: known participants, bounded writes. */
export function transactionProblem(request: Extract<TpcRequest, { type: 'transact' }>, peers: readonly NodeId[], config: TpcConfig): string | null {
  if (!isTxId(request.txId)) return 'txId must be a non-empty string of at most 128 characters';
  if (!isObject(request.writes)) return 'writes must map participants to their writes';
  const participants = Object.keys(request.writes);
  if (participants.length === 0) return 'a transaction needs at least one participant';
  if (participants.length > config.maxParticipants) return `more than ${config.maxParticipants} participants`;
  for (const participant of participants) {
    if (!peers.includes(participant)) return `unknown participant ${JSON.stringify(participant)}`;
    const problem = writesProblem(request.writes[participant], config);
    if (problem !== null) return `${participant}: ${problem}`;
  }
  return null;
}
