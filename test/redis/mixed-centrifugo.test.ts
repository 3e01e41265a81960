// One Gyre node and one real Centrifugo v6.9.1 node on one Redis form one cluster: publications, join/leave,
// presence, history and recovery, info and the server API cross in both directions. Skipped (with the reason)
// when the Centrifugo binary is not installed (scripts/install-centrifugo.sh).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consistentIndex } from '../../src/engines/redis/shard-index.js';
import { findCentrifugo } from '../harness/centrifugo.js';
import { callApi } from '../harness/clients.js';
import { mixedPair, type Backends } from '../harness/mixed-pair.js';
import { redisCli, startRedis, startRedisCluster, type RedisServer } from '../harness/redis.js';
import { deltaAcrossNodes } from './delta-scenario.js';
import { redisClusterConfig } from './nodes.js';
import {
  apiReachesOtherNode,
  crossNodePublications,
  historyAndRecovery,
  infoLists,
  presenceAggregates,
  subscribedClient,
  uniq,
  type ServerNode,
} from './scenarios.js';
import { waitFor } from '../harness/wait.js';

const binary = findCentrifugo();
const skip = binary === undefined ? 'centrifugo binary not installed (scripts/install-centrifugo.sh)' : false;

/** Redis servers for a pair, with the engine.redis keys that point at them. */
interface RedisBackends extends Backends {
  engine: Record<string, unknown>;
  shards: RedisServer[];
}

/** `n` standalone Redis servers (shards when more than one), engine.redis `extra` keys added. */
function redisShards(n: number, prefix: string, extra: Record<string, unknown> = {}): () => Promise<RedisBackends> {
  return async () => {
    const shards = await Promise.all(Array.from({ length: n }, () => startRedis()));
    return { engine: { address: shards.map((r) => r.address), prefix, ...extra }, shards, stop: () => Promise.all(shards.map((r) => r.stop())) };
  };
}

const onRedis = (b: RedisBackends, name: string): Record<string, unknown> => redisClusterConfig(b.engine, name);

describe('redis: a Gyre node and a Centrifugo node in one cluster', { skip }, () => {
  const pair = mixedPair({ start: redisShards(1, 'mixed'), config: onRedis, names: ['gyre-1', 'centrifugo-1'] });
  const pool = pair.pool;

  it('publications through either API reach subscribers on both, in one offset order', async () => {
    await crossNodePublications(pool, [pair.gyre, pair.cf]);
    await crossNodePublications(pool, [pair.cf, pair.gyre]);
  });
  it('join/leave cross; presence and presence_stats agree on both', async () => {
    await presenceAggregates(pool, [pair.gyre, pair.cf]);
    await presenceAggregates(pool, [pair.cf, pair.gyre]);
  });
  it('history is shared and a client recovers on the other server', async () => {
    await historyAndRecovery(pool, pair.gyre, pair.cf);
    await historyAndRecovery(pool, pair.cf, pair.gyre);
  });
  it('API subscribe, unsubscribe, refresh and disconnect cross in both directions', async () => {
    await apiReachesOtherNode(pool, pair.cf, pair.gyre);
    await apiReachesOtherNode(pool, pair.gyre, pair.cf);
  });
  it('info on both lists both nodes', async () => {
    await infoLists([pair.gyre, pair.cf], ['gyre-1', 'centrifugo-1']);
  });
  it('an idempotency key used on one server suppresses the same publish on the other (same result key and fields)', async () => {
    for (const [first, second] of [
      [pair.gyre, pair.cf],
      [pair.cf, pair.gyre],
    ] as const) {
      const ch = uniq('xx:idem');
      const s = await subscribedClient(pool, pair.gyre, 'idem-u', ch);
      const publish = async (via: ServerNode, n: number) => {
        const r = await callApi(via.apiUrl, 'publish', { channel: ch, data: { n }, idempotency_key: 'k1' });
        assert.equal(r.status, 200, r.text);
        return (r.body as { result: { offset: number; epoch: string } }).result;
      };
      const a = await publish(first, 1);
      const b = await publish(second, 2);
      assert.deepEqual(b, a, `${second.name} answers the result ${first.name} stored`);
      await callApi(second.apiUrl, 'publish', { channel: ch, data: { n: 3 } });
      await waitFor(() => s.pubs.length === 2, { what: 'the first and the third publication' });
      assert.deepEqual(s.pubs.map((p) => (p.data as { n: number }).n), [1, 3], `the repeated key published nothing (${first.name} first)`);
      s.client.disconnect();
    }
  });
  it("delta: publications with delta through either API reach fossil subscribers on both as deltas (each reads the other's __d1 frames)", async () => {
    await deltaAcrossNodes(pool, { subscribers: [pair.gyre, pair.cf], publishers: [pair.gyre, pair.cf], ascii: true, deltas: true });
  });
});

// presence_user_mapping: both servers keep the per-user zset and hash beside the client ones and answer
// presence_stats from them; each must read what the other wrote, joins and leaves included.
describe('redis: a Gyre node and a Centrifugo node with presence_user_mapping', { skip }, () => {
  const pair = mixedPair({ start: redisShards(1, 'mixum', { presence_user_mapping: true }), config: onRedis, names: ['gyre-um', 'centrifugo-um'] });
  const pool = pair.pool;

  it('presence and presence_stats (from the user keys) agree on both; a leave lowers both', async () => {
    await presenceAggregates(pool, [pair.gyre, pair.cf]);
    await presenceAggregates(pool, [pair.cf, pair.gyre]);
  });

  it('one user connected to both servers is one user with two clients, through either API', async () => {
    const ch = uniq('xx:um');
    const stats = async (n: ServerNode): Promise<unknown> => (await callApi(n.apiUrl, 'presence_stats', { channel: ch })).body;
    const onGyre = await subscribedClient(pool, pair.gyre, 'um-user', ch);
    const onCf = await subscribedClient(pool, pair.cf, 'um-user', ch);
    for (const n of [pair.gyre, pair.cf]) assert.deepEqual(await stats(n), { result: { num_clients: 2, num_users: 1 } }, `via ${n.name}`);
    onCf.sub.unsubscribe();
    await waitFor(async () => JSON.stringify(await stats(pair.gyre)) === JSON.stringify({ result: { num_clients: 1, num_users: 1 } }), {
      what: "Centrifugo's removal seen by Gyre",
    });
    onGyre.sub.unsubscribe();
    await waitFor(async () => JSON.stringify(await stats(pair.cf)) === JSON.stringify({ result: { num_clients: 0, num_users: 0 } }), {
      what: "Gyre's removal seen by Centrifugo",
    });
    onGyre.client.disconnect();
    onCf.client.disconnect();
  });
});

describe('redis: a Gyre node and a Centrifugo node on 2 shards pick the same shard per channel', { skip }, () => {
  const pair = mixedPair({ start: redisShards(2, 'mixsh'), config: onRedis, names: ['gyre-s', 'centrifugo-s'] });
  const pool = pair.pool;

  it('streams Centrifugo writes sit on the shard Gyre computes, and Gyre reads them', async () => {
    const channels = Array.from({ length: 8 }, (_, i) => `xx:shard${i}`);
    const used = new Set(channels.map((c) => consistentIndex(c, 2)));
    assert.equal(used.size, 2, 'the channels cover both shards');
    for (const ch of channels) {
      const r = await callApi(pair.cf.apiUrl, 'publish', { channel: ch, data: { ch } });
      assert.equal(r.status, 200, r.text);
      const want = consistentIndex(ch, 2);
      for (const [i, shard] of pair.backends.shards.entries()) {
        const exists = (await redisCli(shard.port, 'exists', `mixsh.stream.${ch}`)).trim();
        assert.equal(exists, i === want ? '1' : '0', `${ch} on shard ${i}`);
      }
      const h = await callApi(pair.gyre.apiUrl, 'history', { channel: ch, limit: -1 });
      assert.deepEqual((h.body as { result: { publications: { data: unknown }[] } }).result.publications.map((p) => p.data), [{ ch }]);
    }
  });

  it('publications, presence and recovery cross on 2 shards', async () => {
    await crossNodePublications(pool, [pair.gyre, pair.cf]);
    await presenceAggregates(pool, [pair.cf, pair.gyre]);
    await historyAndRecovery(pool, pair.cf, pair.gyre);
  });

  // Gyre publishes control messages on the first shard, Centrifugo round-robin over the shards (docs/redis.md):
  // both listen on every shard, so commands and node info cross either way.
  it('API commands and info cross on 2 shards in both directions', async () => {
    await apiReachesOtherNode(pool, pair.cf, pair.gyre);
    await apiReachesOtherNode(pool, pair.gyre, pair.cf);
    await infoLists([pair.gyre, pair.cf], ['gyre-s', 'centrifugo-s']);
  });
});

describe('redis: a Gyre node and a Centrifugo node on a Redis Cluster', { skip }, () => {
  const pair = mixedPair({
    start: async () => {
      const cluster = await startRedisCluster();
      return { engine: { cluster_address: [cluster.address], prefix: 'mixcl' }, shards: [], stop: () => cluster.stop() };
    },
    config: (b: RedisBackends, name) => redisClusterConfig(b.engine, name),
    names: ['gyre-c', 'centrifugo-c'],
  });
  const pool = pair.pool;

  it('publications, presence, recovery, API and info cross on the Cluster ({channel} hash tags)', async () => {
    await crossNodePublications(pool, [pair.gyre, pair.cf]);
    await presenceAggregates(pool, [pair.gyre, pair.cf]);
    await historyAndRecovery(pool, pair.gyre, pair.cf);
    await apiReachesOtherNode(pool, pair.cf, pair.gyre);
    await infoLists([pair.gyre, pair.cf], ['gyre-c', 'centrifugo-c']);
  });
});
