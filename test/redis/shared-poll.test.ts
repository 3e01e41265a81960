// shared_poll_publish across nodes (docs/shared-poll.md): two Gyre processes on one real Redis, a client tracking a
// key on node A, the API call on node B; the publication reaches the client through the cluster survey.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SharedPollUpdateContext } from 'centrifuge';
import { signTrack } from '../../src/core/shared-poll/signature.js';
import { callApi, ClientPool } from '../harness/clients.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { startPollBackend, type PollBackend } from '../harness/poll-backend.js';
import { redisAvailable, startRedis, type RedisServer } from '../harness/redis.js';
import { connToken } from '../harness/tokens.js';
import { nextEvent, waitFor } from '../harness/wait.js';
import { baseConfig } from '../compat/base-config.js';

const SECRET = 'poll-cluster-secret';
const available = await redisAvailable();

describe('shared poll on two nodes', { skip: available ? false : 'redis-server is not installed' }, () => {
  let redis: RedisServer;
  let backend: PollBackend;
  const nodes: GyreProcess[] = [];
  const pool = new ClientPool();

  before(async () => {
    redis = await startRedis();
    backend = await startPollBackend();
    const config = (name: string) =>
      mergeConfig(baseConfig(), {
        engine: { type: 'redis', redis: { address: [redis.address], prefix: 'sp' } },
        node: { name },
        shared_poll: { hmac_secret_key: SECRET },
        proxies: [{ name: 'poll', endpoint: backend.endpoint, timeout: '1s' }],
        channel: {
          namespaces: [
            {
              name: 'pollpub',
              subscription_type: 'shared_poll',
              shared_poll: { proxy_name: 'poll', mode: 'versioned', publish_enabled: true, refresh_interval: '60s' },
              allow_subscribe_for_client: true,
            },
          ],
        },
      });
    nodes.push(...(await Promise.all([startGyre(config('a')), startGyre(config('b'))])));
    await waitFor(
      async () => {
        const info = await callApi(nodes[1]!.apiUrl, 'info', {});
        return ((info.body as { result?: { nodes?: unknown[] } }).result?.nodes?.length ?? 0) === 2;
      },
      { what: 'both nodes in info', timeoutMs: 15_000, intervalMs: 200 },
    );
  });

  after(async () => {
    pool.closeAll();
    await Promise.all(nodes.map((n) => n.stop()));
    await backend?.close();
    await redis?.stop();
  });

  it('a publish on node B reaches the tracker on node A', async () => {
    const ch = `pollpub:c${Date.now()}`;
    backend.set(ch, 'p', { data: { n: 1 }, version: 1 });
    const { client } = pool.json(nodes[0]!.url, { token: await connToken({ sub: 'u' }) });
    client.connect();
    await client.ready(5000);
    const now = Math.floor(Date.now() / 1000);
    const sub = client.newSharedPollSubscription(ch, {
      getSignature: (ctx) => Promise.resolve({ keys: ctx.keys, signature: signTrack(SECRET, ch, ctx.keys, 'u', now, now + 3600) }),
    });
    sub.subscribe();
    await sub.ready(5000);
    const first = nextEvent<SharedPollUpdateContext>(sub, 'update');
    sub.track(['p']);
    assert.equal((await first).version, 1);
    const next = nextEvent<SharedPollUpdateContext>(sub, 'update');
    const res = await callApi(nodes[1]!.apiUrl, 'shared_poll_publish', { channel: ch, key: 'p', version: 8, data: { n: 8 } });
    assert.deepEqual(res.body, { result: {} });
    const u = await next;
    assert.deepEqual([u.data, u.version], [{ n: 8 }, 8]);
  });
});
