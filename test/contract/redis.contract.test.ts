// Runs every engine contract suite against the Redis engine on real redis-server processes: standalone,
// 2 shards, and a 3-master Redis Cluster (Centrifugo's key layout with {channel} hash tags).
import { after, before, describe } from 'node:test';
import type { RedisEngineConfig } from '../../src/config/types.js';
import { configSchema } from '../../src/config/schema.js';
import { createRedisEngine } from '../../src/engines/redis/index.js';
import { startRedis, startRedisCluster, type RedisClusterSet, type RedisServer } from '../harness/redis.js';
import { runBrokerContract } from './broker.contract.js';
import { runControllerContract } from './controller.contract.js';
import { runHistoryContract } from './history.contract.js';
import { runPresenceContract } from './presence.contract.js';

function engineConfig(redis: Record<string, unknown>): RedisEngineConfig {
  return configSchema.parse({ engine: { type: 'redis', redis } }).engine.redis;
}

interface Topology {
  name: string;
  brokerSkip?: Record<string, string>;
  config: () => Record<string, unknown>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

let standalone: RedisServer | undefined;
let shardA: RedisServer | undefined;
let shardB: RedisServer | undefined;
let cluster: RedisClusterSet | undefined;

const topologies: Topology[] = [
  {
    name: 'redis standalone',
    config: () => ({ address: [standalone!.address] }),
    async start() {
      standalone = await startRedis();
    },
    async stop() {
      await standalone?.stop();
    },
  },
  {
    name: 'redis 2 shards',
    config: () => ({ address: [shardA!.address, `redis://${shardB!.address}`] }),
    async start() {
      [shardA, shardB] = await Promise.all([startRedis(), startRedis()]);
    },
    async stop() {
      await Promise.all([shardA?.stop(), shardB?.stop()]);
    },
  },
  {
    name: 'redis cluster',
    brokerSkip: {
      // Cluster PUB/SUB: the publishing node forwards the message over the cluster bus after it replied, so an
      // UNSUBSCRIBE sent right after an acknowledged PUBLISH can overtake it on the subscriber's node.
      'only subscribed channels are delivered; unsubscribe stops delivery':
        'on a Redis Cluster an acknowledged PUBLISH reaches other nodes asynchronously (cluster bus)',
    },
    config: () => ({ cluster_address: [cluster!.address] }),
    async start() {
      cluster = await startRedisCluster();
    },
    async stop() {
      await cluster?.stop();
    },
  },
];

for (const t of topologies) {
  describe(t.name, () => {
    before(() => t.start());
    after(() => t.stop());

    runBrokerContract(t.name, () => {
      const e = createRedisEngine(engineConfig({ ...t.config(), prefix: 'gyretest' }));
      return Promise.resolve({ broker: e.broker, history: e.broker, close: () => e.close() });
    }, t.brokerSkip);

    runHistoryContract(t.name, async () => {
      const e = createRedisEngine(engineConfig({ ...t.config(), prefix: 'gyretest' }));
      await e.shards.start();
      return { history: e.broker, close: () => e.close() };
    });

    runControllerContract(
      t.name,
      async (nodes) => {
        const engines = Array.from({ length: nodes }, () => createRedisEngine(engineConfig({ ...t.config(), prefix: 'gyretest' })));
        await Promise.all(engines.map((e) => e.shards.start()));
        return {
          controllers: engines.map((e) => e.controller),
          close: async () => {
            await Promise.all(engines.map((e) => e.close()));
          },
        };
      },
      3,
    );

    for (const userMapping of [false, true]) {
      // presence_user_mapping: a per-user zset and hash beside the client ones, stats computed from them in Redis.
      runPresenceContract(`${t.name}${userMapping ? ' with presence_user_mapping' : ''}`, async ({ presenceTtlMs }) => {
        const e = createRedisEngine(
          engineConfig({ ...t.config(), prefix: 'gyretest', presence_ttl: `${presenceTtlMs}ms`, presence_user_mapping: userMapping }),
        );
        await e.shards.start();
        return { presence: e.presence, close: () => e.close() };
      });
    }
  });
}
