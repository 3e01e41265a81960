// The 3-node suite on 2 Redis shards (channels spread by centrifuge's jump hash over FNV-1a) and on a 3-master
// Redis Cluster (keys hash-tagged {channel}).
import { startRedis, startRedisCluster } from '../harness/redis.js';
import { runMultiNodeSuite } from './multi-node-suite.js';

runMultiNodeSuite('2 Redis shards', async () => {
  const [a, b] = await Promise.all([startRedis(), startRedis()]);
  return {
    redis: { address: [a.address, b.address], prefix: 'sh' },
    stop: async () => {
      await Promise.all([a.stop(), b.stop()]);
    },
  };
});

runMultiNodeSuite('a 3-master Redis Cluster', async () => {
  const c = await startRedisCluster();
  return { redis: { cluster_address: [c.address], prefix: 'cl' }, stop: () => c.stop() };
});
