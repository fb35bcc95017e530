import type { NodeId } from '../../core/ids.js';
import type { CoreContext } from '../../core/protocol.js';
import { type ChordConfig, chordConfig } from './config.js';
import { ChordCore, type ChordNodeOptions } from './core.js';
import type { ChordRecord } from './types.js';

export function chordFactory(overrides: Partial<ChordConfig> = {}, nodeOptions: (id: NodeId, peers: readonly NodeId[]) => ChordNodeOptions = defaultNodeOptions): (context: CoreContext<ChordRecord>) => ChordCore {
  const config = chordConfig(overrides);
  return (context) => new ChordCore(context, config, nodeOptions(context.id, context.peers));
}

/** The first member (in sorted order) creates the ring; every other joins one tick after starting. */
export function defaultNodeOptions(id: NodeId, peers: readonly NodeId[]): ChordNodeOptions {
  return { creates: [...peers].sort()[0] === id, joinAfterTicks: 1 };
}
