// `gyre --workers 2` with the NATS broker (docs/workers.md): each worker connects to NATS (and to Redis for
// presence) as any node would and the primary hosts nothing, so the two workers and a separate single-process
// Gyre node form one cluster of three. `info` through the other node lists both workers; clients held by each
// worker get the publications made through the other node, each once (NATS: no offsets, no order across
// publishing nodes), and the other node's client gets the workers'; presence_stats through the other node counts
// the workers' clients (Redis presence).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callApi, ClientPool } from '../harness/clients.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { natsAvailable, startNats, type NatsServer } from '../harness/nats.js';
import { redisAvailable, startRedis, type RedisServer } from '../harness/redis.js';
import { waitFor } from '../harness/wait.js';
import { natsNodeConfig, startGyreNatsNodes, type GyreNatsNode } from '../nats/nodes.js';
import { infoLists, subscribedClient, uniq, type ServerNode } from '../redis/scenarios.js';
import { clientsOnBothWorkers, workerNames } from './worker-spread.js';

const ok = (await natsAvailable()) && (await redisAvailable());

describe('worker processes with the NATS broker', { timeout: 180_000, skip: ok ? false : 'nats-server or redis-server is not installed' }, () => {
  let nats: NatsServer | undefined;
  let redis: RedisServer | undefined;
  let workers: GyreProcess | undefined;
  let other: GyreNatsNode[] = [];
  let w: ServerNode;
  const pool = new ClientPool();

  before(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
    [workers, other] = await Promise.all([
      startGyre(mergeConfig(natsNodeConfig(nats.url, redis.address, 'wn', 'gyre-w'), { log: { level: 'info' } }), {
        args: ['--workers', '2'],
        env: { GYRE_HTTP_SERVER_WARMUP_CONNECTIONS: '20' },
        // Two workers compiling and warming up beside other suites' processes: more than the default 30 s.
        startTimeoutMs: 90_000,
      }),
      startGyreNatsNodes(nats.url, redis.address, 'wn', ['gyre-b']),
    ]);
    w = { name: 'gyre-w', url: workers.url, apiUrl: workers.apiUrl };
    await waitFor(() => workers!.stdout().includes('2 workers serving'), { what: 'both workers serving', timeoutMs: 90_000 });
  });
  after(async () => {
    pool.closeAll();
    await Promise.all([workers?.stop('SIGTERM', 15_000), ...other.map((n) => n.proc.stop())]);
    await Promise.all([nats?.stop(), redis?.stop()]);
  });

  it('each worker is a node of the NATS cluster: info through the other node lists both workers', async () => {
    await infoLists([other[0]!, w], [...workerNames('gyre-w'), 'gyre-b'], 15_000);
  });

  it('publications cross between both workers and the other node, each once; presence counts every client', async () => {
    const b = other[0]!;
    const ch = uniq('xx:wn');
    const onWorkers = await clientsOnBothWorkers(pool, w, b, 'gyre-w', 'wn-u', ch);
    const onOther = await subscribedClient(pool, b, 'wn-other', ch);
    const everyone = [...onWorkers, onOther];

    for (const via of [b, w, b]) {
      const r = await callApi(via.apiUrl, 'publish', { channel: ch, data: { via: via.name } });
      assert.equal(r.status, 200, r.text);
    }
    for (const [i, s] of everyone.entries()) {
      await waitFor(() => s.pubs.length === 3, { what: `3 publications at client ${i}`, timeoutMs: 10_000 });
      assert.deepEqual(s.pubs.map((p) => (p.data as { via: string }).via).sort(), ['gyre-b', 'gyre-b', 'gyre-w'], `client ${i}`);
    }
    const st = await callApi(b.apiUrl, 'presence_stats', { channel: ch });
    assert.deepEqual((st.body as { result: unknown }).result, { num_clients: everyone.length, num_users: everyone.length });
    const p = await callApi(w.apiUrl, 'presence', { channel: ch });
    const users = Object.values((p.body as { result: { presence: Record<string, { user: string }> } }).result.presence).map((c) => c.user);
    assert.equal(users.length, everyone.length, 'presence through either worker lists every client');
    for (const s of everyone) s.client.disconnect();
  });
});
