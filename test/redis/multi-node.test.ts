// Three Gyre processes on one standalone Redis: publications, presence, history/recovery and the server API
// cross nodes; `channels` merges every node and `info` shows each node's client count; `info` lists every node
// and drops a killed one within 10 s.
import { it } from 'node:test';
import { startRedis } from '../harness/redis.js';
import { runMultiNodeSuite } from './multi-node-suite.js';
import { channelsAndCounts } from './scenarios.js';

runMultiNodeSuite(
  'a standalone Redis',
  async () => {
    const redis = await startRedis();
    return { redis: { address: [redis.address], prefix: 'mn' }, stop: () => redis.stop() };
  },
  {
    extra: ({ nodes, pool }) => {
      it('channels through any node merges every node; info through any node shows each node its clients', async () => {
        await channelsAndCounts(pool, nodes());
      });
    },
  },
);
