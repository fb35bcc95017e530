import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConcordError, ErrorCode } from '../core/errors.js';
import { isNodeId, type NodeId } from '../core/ids.js';
import { walIoModes, type WalIo } from '../net/wal.js';
import { parseTestingBugs, type TestingBug } from './testing-bugs.js';

/** A `host:port` pair. */
export interface Address {
  readonly host: string;
  readonly port: number;
}

/** Everything one `concord node` process needs; built from flags and/or a JSON file. */
export interface NodeConfig {
  readonly id: NodeId;
  /** Peer (Raft transport) address of every initial member, including this node. */
  readonly peers: ReadonlyMap<NodeId, Address>;
  readonly http: Address;
  readonly dataDir: string;
  /** Shared cluster secret: authenticates peers in the transport handshake (HMAC). */
  readonly secret: string;
  readonly secretIsDefault: boolean;
  /** Bearer token required by the HTTP API (except /healthz) when set. */
  readonly token: string | undefined;
  /** PEM files: TLS for the HTTP API and for peer links when set. */
  readonly tls: { readonly certFile: string; readonly keyFile: string; readonly caFile: string | undefined } | undefined;
  /** Start empty and wait to be added by `POST /v1/cluster/members` instead of bootstrapping. */
  readonly join: boolean;
  readonly tickIntervalMs: number;
  readonly electionTimeoutTicks: number;
  readonly heartbeatIntervalTicks: number;
  readonly requestTimeoutMs: number;
  readonly logLevel: string;
  /** How linearizable reads are served: ReadIndex (default) or leader leases (needs bounded clock drift). */
  readonly readMode: 'readIndex' | 'lease';
  /** Take a state-machine snapshot (and compact the log) after this many applied entries. */
  readonly snapshotThresholdEntries: number;
  /** How followers pass writes to the leader: Raft proposal forwarding or an HTTP relay. */
  readonly forwardWrites: 'raft' | 'http';
  /** Where the WAL's group-commit write and fdatasync run (see `WriteAheadLogOptions.io`). */
  readonly walIo: WalIo;
  /** Serve `/v1/debug/faults…` (clock and link faults) for fault-injection tests. Never on by default. */
  readonly enableFaultInjection: boolean;
  /** Deliberately broken behaviour for the fault harness (`CONCORD_TESTING_BUGS`; testing-bugs.ts). */
  readonly testingBugs?: readonly TestingBug[];
}

/** The development secret used when none is given; fine on loopback, refused elsewhere. */
export const defaultDevSecret = 'concord-dev-secret-change-me';

/** Raw option values as they come from commander or a config file. */
export interface RawNodeOptions {
  id?: unknown;
  peers?: unknown;
  http?: unknown;
  data?: unknown;
  secret?: unknown;
  token?: unknown;
  tlsCert?: unknown;
  tlsKey?: unknown;
  tlsCa?: unknown;
  join?: unknown;
  tickIntervalMs?: unknown;
  electionTimeoutTicks?: unknown;
  heartbeatIntervalTicks?: unknown;
  requestTimeoutMs?: unknown;
  logLevel?: unknown;
  readMode?: unknown;
  enableFaultInjection?: unknown;
  snapshotThresholdEntries?: unknown;
  forwardWrites?: unknown;
  walIo?: unknown;
  config?: unknown;
}

function bad(message: string): ConcordError {
  return new ConcordError(ErrorCode.InvalidConfig, message);
}

export function parseAddress(text: string, what: string): Address {
  const match = /^(\[[0-9a-fA-F:]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(text);
  if (match === null) throw bad(`${what} must be host:port, got "${text}"`);
  const port = Number(match[2]);
  if (port < 1 || port > 65_535) throw bad(`${what}: port ${port} outside 1–65535`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

/** `n1=127.0.0.1:7101,n2=…` or an object `{ "n1": "127.0.0.1:7101" }`. */
export function parsePeers(value: unknown): Map<NodeId, Address> {
  const entries: [string, string][] = [];
  if (typeof value === 'string') {
    for (const part of value.split(',').map((item) => item.trim()).filter(Boolean)) {
      const at = part.indexOf('=');
      if (at < 0) throw bad(`peer "${part}" must be id=host:port`);
      entries.push([part.slice(0, at), part.slice(at + 1)]);
    }
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [id, address] of Object.entries(value)) {
      if (typeof address !== 'string') throw bad(`peer ${id}: address must be a string`);
      entries.push([id, address]);
    }
  } else {
    throw bad('peers must be "id=host:port,…" or an object of id → "host:port"');
  }
  const peers = new Map<NodeId, Address>();
  for (const [id, address] of entries) {
    if (!isNodeId(id)) throw bad(`peer id "${id}" is not a valid node id`);
    if (peers.has(id)) throw bad(`peer ${id} listed twice`);
    peers.set(id, parseAddress(address, `peer ${id}`));
  }
  if (peers.size === 0) throw bad('at least one peer (this node) is required');
  return peers;
}

function integer(value: unknown, name: string, fallback: number, bounds: { min: number; max: number }): number {
  if (value === undefined) return fallback;
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < bounds.min || number > bounds.max) {
    throw bad(`${name} must be an integer in [${bounds.min}, ${bounds.max}]`);
  }
  return number;
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw bad(`${name} must be a string`);
  return value;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Merges flags over the optional `--config` JSON file, validates, fills defaults. */
export function resolveNodeConfig(flags: RawNodeOptions, env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const file = typeof flags.config === 'string' ? readConfigFile(flags.config) : {};
  const raw: RawNodeOptions = { ...file };
  for (const [key, value] of Object.entries(flags)) if (value !== undefined) (raw as Record<string, unknown>)[key] = value;
  if (!isNodeId(raw.id)) throw bad('--id must be a node id such as n1');
  const id = raw.id;
  const peers = parsePeers(raw.peers ?? `${id}=127.0.0.1:7101`);
  if (!peers.has(id)) throw bad(`--peers must include this node (${id})`);
  const http = parseAddress(typeof raw.http === 'string' ? raw.http : '127.0.0.1:7001', '--http');
  const secretGiven = optionalString(raw.secret, '--secret') ?? optionalString(env.CONCORD_SECRET, 'CONCORD_SECRET');
  const secret = secretGiven ?? defaultDevSecret;
  if (Buffer.byteLength(secret) < 16) throw bad('the cluster secret must be at least 16 bytes');
  const everyLoopback = [...peers.values()].every((address) => isLoopback(address.host));
  if (secretGiven === undefined && !everyLoopback) throw bad('a cluster secret (--secret or CONCORD_SECRET) is required when peers are not on loopback');
  const certFile = optionalString(raw.tlsCert, '--tls-cert');
  const keyFile = optionalString(raw.tlsKey, '--tls-key');
  if ((certFile === undefined) !== (keyFile === undefined)) throw bad('--tls-cert and --tls-key go together');
  const tickIntervalMs = integer(raw.tickIntervalMs, '--tick-interval-ms', 10, { min: 1, max: 1_000 });
  const electionTimeoutTicks = integer(raw.electionTimeoutTicks, '--election-timeout-ticks', Math.max(2, Math.round(1_000 / tickIntervalMs)), { min: 2, max: 100_000 });
  const heartbeatIntervalTicks = integer(raw.heartbeatIntervalTicks, '--heartbeat-interval-ticks', Math.max(1, Math.round(100 / tickIntervalMs)), { min: 1, max: electionTimeoutTicks - 1 });
  return {
    id,
    peers,
    http,
    dataDir: path.resolve(typeof raw.data === 'string' ? raw.data : path.join('data', id)),
    secret,
    secretIsDefault: secretGiven === undefined,
    token: optionalString(raw.token, '--token') ?? optionalString(env.CONCORD_TOKEN, 'CONCORD_TOKEN'),
    tls: certFile === undefined ? undefined : { certFile, keyFile: keyFile!, caFile: optionalString(raw.tlsCa, '--tls-ca') },
    join: raw.join === true || raw.join === 'true',
    tickIntervalMs,
    electionTimeoutTicks,
    heartbeatIntervalTicks,
    requestTimeoutMs: integer(raw.requestTimeoutMs, '--request-timeout-ms', 5_000, { min: 10, max: 600_000 }),
    logLevel: optionalString(raw.logLevel, '--log-level') ?? env.CONCORD_LOG_LEVEL ?? 'info',
    readMode: readModeOf(raw.readMode),
    forwardWrites: forwardWritesOf(raw.forwardWrites),
    walIo: walIoOf(raw.walIo),
    snapshotThresholdEntries: integer(raw.snapshotThresholdEntries, '--snapshot-threshold-entries', 100_000, { min: 10, max: 10_000_000 }),
    ...testingOptions(raw, env),
  };
}

/** Fault injection must be authenticated (needs a token); testing bugs need fault injection. */
function testingOptions(raw: RawNodeOptions, env: NodeJS.ProcessEnv): { enableFaultInjection: boolean; testingBugs: TestingBug[] } {
  const enableFaultInjection = raw.enableFaultInjection === true || raw.enableFaultInjection === 'true';
  const testingBugs = parseTestingBugs(env.CONCORD_TESTING_BUGS);
  const token = optionalString(raw.token, '--token') ?? optionalString(env.CONCORD_TOKEN, 'CONCORD_TOKEN');
  if (enableFaultInjection && token === undefined) throw bad('--enable-fault-injection requires --token (the fault endpoints must be authenticated)');
  if (testingBugs.length > 0 && !enableFaultInjection) throw bad('CONCORD_TESTING_BUGS is set but --enable-fault-injection is not: refusing to run a deliberately broken node by accident');
  return { enableFaultInjection, testingBugs };
}

function forwardWritesOf(value: unknown): 'raft' | 'http' {
  if (value === undefined || value === 'raft') return 'raft';
  if (value === 'http') return 'http';
  throw bad('--forward-writes must be raft or http');
}

function walIoOf(value: unknown): WalIo {
  if (value === undefined) return 'auto';
  if (walIoModes.includes(value as WalIo)) return value as WalIo;
  throw bad(`--wal-io must be ${walIoModes.join(' or ')}`);
}

function readModeOf(value: unknown): 'readIndex' | 'lease' {
  if (value === undefined || value === 'readIndex' || value === 'read-index') return 'readIndex';
  if (value === 'lease') return 'lease';
  throw bad('--read-mode must be read-index or lease');
}

function readConfigFile(file: string): RawNodeOptions {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw bad(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad(`config file ${file} must hold a JSON object`);
  const allowed = new Set(['id', 'peers', 'http', 'data', 'secret', 'token', 'tlsCert', 'tlsKey', 'tlsCa', 'join', 'tickIntervalMs', 'electionTimeoutTicks', 'heartbeatIntervalTicks', 'requestTimeoutMs', 'logLevel', 'readMode', 'enableFaultInjection', 'snapshotThresholdEntries', 'forwardWrites', 'walIo']);
  for (const key of Object.keys(parsed)) if (!allowed.has(key)) throw bad(`config file ${file}: unknown field "${key}"`);
  return parsed as RawNodeOptions;
}
