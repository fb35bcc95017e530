import type { PbftConfig } from './config.js';
import type { Checkpoint, CheckpointProof, ClientRequest, NewView, PbftMessage, PbftRecord, PreparedCertificate, Prepare, PrePrepare, StateSnapshot, ViewChange } from './types.js';

/**
 * Shape validation of what untrusted peers send. A Byzantine replica can send anything
 * well-typed, and after a codec anything at all: each function returns a fresh copy holding only
 * the known fields, or null. It never throws. Signatures and certificates are checked later.
 */
export interface ShapeLimits {
  /** Longest list a message may carry (certificates, view-change sets, re-issued pre-prepares). */
  readonly listMax: number;
  /** Most entries of a snapshot's tables. */
  readonly snapshotEntriesMax: number;
}

/** The limits a replica of `memberCount` members applies (lists: a certificate's prepares, a view's worth of sequence numbers). */
export function shapeLimits(config: Pick<PbftConfig, 'windowSeqs'>, memberCount: number): ShapeLimits {
  return { listMax: Math.max(memberCount, config.windowSeqs), snapshotEntriesMax: 4096 };
}

const textMax = 256;
type Raw = Record<string, unknown>;

const isRecord = (value: unknown): value is Raw => typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= textMax;

function listOf<T>(value: unknown, max: number, item: (raw: unknown) => T | null): T[] | null {
  if (!Array.isArray(value) || value.length > max) return null;
  const items: T[] = [];
  for (const raw of value) {
    const parsed = item(raw);
    if (parsed === null) return null;
    items.push(parsed);
  }
  return items;
}

export function parseClientRequest(raw: unknown): ClientRequest | null {
  if (!isRecord(raw) || !isText(raw.client) || !isCount(raw.timestamp) || !isText(raw.operation) || !isText(raw.signature)) return null;
  return { client: raw.client, timestamp: raw.timestamp, operation: raw.operation, signature: raw.signature };
}

function parsePrePrepare(raw: unknown): PrePrepare | null {
  if (!isRecord(raw) || raw.type !== 'pre-prepare' || !isCount(raw.view) || !isCount(raw.seq) || !isText(raw.digest) || !isText(raw.replica) || !isText(raw.signature)) return null;
  const request = raw.request === null ? null : parseClientRequest(raw.request);
  if (request === null && raw.request !== null) return null;
  return { type: 'pre-prepare', view: raw.view, seq: raw.seq, digest: raw.digest, request, replica: raw.replica, signature: raw.signature };
}

function parsePrepare(raw: unknown): Prepare | null {
  if (!isRecord(raw) || raw.type !== 'prepare' || !isCount(raw.view) || !isCount(raw.seq) || !isText(raw.digest) || !isText(raw.replica) || !isText(raw.signature)) return null;
  return { type: 'prepare', view: raw.view, seq: raw.seq, digest: raw.digest, replica: raw.replica, signature: raw.signature };
}

function parseCheckpoint(raw: unknown): Checkpoint | null {
  if (!isRecord(raw) || raw.type !== 'checkpoint' || !isCount(raw.seq) || !isText(raw.stateDigest) || !isText(raw.replica) || !isText(raw.signature)) return null;
  return { type: 'checkpoint', seq: raw.seq, stateDigest: raw.stateDigest, replica: raw.replica, signature: raw.signature };
}

function parseProof(raw: unknown, limits: ShapeLimits): CheckpointProof | null {
  if (!isRecord(raw) || !isCount(raw.seq) || !isText(raw.stateDigest)) return null;
  const checkpoints = listOf(raw.checkpoints, limits.listMax, parseCheckpoint);
  return checkpoints === null ? null : { seq: raw.seq, stateDigest: raw.stateDigest, checkpoints };
}

function parseCertificate(raw: unknown, limits: ShapeLimits): PreparedCertificate | null {
  if (!isRecord(raw)) return null;
  const prePrepare = parsePrePrepare(raw.prePrepare);
  const prepares = listOf(raw.prepares, limits.listMax, parsePrepare);
  return prePrepare === null || prepares === null ? null : { prePrepare, prepares };
}

function parseViewChange(raw: unknown, limits: ShapeLimits): ViewChange | null {
  if (!isRecord(raw) || raw.type !== 'view-change' || !isCount(raw.view) || !isText(raw.replica) || !isText(raw.signature)) return null;
  const stable = parseProof(raw.stable, limits);
  const prepared = listOf(raw.prepared, limits.listMax, (item) => parseCertificate(item, limits));
  if (stable === null || prepared === null) return null;
  return { type: 'view-change', view: raw.view, stable, prepared, replica: raw.replica, signature: raw.signature };
}

function parseNewView(raw: Raw, limits: ShapeLimits): NewView | null {
  if (!isCount(raw.view) || !isText(raw.replica)) return null;
  const viewChanges = listOf(raw.viewChanges, limits.listMax, (item) => parseViewChange(item, limits));
  const prePrepares = listOf(raw.prePrepares, limits.listMax, parsePrePrepare);
  if (viewChanges === null || prePrepares === null) return null;
  return { type: 'new-view', view: raw.view, viewChanges, prePrepares, replica: raw.replica };
}

function parseSnapshot(raw: unknown, limits: ShapeLimits): StateSnapshot | null {
  if (!isRecord(raw)) return null;
  const counters = listOf(raw.counters, limits.snapshotEntriesMax, (item) =>
    Array.isArray(item) && item.length === 2 && isText(item[0]) && Number.isSafeInteger(item[1]) ? ([item[0], item[1] as number] as const) : null,
  );
  const clients = listOf(raw.clients, limits.snapshotEntriesMax, (item) => {
    if (!Array.isArray(item) || item.length !== 2 || !isText(item[0]) || !isRecord(item[1])) return null;
    const entry = item[1];
    return isCount(entry.timestamp) && isText(entry.result) ? ([item[0], { timestamp: entry.timestamp, result: entry.result }] as const) : null;
  });
  return counters === null || clients === null ? null : { counters, clients };
}

function parseSimple(raw: Raw): PbftMessage | null {
  switch (raw.type) {
    case 'request': {
      const request = parseClientRequest(raw.request);
      return request === null ? null : { type: 'request', request };
    }
    case 'commit':
      if (!isCount(raw.view) || !isCount(raw.seq) || !isText(raw.digest) || !isText(raw.replica)) return null;
      return { type: 'commit', view: raw.view, seq: raw.seq, digest: raw.digest, replica: raw.replica };
    case 'status':
      if (!isCount(raw.view) || typeof raw.changing !== 'boolean' || !isCount(raw.executed) || !isCount(raw.stableSeq)) return null;
      return { type: 'status', view: raw.view, changing: raw.changing, executed: raw.executed, stableSeq: raw.stableSeq };
    default:
      return null;
  }
}

/** A clean copy of a peer's message, or null when it is not a well-formed PBFT message. */
export function parseMessage(raw: unknown, limits: ShapeLimits): PbftMessage | null {
  if (!isRecord(raw)) return null;
  switch (raw.type) {
    case 'pre-prepare':
      return parsePrePrepare(raw);
    case 'prepare':
      return parsePrepare(raw);
    case 'checkpoint':
      return parseCheckpoint(raw);
    case 'view-change':
      return parseViewChange(raw, limits);
    case 'new-view':
      return parseNewView(raw, limits);
    case 'state': {
      const proof = parseProof(raw.proof, limits);
      const snapshot = parseSnapshot(raw.snapshot, limits);
      return proof === null || snapshot === null ? null : { type: 'state', proof, snapshot };
    }
    default:
      return parseSimple(raw);
  }
}

/**
 * For `TcpTransport.validateMessage`: null when `raw` is a well-formed PBFT message, else the
 * reason (the transport then closes that peer's connection). Shape only: signatures and
 * certificates are the core's to check, and it drops what fails.
 */
export function validatePbftMessage(raw: unknown, limits: ShapeLimits): string | null {
  if (parseMessage(raw, limits) !== null) return null;
  const type = isRecord(raw) ? raw.type : undefined;
  return typeof type === 'string' && type.length <= 32 ? `malformed ${type} message` : 'not a PBFT message';
}

function parseRecord(raw: Raw, limits: ShapeLimits): PbftRecord | null {
  switch (raw.type) {
    case 'view':
      return isCount(raw.view) && typeof raw.changing === 'boolean' && isCount(raw.floorSeq) ? { type: 'view', view: raw.view, changing: raw.changing, floorSeq: raw.floorSeq } : null;
    case 'pre-prepared': {
      const prePrepare = parsePrePrepare(raw.prePrepare);
      return prePrepare === null ? null : { type: 'pre-prepared', prePrepare };
    }
    case 'prepared': {
      const certificate = parseCertificate(raw.certificate, limits);
      return certificate === null ? null : { type: 'prepared', certificate };
    }
    case 'committed': {
      if (!isCount(raw.seq) || !isText(raw.digest)) return null;
      const request = raw.request === null ? null : parseClientRequest(raw.request);
      return request === null && raw.request !== null ? null : { type: 'committed', seq: raw.seq, digest: raw.digest, request };
    }
    case 'stable': {
      const proof = parseProof(raw.proof, limits);
      const snapshot = parseSnapshot(raw.snapshot, limits);
      return proof === null || snapshot === null ? null : { type: 'stable', proof, snapshot };
    }
    default:
      return null;
  }
}

/** For `WriteAheadLog.validateRecord`: null when `raw` is a well-formed PBFT record, else the reason. */
export function validatePbftRecord(raw: unknown, limits: ShapeLimits): string | null {
  if (isRecord(raw) && parseRecord(raw, limits) !== null) return null;
  const type = isRecord(raw) ? raw.type : undefined;
  return typeof type === 'string' && type.length <= 32 ? `malformed ${type} record` : 'not a PBFT record';
}
