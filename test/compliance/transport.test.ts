import type { NodeId } from '../../src/core/ids.js';
import { TcpTransport, type PeerAddress } from '../../src/net/tcp-transport.js';
import { MemoryTransportHub } from '../../src/sim/memory-transport.js';
import { transportComplianceSuite, type TransportCluster } from './transport.suite.js';

const secret = 'compliance-suite-cluster-secret';

transportComplianceSuite({
  name: 'in-memory hub',
  async create<M>(ids: readonly NodeId[]): Promise<TransportCluster<M>> {
    const hub = new MemoryTransportHub<M>(ids);
    const transports = new Map(ids.map((id) => [id, hub.join(id)]));
    return {
      transports,
      restart: async (id) => {
        await transports.get(id)!.close();
        const fresh = hub.join(id);
        transports.set(id, fresh);
        return fresh;
      },
      block: (from, to) => hub.block(from, to),
      heal: () => hub.heal(),
      close: async () => {
        for (const transport of transports.values()) await transport.close();
      },
    };
  },
});

transportComplianceSuite({
  name: 'TCP',
  async create<M>(ids: readonly NodeId[]): Promise<TransportCluster<M>> {
    const transports = new Map<NodeId, TcpTransport<M>>();
    for (const id of ids) transports.set(id, await TcpTransport.start<M>({ self: id, clusterSecret: secret, reconnectDelayMsMin: 5, reconnectDelayMsMax: 50 }));
    const addresses = new Map<NodeId, PeerAddress>([...transports].map(([id, transport]) => [id, transport.address]));
    for (const [id, transport] of transports) for (const [peer, address] of addresses) if (peer !== id) transport.addPeer(peer, address);
    return {
      transports,
      restart: async (id) => {
        await transports.get(id)!.close();
        const peers = Object.fromEntries([...addresses].filter(([peer]) => peer !== id));
        const fresh = await TcpTransport.start<M>({
          self: id, clusterSecret: secret, listen: { port: addresses.get(id)!.port }, peers, reconnectDelayMsMin: 5, reconnectDelayMsMax: 50,
        });
        transports.set(id, fresh);
        return fresh;
      },
      block: (from, to) => transports.get(from)!.faults.block(to, 'outbound'),
      heal: () => {
        for (const transport of transports.values()) transport.faults.heal();
      },
      close: async () => {
        await Promise.all([...transports.values()].map((transport) => transport.close()));
      },
    };
  },
});
