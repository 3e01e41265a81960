// `gyre --workers 2` on the Redis engine (docs/workers.md): each worker connects to Redis as any node would and the
// primary hosts nothing, so the two workers and a separate single-process Gyre node form one cluster of three.
// `info` through the other node lists both workers; clients held by each worker get the publications made
// through the other node, in one offset order, and the other node's client gets the workers'; presence and
// presence_stats through the other node count the workers' clients (Redis presence).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callApi, ClientPool } from '../harness/clients.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { startRedis, type RedisServer } from '../harness/redis.js';
import { waitFor } from '../harness/wait.js';
import { redisClusterConfig, startGyreNodes, type GyreNode } from '../redis/nodes.js';
import { infoLists, subscribedClient, uniq, type ServerNode } from '../redis/scenarios.js';
import { clientsOnBothWorkers, workerNames } from './worker-spread.js';

describe('worker processes on the Redis engine', { timeout: 180_000 }, () => {
  let redis: RedisServer;
  let workers: GyreProcess | undefined;
  let other: GyreNode[] = [];
  let w: ServerNode;
  const pool = new ClientPool();

  before(async () => {
    redis = await startRedis();
    const engine = { address: [redis.address], prefix: 'wr' };
    [workers, other] = await Promise.all([
      startGyre(mergeConfig(redisClusterConfig(engine, 'gyre-w'), { log: { level: 'info' } }), {
        args: ['--workers', '2'],
        env: { GYRE_HTTP_SERVER_WARMUP_CONNECTIONS: '20' },
        // Two workers compiling and warming up beside other suites' processes: more than the default 30 s.
        startTimeoutMs: 90_000,
      }),
      startGyreNodes(engine, ['gyre-b']),
    ]);
    w = { name: 'gyre-w', url: workers.url, apiUrl: workers.apiUrl };
    await waitFor(() => workers!.stdout().includes('2 workers serving'), { what: 'both workers serving', timeoutMs: 90_000 });
  });
  after(async () => {
    pool.closeAll();
    await Promise.all([workers?.stop('SIGTERM', 15_000), ...other.map((n) => n.proc.stop())]);
    await redis?.stop();
  });

  it('each worker is a node of the Redis cluster: info through the other node lists both workers', async () => {
    await infoLists([other[0]!, w], [...workerNames('gyre-w'), 'gyre-b'], 15_000);
  });

  it('publications cross between both workers and the other node in one offset order; presence counts every client', async () => {
    const b = other[0]!;
    const ch = uniq('xx:wr');
    const onWorkers = await clientsOnBothWorkers(pool, w, b, 'gyre-w', 'wr-u', ch);
    const onOther = await subscribedClient(pool, b, 'wr-other', ch);
    const everyone = [...onWorkers, onOther];

    for (const via of [b, w, b]) {
      const r = await callApi(via.apiUrl, 'publish', { channel: ch, data: { via: via.name } });
      assert.equal(r.status, 200, r.text);
    }
    for (const [i, s] of everyone.entries()) {
      await waitFor(() => s.pubs.length === 3, { what: `3 publications at client ${i}`, timeoutMs: 10_000 });
      assert.deepEqual(
        s.pubs.map((p) => [(p.data as { via: string }).via, Number(p.offset)]),
        [
          ['gyre-b', 1],
          ['gyre-w', 2],
          ['gyre-b', 3],
        ],
        `client ${i}`,
      );
    }
    const st = await callApi(b.apiUrl, 'presence_stats', { channel: ch });
    assert.deepEqual((st.body as { result: unknown }).result, { num_clients: everyone.length, num_users: everyone.length });
    const p = await callApi(w.apiUrl, 'presence', { channel: ch });
    const users = Object.values((p.body as { result: { presence: Record<string, { user: string }> } }).result.presence).map((c) => c.user);
    assert.equal(users.length, everyone.length, 'presence through either worker lists every client');
    for (const s of everyone) s.client.disconnect();
  });
});
