// The 3-node scenario suite, run once per Redis topology (standalone, 2 shards, Cluster, Sentinel).
import { after, before, describe, it } from 'node:test';
import { ClientPool } from '../harness/clients.js';
import { startGyreNodes, type GyreNode, type Topology } from './nodes.js';
import { deltaAcrossNodes, deltaBursts } from './delta-scenario.js';
import { apiReachesOtherNode, crossNodePublications, historyAndRecovery, infoLists, presenceAggregates } from './scenarios.js';

export interface SuiteOptions {
  /** Extra cases that run after the common ones, before the node-kill case. */
  extra?: (ctx: { nodes: () => GyreNode[]; topology: () => Topology; pool: ClientPool }) => void;
}

export function runMultiNodeSuite(name: string, start: () => Promise<Topology>, opts: SuiteOptions = {}): void {
  describe(`redis: 3 Gyre nodes on ${name}`, () => {
    let topology: Topology | undefined;
    let nodes: GyreNode[] = [];
    const pool = new ClientPool();
    before(async () => {
      topology = await start();
      nodes = await startGyreNodes(topology.redis, ['gyre-a', 'gyre-b', 'gyre-c']);
    });
    after(async () => {
      pool.closeAll();
      await Promise.all(nodes.map((n) => n.proc.stop()));
      await topology?.stop();
    });

    it('a publication through any node reaches subscribers on every node, in one offset order', async () => {
      await crossNodePublications(pool, nodes);
    });
    it('presence and presence_stats aggregate across nodes; join and leave cross', async () => {
      await presenceAggregates(pool, nodes);
    });
    it('history is the same on every node and a client recovers on another node', async () => {
      await historyAndRecovery(pool, nodes[0]!, nodes[1]!);
    });
    it('API subscribe, unsubscribe, refresh and disconnect reach a user on another node', async () => {
      await apiReachesOtherNode(pool, nodes[0]!, nodes[2]!);
    });
    it('delta: the official client with fossil on 2 nodes gets 100 publications exact, as deltas from the second', async () => {
      await deltaAcrossNodes(pool, { subscribers: [nodes[0]!, nodes[1]!], publishers: [nodes[1]!, nodes[2]!], ascii: false, deltas: true });
    });
    it('delta in bursts: 10 publications at a time through 2 nodes; every delta has the right base on a third', async () => {
      await deltaBursts(pool, nodes[0]!, [nodes[1]!, nodes[2]!], 10);
    });
    opts.extra?.({ nodes: () => nodes, topology: () => topology!, pool });
    it('info lists 3 nodes; a killed node disappears within 10 s', async () => {
      await infoLists(nodes, ['gyre-a', 'gyre-b', 'gyre-c']);
      await nodes[2]!.proc.stop('SIGKILL');
      await infoLists(nodes.slice(0, 2), ['gyre-a', 'gyre-b'], 10_000);
    });
  });
}
