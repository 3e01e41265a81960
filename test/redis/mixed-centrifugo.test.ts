// One Gyre node and one real Centrifugo v6.9.1 node on one Redis form one cluster: publications, join/leave,
// presence, history and recovery, info and the server API cross in both directions. Skipped (with the reason)
// when the Centrifugo binary is not installed (scripts/install-centrifugo.sh).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { consistentIndex } from '../../src/engines/redis/shard-index.js';
import { findCentrifugo, startCentrifugo, type CentrifugoProcess } from '../harness/centrifugo.js';
import { callApi, ClientPool } from '../harness/clients.js';
import { redisCli, startRedis, startRedisCluster, type RedisClusterSet, type RedisServer } from '../harness/redis.js';
import { deltaAcrossNodes } from './delta-scenario.js';
import { redisClusterConfig, startGyreNodes, type GyreNode } from './nodes.js';
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

describe('redis: a Gyre node and a Centrifugo node in one cluster', { skip }, () => {
  let redis: RedisServer;
  let gyre: GyreNode[] = [];
  let cf: CentrifugoProcess | undefined;
  let cfNode: ServerNode;
  const pool = new ClientPool();
  before(async () => {
    redis = await startRedis();
    const engine = { address: [redis.address], prefix: 'mixed' };
    [gyre, cf] = await Promise.all([
      startGyreNodes(engine, ['gyre-1']),
      startCentrifugo(redisClusterConfig(engine, 'centrifugo-1'), binary === undefined ? {} : { binary }),
    ]);
    cfNode = { name: 'centrifugo-1', url: cf.url, apiUrl: cf.apiUrl };
  });
  after(async () => {
    pool.closeAll();
    await Promise.all([...gyre.map((n) => n.proc.stop()), cf?.stop()]);
    await redis?.stop();
  });

  it('publications through either API reach subscribers on both, in one offset order', async () => {
    await crossNodePublications(pool, [gyre[0]!, cfNode]);
    await crossNodePublications(pool, [cfNode, gyre[0]!]);
  });
  it('join/leave cross; presence and presence_stats agree on both', async () => {
    await presenceAggregates(pool, [gyre[0]!, cfNode]);
    await presenceAggregates(pool, [cfNode, gyre[0]!]);
  });
  it('history is shared and a client recovers on the other server', async () => {
    await historyAndRecovery(pool, gyre[0]!, cfNode);
    await historyAndRecovery(pool, cfNode, gyre[0]!);
  });
  it('API subscribe, unsubscribe, refresh and disconnect cross in both directions', async () => {
    await apiReachesOtherNode(pool, cfNode, gyre[0]!);
    await apiReachesOtherNode(pool, gyre[0]!, cfNode);
  });
  it('info on both lists both nodes', async () => {
    await infoLists([gyre[0]!, cfNode], ['gyre-1', 'centrifugo-1']);
  });
  it('an idempotency key used on one server suppresses the same publish on the other (same result key and fields)', async () => {
    for (const [first, second] of [
      [gyre[0]!, cfNode],
      [cfNode, gyre[0]!],
    ] as const) {
      const ch = uniq('xx:idem');
      const s = await subscribedClient(pool, gyre[0]!, 'idem-u', ch);
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
    await deltaAcrossNodes(pool, { subscribers: [gyre[0]!, cfNode], publishers: [gyre[0]!, cfNode], ascii: true, deltas: true });
  });
});

// presence_user_mapping: both servers keep the per-user zset and hash beside the client ones and answer
// presence_stats from them; each must read what the other wrote, joins and leaves included.
describe('redis: a Gyre node and a Centrifugo node with presence_user_mapping', { skip }, () => {
  let redis: RedisServer;
  let gyre: GyreNode[] = [];
  let cf: CentrifugoProcess | undefined;
  let cfNode: ServerNode;
  const pool = new ClientPool();
  before(async () => {
    redis = await startRedis();
    const engine = { address: [redis.address], prefix: 'mixum', presence_user_mapping: true };
    [gyre, cf] = await Promise.all([
      startGyreNodes(engine, ['gyre-um']),
      startCentrifugo(redisClusterConfig(engine, 'centrifugo-um'), binary === undefined ? {} : { binary }),
    ]);
    cfNode = { name: 'centrifugo-um', url: cf.url, apiUrl: cf.apiUrl };
  });
  after(async () => {
    pool.closeAll();
    await Promise.all([...gyre.map((n) => n.proc.stop()), cf?.stop()]);
    await redis?.stop();
  });

  it('presence and presence_stats (from the user keys) agree on both; a leave lowers both', async () => {
    await presenceAggregates(pool, [gyre[0]!, cfNode]);
    await presenceAggregates(pool, [cfNode, gyre[0]!]);
  });

  it('one user connected to both servers is one user with two clients, through either API', async () => {
    const ch = uniq('xx:um');
    const stats = async (n: ServerNode): Promise<unknown> => (await callApi(n.apiUrl, 'presence_stats', { channel: ch })).body;
    const onGyre = await subscribedClient(pool, gyre[0]!, 'um-user', ch);
    const onCf = await subscribedClient(pool, cfNode, 'um-user', ch);
    for (const n of [gyre[0]!, cfNode]) assert.deepEqual(await stats(n), { result: { num_clients: 2, num_users: 1 } }, `via ${n.name}`);
    onCf.sub.unsubscribe();
    await waitFor(async () => JSON.stringify(await stats(gyre[0]!)) === JSON.stringify({ result: { num_clients: 1, num_users: 1 } }), {
      what: "Centrifugo's removal seen by Gyre",
    });
    onGyre.sub.unsubscribe();
    await waitFor(async () => JSON.stringify(await stats(cfNode)) === JSON.stringify({ result: { num_clients: 0, num_users: 0 } }), {
      what: "Gyre's removal seen by Centrifugo",
    });
    onGyre.client.disconnect();
    onCf.client.disconnect();
  });
});

describe('redis: a Gyre node and a Centrifugo node on 2 shards pick the same shard per channel', { skip }, () => {
  let shards: RedisServer[] = [];
  let gyre: GyreNode[] = [];
  let cf: CentrifugoProcess | undefined;
  let cfNode: ServerNode;
  const pool = new ClientPool();
  before(async () => {
    shards = await Promise.all([startRedis(), startRedis()]);
    const engine = { address: shards.map((r) => r.address), prefix: 'mixsh' };
    [gyre, cf] = await Promise.all([
      startGyreNodes(engine, ['gyre-s']),
      startCentrifugo(redisClusterConfig(engine, 'centrifugo-s'), binary === undefined ? {} : { binary }),
    ]);
    cfNode = { name: 'centrifugo-s', url: cf.url, apiUrl: cf.apiUrl };
  });
  after(async () => {
    pool.closeAll();
    await Promise.all([...gyre.map((n) => n.proc.stop()), cf?.stop()]);
    await Promise.all(shards.map((r) => r.stop()));
  });

  it('streams Centrifugo writes sit on the shard Gyre computes, and Gyre reads them', async () => {
    const channels = Array.from({ length: 8 }, (_, i) => `xx:shard${i}`);
    const used = new Set(channels.map((c) => consistentIndex(c, 2)));
    assert.equal(used.size, 2, 'the channels cover both shards');
    for (const ch of channels) {
      const r = await callApi(cfNode.apiUrl, 'publish', { channel: ch, data: { ch } });
      assert.equal(r.status, 200, r.text);
      const want = consistentIndex(ch, 2);
      for (const [i, shard] of shards.entries()) {
        const exists = (await redisCli(shard.port, 'exists', `mixsh.stream.${ch}`)).trim();
        assert.equal(exists, i === want ? '1' : '0', `${ch} on shard ${i}`);
      }
      const h = await callApi(gyre[0]!.apiUrl, 'history', { channel: ch, limit: -1 });
      assert.deepEqual((h.body as { result: { publications: { data: unknown }[] } }).result.publications.map((p) => p.data), [{ ch }]);
    }
  });

  it('publications, presence and recovery cross on 2 shards', async () => {
    await crossNodePublications(pool, [gyre[0]!, cfNode]);
    await presenceAggregates(pool, [cfNode, gyre[0]!]);
    await historyAndRecovery(pool, cfNode, gyre[0]!);
  });

  // Gyre publishes control messages on the first shard, Centrifugo round-robin over the shards (docs/redis.md):
  // both listen on every shard, so commands and node info cross either way.
  it('API commands and info cross on 2 shards in both directions', async () => {
    await apiReachesOtherNode(pool, cfNode, gyre[0]!);
    await apiReachesOtherNode(pool, gyre[0]!, cfNode);
    await infoLists([gyre[0]!, cfNode], ['gyre-s', 'centrifugo-s']);
  });
});

describe('redis: a Gyre node and a Centrifugo node on a Redis Cluster', { skip }, () => {
  let cluster: RedisClusterSet | undefined;
  let gyre: GyreNode[] = [];
  let cf: CentrifugoProcess | undefined;
  let cfNode: ServerNode;
  const pool = new ClientPool();
  before(async () => {
    cluster = await startRedisCluster();
    const engine = { cluster_address: [cluster.address], prefix: 'mixcl' };
    [gyre, cf] = await Promise.all([
      startGyreNodes(engine, ['gyre-c']),
      startCentrifugo(redisClusterConfig(engine, 'centrifugo-c'), binary === undefined ? {} : { binary }),
    ]);
    cfNode = { name: 'centrifugo-c', url: cf.url, apiUrl: cf.apiUrl };
  });
  after(async () => {
    pool.closeAll();
    await Promise.all([...gyre.map((n) => n.proc.stop()), cf?.stop()]);
    await cluster?.stop();
  });

  it('publications, presence, recovery, API and info cross on the Cluster ({channel} hash tags)', async () => {
    await crossNodePublications(pool, [gyre[0]!, cfNode]);
    await presenceAggregates(pool, [gyre[0]!, cfNode]);
    await historyAndRecovery(pool, gyre[0]!, cfNode);
    await apiReachesOtherNode(pool, cfNode, gyre[0]!);
    await infoLists([gyre[0]!, cfNode], ['gyre-c', 'centrifugo-c']);
  });
});
