// The admin Connections page asks every node: a user connected to node B is found, with its node and channels,
// through node A's admin endpoint (the `gyre.user_connections` survey over Redis).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SubscribedContext } from 'centrifuge';
import { ClientPool, collect } from '../harness/clients.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { startRedis, type RedisServer } from '../harness/redis.js';
import { connToken } from '../harness/tokens.js';
import { waitFor } from '../harness/wait.js';
import { redisClusterConfig } from './nodes.js';
import { infoLists, uniq } from './scenarios.js';

interface Answer {
  result: { complete: boolean; connections: Array<{ node: string; user: string; client: string; channels: string[] }> };
}

async function connectionsOf(node: GyreProcess, user: string): Promise<Answer['result']> {
  const r = await fetch(`${node.baseUrl}/admin/connections`, { method: 'POST', body: JSON.stringify({ user }) });
  assert.equal(r.status, 200);
  return ((await r.json()) as Answer).result;
}

describe('admin: connections of a user across nodes (Redis)', () => {
  let redis: RedisServer;
  const nodes: GyreProcess[] = [];
  const pool = new ClientPool();
  before(async () => {
    redis = await startRedis();
    for (const name of ['adm-a', 'adm-b']) {
      const cfg = mergeConfig(redisClusterConfig({ address: [redis.address], prefix: 'adm' }, name), {
        admin: { enabled: true, insecure: true },
      });
      nodes.push(await startGyre(cfg));
    }
  });
  after(async () => {
    pool.closeAll();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.stop();
  });

  it('lists a connection held by another node, with that node and its channels', async () => {
    const [a, b] = nodes as [GyreProcess, GyreProcess];
    await infoLists(
      nodes.map((n, i) => ({ name: ['adm-a', 'adm-b'][i]!, url: n.url, apiUrl: n.apiUrl })),
      ['adm-a', 'adm-b'],
    );
    const user = uniq('adm-user');
    const channel = uniq('xx:adm');
    const { client } = pool.json(b.url, { token: await connToken({ sub: user, expIn: 3600 }) });
    const sub = client.newSubscription(channel);
    const subscribed = collect<SubscribedContext>(sub, 'subscribed');
    sub.subscribe();
    client.connect();
    await waitFor(() => subscribed.length === 1, { what: 'subscribed on node B' });

    const viaA = await connectionsOf(a, user);
    assert.equal(viaA.complete, true);
    assert.equal(viaA.connections.length, 1);
    const c = viaA.connections[0]!;
    assert.equal(c.node, 'adm-b');
    assert.equal(c.user, user);
    assert.deepEqual(c.channels, [channel]);
    // Node B answers the same, and nobody else is listed for another user.
    assert.deepEqual((await connectionsOf(b, user)).connections.map((x) => x.client), [c.client]);
    assert.equal((await connectionsOf(a, uniq('nobody'))).connections.length, 0);
  });
});
