// Three Gyre processes on one standalone Redis: publications, presence, history/recovery and the server API
// cross nodes; `info` lists every node and drops a killed one within 10 s.
import { after, before, describe, it } from 'node:test';
import { ClientPool } from '../harness/clients.js';
import { startRedis, type RedisServer } from '../harness/redis.js';
import { startGyreNodes, type GyreNode } from './nodes.js';
import { apiReachesOtherNode, crossNodePublications, historyAndRecovery, infoLists, presenceAggregates } from './scenarios.js';

describe('redis: 3 Gyre nodes on a standalone Redis', () => {
  let redis: RedisServer;
  let nodes: GyreNode[] = [];
  const pool = new ClientPool();
  before(async () => {
    redis = await startRedis();
    nodes = await startGyreNodes({ address: [redis.address], prefix: 'mn' }, ['gyre-a', 'gyre-b', 'gyre-c']);
  });
  after(async () => {
    pool.closeAll();
    await Promise.all(nodes.map((n) => n.proc.stop()));
    await redis?.stop();
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
  it('info lists 3 nodes; a killed node disappears within 10 s', async () => {
    await infoLists(nodes, ['gyre-a', 'gyre-b', 'gyre-c']);
    await nodes[2]!.proc.stop('SIGKILL');
    await infoLists(nodes.slice(0, 2), ['gyre-a', 'gyre-b'], 10_000);
  });
});
