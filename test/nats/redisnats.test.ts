// `broker.type: redisnats` (history in Redis, PUB/SUB and control in NATS) on a real nats-server and redis-server
// the test starts: 2 Gyre nodes, then one Gyre and one Centrifugo 6.9.1 node (skipped with the reason when the
// binary is absent). Presence is in the same Redis through presence_manager. Also the start-up refusals: plain NATS
// with a history namespace, and redisnats without enable_unreleased_features.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PublicationContext } from 'centrifuge';
import { findCentrifugo } from '../harness/centrifugo.js';
import { mixedPair } from '../harness/mixed-pair.js';
import { callApi, ClientPool } from '../harness/clients.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { natsAvailable, startNats, type NatsServer } from '../harness/nats.js';
import { redisAvailable, redisCli, startRedis, type RedisServer } from '../harness/redis.js';
import { sleep, waitFor } from '../harness/wait.js';
import { baseConfig } from '../compat/base-config.js';
import {
  crossNodePublications,
  historyAndRecovery,
  presenceAggregates,
  scenarioNamespaces,
  subscribedClient,
  uniq,
  type ServerNode,
} from '../redis/scenarios.js';
import { natsNodeConfig } from './nodes.js';

const servers = (await natsAvailable()) && (await redisAvailable());
const skip = servers ? false : 'nats-server or redis-server is not installed';
const binary = findCentrifugo();
const mixedSkip = binary === undefined ? 'centrifugo binary not installed (scripts/install-centrifugo.sh)' : skip;

/** A namespace without history, for publications that go to NATS only (or through Redis for an idempotency key). */
const PLAIN = { name: 'plain', allow_subscribe_for_client: true };

function redisNatsConfig(nats: NatsServer, redis: RedisServer, prefix: string, nodeName: string): Record<string, unknown> {
  const r = { address: [redis.address], prefix };
  return mergeConfig(baseConfig(), {
    enable_unreleased_features: true,
    broker: { enabled: true, type: 'redisnats', redis: r, nats: { url: nats.url, prefix } },
    presence_manager: { enabled: true, type: 'redis', redis: r },
    node: { name: nodeName },
    channel: { namespaces: [...scenarioNamespaces(), PLAIN] },
  });
}

interface GyreNode extends ServerNode {
  proc: GyreProcess;
}

async function startNode(nats: NatsServer, redis: RedisServer, prefix: string, name: string): Promise<GyreNode> {
  const proc = await startGyre(redisNatsConfig(nats, redis, prefix, name));
  return { name, url: proc.url, apiUrl: proc.apiUrl, proc };
}

async function publish(node: ServerNode, params: Record<string, unknown>): Promise<{ offset?: number; epoch?: string }> {
  const r = await callApi(node.apiUrl, 'publish', params);
  const body = r.body as { result?: { offset?: number; epoch?: string }; error?: unknown };
  assert.equal(body.error, undefined, `publish via ${node.name}: ${JSON.stringify(r.body)}`);
  return body.result ?? {};
}

/** An idempotency key suppresses the second publish (through `b`) of the same key, in each namespace. */
async function idempotencySuppresses(pool: ClientPool, a: ServerNode, b: ServerNode, namespaces = ['xx', 'plain']): Promise<void> {
  for (const ns of namespaces) {
    const ch = uniq(`${ns}:idem`);
    const s = await subscribedClient(pool, b, 'idem-u', ch);
    const key = uniq('k');
    const first = await publish(a, { channel: ch, data: { n: 1 }, idempotency_key: key });
    const second = await publish(b, { channel: ch, data: { n: 2 }, idempotency_key: key });
    await publish(a, { channel: ch, data: { n: 3 } });
    await waitFor(() => s.pubs.length >= 2, { what: `publications on ${ch}` });
    await sleep(300);
    assert.deepEqual(s.pubs.map((p: PublicationContext) => (p.data as { n: number }).n), [1, 3], `delivered on ${ch}`);
    if (ns === 'xx') {
      assert.equal(first.offset, 1);
      assert.equal(second.offset, 1, 'the suppressed publish answers with the first one\'s position');
      assert.deepEqual(s.pubs.map((p) => Number(p.offset)), [1, 2]);
      const h = await callApi(b.apiUrl, 'history', { channel: ch, limit: -1 });
      const pubs = (h.body as { result: { publications: { data: { n: number } }[] } }).result.publications;
      assert.deepEqual(pubs.map((p) => p.data.n), [1, 3]);
    }
    s.client.disconnect();
  }
}

describe('redisnats: 2 Gyre nodes, history in Redis and PUB/SUB in NATS', { skip }, () => {
  let nats: NatsServer | undefined;
  let redis: RedisServer | undefined;
  let nodes: GyreNode[] = [];
  const pool = new ClientPool();
  before(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
    nodes = await Promise.all(['rn-1', 'rn-2'].map((n) => startNode(nats!, redis!, 'rn', n)));
  });
  after(async () => {
    pool.closeAll();
    await Promise.all(nodes.map((n) => n.proc.stop()));
    await Promise.all([nats?.stop(), redis?.stop()]);
  });

  it('publications with history cross nodes with offsets of one stream', async () => {
    await crossNodePublications(pool, nodes);
  });
  it('history is the same through both nodes; a client recovers on the other node with no gap or duplicate', async () => {
    await historyAndRecovery(pool, nodes[0]!, nodes[1]!);
    await historyAndRecovery(pool, nodes[1]!, nodes[0]!);
  });
  it('publications travel on NATS, not on Redis PUB/SUB; history streams are in Redis', async () => {
    const channels = await redisCli(redis!.port, 'PUBSUB', 'CHANNELS', 'rn.client.*');
    assert.equal(channels.trim(), '', `no client channel subscribed on Redis: ${channels}`);
    const keys = await redisCli(redis!.port, '--scan', '--pattern', 'rn.stream.*');
    assert.ok(keys.trim() !== '', 'history streams in Redis');
  });
  it('an idempotency key suppresses a repeated publish', async () => {
    await idempotencySuppresses(pool, nodes[0]!, nodes[1]!);
  });
  it('presence through Redis aggregates and join/leave cross on NATS', async () => {
    await presenceAggregates(pool, nodes);
  });
  it('/health covers both: a killed nats-server or redis-server makes it 500, and 200 again once back', async () => {
    const health = async (): Promise<number> => (await fetch(`${nodes[0]!.proc.baseUrl}/health`)).status;
    assert.equal(await health(), 200);
    for (const server of [nats!, redis!]) {
      await server.kill();
      try {
        await waitFor(async () => (await health()) === 500, { what: '/health 500 with a server down', timeoutMs: 15_000 });
      } finally {
        await server.restart();
      }
      await waitFor(async () => (await health()) === 200, { what: '/health 200 again', timeoutMs: 15_000 });
    }
  });
  it('after a NATS restart publications with history still cross with their offsets', async () => {
    await crossNodePublications(pool, nodes);
  });
  it('a publication acknowledged while NATS is down reaches a subscriber on the other node by recovery after the restart', async () => {
    // Redis stores it (offset 2) but NATS cannot carry it: the subscriber on the other node must be told that it
    // may have missed publications once NATS is back, resubscribe, and recover offset 2 from Redis, exactly once.
    const ch = uniq('xx:nats-down');
    const s = await subscribedClient(pool, nodes[1]!, 'nats-down-u', ch);
    await publish(nodes[0]!, { channel: ch, data: { n: 1 } });
    await waitFor(() => s.pubs.length === 1, { what: 'the first publication' });
    const health = async (n: GyreNode): Promise<number> => (await fetch(`${n.proc.baseUrl}/health`)).status;
    await nats!.kill();
    try {
      await waitFor(async () => (await health(nodes[0]!)) === 500 && (await health(nodes[1]!)) === 500, {
        what: '/health 500 on both nodes with NATS down',
        timeoutMs: 15_000,
      });
      // Stored in Redis, so acknowledged (as Centrifugo does); only the live send over NATS fails.
      const r = await callApi(nodes[0]!.apiUrl, 'publish', { channel: ch, data: { n: 2 } });
      const body = r.body as { result?: { offset?: number }; error?: unknown };
      assert.equal(body.error, undefined, `publish while NATS is down: ${JSON.stringify(r.body)}`);
      assert.equal(body.result?.offset, 2, 'the stored publication\'s offset');
    } finally {
      await nats!.restart();
    }
    await waitFor(async () => (await health(nodes[0]!)) === 200 && (await health(nodes[1]!)) === 200, {
      what: '/health 200 on both nodes again',
      timeoutMs: 15_000,
    });
    await waitFor(() => s.pubs.length >= 2, { what: 'offset 2 recovered after the NATS restart', timeoutMs: 20_000 });
    assert.ok(s.subscribed.length >= 2, 'the subscription was told to resubscribe, and did');
    await publish(nodes[0]!, { channel: ch, data: { n: 3 } });
    await waitFor(() => s.pubs.length >= 3, { what: 'publication 3', timeoutMs: 10_000 });
    await sleep(300);
    assert.deepEqual(s.pubs.map((p: PublicationContext) => (p.data as { n: number }).n), [1, 2, 3], 'every acknowledged publication once, in order');
    s.client.disconnect();
  });
});

describe('redisnats: start-up refusals', { skip }, () => {
  let nats: NatsServer | undefined;
  let redis: RedisServer | undefined;
  before(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
  });
  after(async () => {
    await Promise.all([nats?.stop(), redis?.stop()]);
  });

  it('redisnats without enable_unreleased_features is refused with a clear message', async () => {
    const config = redisNatsConfig(nats!, redis!, 'rf', 'rf-1');
    delete config['enable_unreleased_features'];
    await assert.rejects(startGyre(config), /broker\.type: the redisnats broker is unreleased.*enable_unreleased_features: true/s);
  });
  it('plain NATS with a history namespace is still refused', async () => {
    const config = mergeConfig(natsNodeConfig(nats!.url, redis!.address, 'rf', 'rf-2', 'presence_manager'), {
      channel: { namespaces: [{ name: 'hh', history_size: 10, history_ttl: '60s' }] },
    });
    await assert.rejects(startGyre(config), /channel\.namespaces\[0\]\.history_size.*has no history/s);
  });
});

describe('redisnats: a Gyre node and a Centrifugo 6.9.1 node on one Redis and one NATS', { skip: mixedSkip }, () => {
  const pair = mixedPair({
    start: async () => {
      const [nats, redis] = await Promise.all([startNats(), startRedis()]);
      return { nats, redis, stop: () => Promise.all([nats.stop(), redis.stop()]) };
    },
    config: (b, name) => redisNatsConfig(b.nats, b.redis, 'rnmix', name),
    names: ['gyre-1', 'centrifugo-1'],
  });
  const pool = pair.pool;

  it('publications with offsets cross in both directions', async () => {
    await crossNodePublications(pool, [pair.gyre, pair.cf]);
    await crossNodePublications(pool, [pair.cf, pair.gyre]);
  });
  it('history is shared and a client recovers on the other server', async () => {
    await historyAndRecovery(pool, pair.gyre, pair.cf);
    await historyAndRecovery(pool, pair.cf, pair.gyre);
  });
  it('an idempotency key set through one server suppresses the publish through the other', async () => {
    await idempotencySuppresses(pool, pair.gyre, pair.cf, ['xx']);
    await idempotencySuppresses(pool, pair.cf, pair.gyre, ['xx']);
  });
  it('without history, Centrifugo 6.9.1 differs (docs/nats.md): a new key fails with 100, a repeated one is sent again', async () => {
    const ch = uniq('plain:idemcf');
    const s = await subscribedClient(pool, pair.gyre, 'idemcf-u', ch);
    const fresh = await callApi(pair.cf.apiUrl, 'publish', { channel: ch, data: { n: 0 }, idempotency_key: uniq('k') });
    assert.deepEqual((fresh.body as { error?: unknown }).error, { code: 100, message: 'internal server error' });
    const key = uniq('k');
    await publish(pair.gyre, { channel: ch, data: { n: 1 }, idempotency_key: key });
    await publish(pair.cf, { channel: ch, data: { n: 2 }, idempotency_key: key });
    await waitFor(() => s.pubs.length === 2, { what: "Centrifugo's repeated publish delivered" });
    assert.deepEqual(s.pubs.map((p) => (p.data as { n: number }).n), [1, 2]);
    s.client.disconnect();
  });
});
