// Three Gyre processes on one standalone Redis: publications, presence, history/recovery and the server API
// cross nodes; `info` lists every node and drops a killed one within 10 s.
import { startRedis } from '../harness/redis.js';
import { runMultiNodeSuite } from './multi-node-suite.js';

runMultiNodeSuite('a standalone Redis', async () => {
  const redis = await startRedis();
  return { redis: { address: [redis.address], prefix: 'mn' }, stop: () => redis.stop() };
});
