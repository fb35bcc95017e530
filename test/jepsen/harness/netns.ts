import { spawn } from 'node:child_process';
import type { NodeId } from '../../../src/core/ids.js';
import { onExitCleanup } from './cleanup.js';
import { run, runChecked, runSyncQuietly } from './shell.js';

/**
 * Network namespaces for real partitions: one namespace per node with one address each, joined by
 * a bridge in the root namespace (which the harness and its clients use, and which is never cut).
 * A partition is a set of cut node pairs, enforced by iptables DROP rules inside each node's own
 * namespace (INPUT from and OUTPUT to the other side), so no rule ever touches the host's tables.
 *
 * Names carry the harness's pid (`cnc<pid>…`) so concurrent runs never collide, and every object
 * is removed in `destroy()` or, failing that, at process exit.
 */
export interface LabNode {
  readonly id: NodeId;
  readonly namespace: string;
  readonly address: string;
}

/** Whether namespaces + iptables can be used here; `reason` says why not. */
export async function namespacesAvailable(): Promise<{ ok: boolean; reason: string }> {
  if (process.env.CONCORD_FAULTS_PARTITION === 'hook') return { ok: false, reason: 'CONCORD_FAULTS_PARTITION=hook' };
  if (process.platform !== 'linux') return { ok: false, reason: `platform ${process.platform}` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'not running as root' };
  for (const [command, args] of [['ip', ['-V']], ['iptables-restore', ['--version']]] as const) {
    const result = await run(command, args, 5_000);
    if (result.code !== 0) return { ok: false, reason: `${command} unavailable (${result.stderr.trim().split('\n')[0]})` };
  }
  const probe = `cnc${process.pid}probe`;
  const created = await run('ip', ['netns', 'add', probe]);
  if (created.code !== 0) return { ok: false, reason: `cannot create a network namespace: ${created.stderr.trim()}` };
  const rules = await run('ip', ['netns', 'exec', probe, 'iptables', '-w', '-L', '-n']);
  await run('ip', ['netns', 'del', probe]);
  if (rules.code !== 0) return { ok: false, reason: `iptables unusable in a namespace: ${rules.stderr.trim()}` };
  return { ok: true, reason: 'root, ip and iptables available' };
}

function runWithInput(command: string, args: readonly string[], input: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${code}): ${stderr.trim()}`));
    });
    child.stdin.end(input);
  });
}

export class NetworkLab {
  private readonly nodes = new Map<NodeId, LabNode & { readonly hostVeth: string; readonly unregister: () => void }>();
  private readonly unregisterBridge: () => void;
  private nextHost = 1;

  private constructor(readonly bridge: string, readonly subnet: string) {
    this.unregisterBridge = onExitCleanup(() => runSyncQuietly('ip', ['link', 'del', bridge]));
  }

  /** A bridge with a free 10.213.x.0/24 subnet; the root namespace gets x.254. */
  static async create(): Promise<NetworkLab> {
    const routes = await runChecked('ip', ['-4', 'route', 'show']);
    const addresses = await runChecked('ip', ['-4', '-o', 'addr', 'show']);
    let third = 20 + (process.pid % 200);
    for (let tries = 0; tries < 230 && (routes.includes(`10.213.${third}.`) || addresses.includes(`10.213.${third}.`)); tries++) third = 20 + ((third - 19) % 230);
    const bridge = `cnb${process.pid}`.slice(0, 15);
    const lab = new NetworkLab(bridge, `10.213.${third}`);
    await runChecked('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await runChecked('ip', ['addr', 'add', `${lab.subnet}.254/24`, 'dev', bridge]);
    await runChecked('ip', ['link', 'set', bridge, 'up']);
    return lab;
  }

  node(id: NodeId): LabNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no namespace for ${id}`);
    return node;
  }

  /** A namespace with one address on the bridge and loopback up. */
  async addNode(id: NodeId): Promise<LabNode> {
    if (this.nodes.has(id)) return this.node(id);
    const host = this.nextHost++;
    if (host > 250) throw new Error('too many namespaces in one lab');
    const namespace = `cnc${process.pid}${id}`;
    const hostVeth = `cnv${process.pid}${host}`.slice(0, 15);
    const peerVeth = `cnp${process.pid}${host}`.slice(0, 15);
    const unregister = onExitCleanup(() => {
      runSyncQuietly('ip', ['netns', 'del', namespace]);
      runSyncQuietly('ip', ['link', 'del', hostVeth]);
    });
    const address = `${this.subnet}.${host}`;
    await runChecked('ip', ['netns', 'add', namespace]);
    await runChecked('ip', ['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', peerVeth]);
    await runChecked('ip', ['link', 'set', peerVeth, 'netns', namespace]);
    await runChecked('ip', ['link', 'set', hostVeth, 'master', this.bridge]);
    await runChecked('ip', ['link', 'set', hostVeth, 'up']);
    const inside = ['netns', 'exec', namespace, 'ip'];
    await runChecked('ip', [...inside, 'link', 'set', peerVeth, 'name', 'eth0']);
    await runChecked('ip', [...inside, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    await runChecked('ip', [...inside, 'link', 'set', 'eth0', 'up']);
    await runChecked('ip', [...inside, 'link', 'set', 'lo', 'up']);
    const node = { id, namespace, address, hostVeth, unregister };
    this.nodes.set(id, node);
    return node;
  }

  /** The command prefix that runs a program inside `id`'s namespace (`ip netns exec` execs, so the pid is the program's). */
  spawnPrefix(id: NodeId): string[] {
    return ['ip', 'netns', 'exec', this.node(id).namespace];
  }

  /**
   * Sets the partition: exactly the given pairs are cut (both directions); every other pair of
   * nodes is connected. Replaces the previous partition atomically per namespace (iptables-restore).
   */
  async setCuts(cuts: readonly (readonly [NodeId, NodeId])[]): Promise<void> {
    const dropped = new Map<NodeId, string[]>();
    for (const id of this.nodes.keys()) dropped.set(id, []);
    for (const [a, b] of cuts) {
      if (!this.nodes.has(a) || !this.nodes.has(b)) continue;
      dropped.get(a)!.push(this.node(b).address);
      dropped.get(b)!.push(this.node(a).address);
    }
    await Promise.all([...dropped].map(([id, addresses]) => {
      const rules = addresses.flatMap((address) => [`-A INPUT -s ${address}/32 -j DROP`, `-A OUTPUT -d ${address}/32 -j DROP`]);
      const table = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ...rules, 'COMMIT', ''].join('\n');
      return runWithInput('ip', ['netns', 'exec', this.node(id).namespace, 'iptables-restore', '-w'], table);
    }));
  }

  async heal(): Promise<void> {
    await this.setCuts([]);
  }

  async removeNode(id: NodeId): Promise<void> {
    const node = this.nodes.get(id);
    if (node === undefined) return;
    this.nodes.delete(id);
    await run('ip', ['netns', 'del', node.namespace]);
    await run('ip', ['link', 'del', node.hostVeth]);
    node.unregister();
  }

  async destroy(): Promise<void> {
    for (const id of [...this.nodes.keys()]) await this.removeNode(id);
    await run('ip', ['link', 'del', this.bridge]);
    this.unregisterBridge();
  }
}
