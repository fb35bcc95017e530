import { isNodeId } from '../../core/ids.js';
import type { ChordConfig } from './config.js';
import { isChordId } from './ids.js';
import type { ChordRecord, ChordRequest } from './types.js';

/**
 * Shape checks for what crosses a trust boundary: null when well formed, else the reason. The core
 * drops (and counts) a malformed peer message and answers a malformed request with an error, so
 * well-typed junk from the network never reaches a handler.
 */
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isCounter = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const nodeList = (value: unknown, max: number): boolean => Array.isArray(value) && value.length <= max && value.every(isNodeId);
/** Lists a peer may send: at most this many entries (successor lists, avoid lists). */
export const nodeListMax = 32;

export function itemProblem(value: unknown, config: ChordConfig): string | null {
  if (!isObject(value)) return 'item must be an object';
  if (typeof value.key !== 'string' || value.key.length === 0 || value.key.length > config.maxKeyBytes) return `item key must be a string of 1..${config.maxKeyBytes} characters`;
  if (typeof value.value !== 'string' || value.value.length > config.maxValueBytes) return `item value must be a string of at most ${config.maxValueBytes} characters`;
  return isCounter(value.version) ? null : 'item version must be a non-negative integer';
}

function lookupMessageProblem(message: Record<string, unknown>): string | null {
  if (!isCounter(message.lookup)) return 'lookup must be a non-negative integer';
  switch (message.type) {
    case 'find':
      return isChordId(message.key) && nodeList(message.avoid, nodeListMax) ? null : 'find: key must be a 32-bit identifier and avoid a short node list';
    case 'found':
      return isNodeId(message.owner) ? null : 'found: owner must be a node id';
    case 'next':
      return isNodeId(message.next) ? null : 'next: next must be a node id';
    default:
      return null;
  }
}

function dataMessageProblem(message: Record<string, unknown>, config: ChordConfig): string | null {
  if (message.type !== 'items' && !isCounter(message.op)) return 'op must be a non-negative integer';
  switch (message.type) {
    case 'put':
    case 'replicate':
      return itemProblem(message.item, config);
    case 'put-done':
      return message.code === 'stored' || message.code === 'partial' || message.code === 'not-owner' ? null : 'put-done: unknown code';
    case 'read':
      return typeof message.key === 'string' && message.key.length > 0 && message.key.length <= config.maxKeyBytes ? null : 'read: bad key';
    case 'read-done':
      if (message.code !== 'ok' && message.code !== 'not-owner') return 'read-done: unknown code';
      return message.item === null ? null : itemProblem(message.item, config);
    case 'items':
      if (!Array.isArray(message.items) || message.items.length > config.itemsBatchMax) return `items: at most ${config.itemsBatchMax} items`;
      return message.items.map((item) => itemProblem(item, config)).find((problem) => problem !== null) ?? null;
    default:
      return null;
  }
}

export function validateChordMessage(value: unknown, config: ChordConfig): string | null {
  if (!isObject(value)) return 'not an object';
  switch (value.type) {
    case 'find':
    case 'found':
    case 'next':
    case 'refuse':
      return lookupMessageProblem(value);
    case 'get-neighbours':
    case 'ping':
    case 'pong':
      return isCounter(value.nonce) ? null : 'nonce must be a non-negative integer';
    case 'neighbours':
      if (!isCounter(value.nonce)) return 'nonce must be a non-negative integer';
      if (value.predecessor !== null && !isNodeId(value.predecessor)) return 'neighbours: predecessor must be a node id or null';
      return nodeList(value.successors, nodeListMax) ? null : 'neighbours: successors must be a short node list';
    case 'notify':
    case 'transfer-request':
      return null;
    case 'put':
    case 'put-done':
    case 'read':
    case 'read-done':
    case 'replicate':
    case 'replicated':
    case 'items':
      return dataMessageProblem(value, config);
    default:
      return `unknown message type ${JSON.stringify(value.type)}`;
  }
}

export function validateChordRequest(value: unknown, config: ChordConfig): string | null {
  if (!isObject(value)) return 'not an object';
  const request = value as Partial<ChordRequest> & Record<string, unknown>;
  if (typeof request.key !== 'string' || request.key.length === 0 || request.key.length > config.maxKeyBytes) return `key must be a string of 1..${config.maxKeyBytes} characters`;
  switch (request.type) {
    case 'lookup':
    case 'get':
      return null;
    case 'put':
      return itemProblem({ key: request.key, value: request.value, version: request.version }, config);
    default:
      return `unknown request type ${JSON.stringify(request.type)}`;
  }
}

/** A record read back from the log (`WriteAheadLog.validateRecord`). */
export function validateChordRecord(value: unknown, config: ChordConfig): string | null {
  if (!isObject(value)) return 'not an object';
  const record = value as Partial<ChordRecord> & Record<string, unknown>;
  switch (record.type) {
    case 'joined':
      return null;
    case 'successors':
      return nodeList(record.successors, nodeListMax) ? null : 'successors: must be a short node list';
    case 'item':
      return itemProblem(record.item, config);
    default:
      return `unknown record type ${JSON.stringify(record.type)}`;
  }
}
