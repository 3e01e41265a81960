// Centrifugo v6's split set-up on Redis: `broker.type: redis` (PUB/SUB, history, control plane) with its own
// broker.redis keys, under the memory engine's presence or with presence_manager.type redis on a second Redis.
// Two Gyre nodes exchange publications, history and recovery across nodes; `info` lists both; each Redis holds
// only the keys of its part. A real Centrifugo v6 node with the same split config joins the same cluster.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findCentrifugo } from '../harness/centrifugo.js';
import { ClientPool } from '../harness/clients.js';
import { mergeConfig, startGyre } from '../harness/gyre.js';
import { mixedPair } from '../harness/mixed-pair.js';
import { redisAvailable, redisCli, startRedis, type RedisServer } from '../harness/redis.js';
import { baseConfig } from '../compat/base-config.js';
import type { GyreNode } from './nodes.js';
import {
  crossNodePublications,
  historyAndRecovery,
  infoLists,
  presenceAggregates,
  scenarioNamespaces,
} from './scenarios.js';

const ok = await redisAvailable();
const NAMES = ['gyre-a', 'gyre-b'];
const PREFIX = 'gyresplit';

/** Server config (Gyre and Centrifugo read the same keys): memory engine, Redis broker, optional Redis presence. */
function splitConfig(brokerRedis: RedisServer, presenceRedis: RedisServer | undefined, name: string): Record<string, unknown> {
  return mergeConfig(baseConfig(), {
    // engine.redis points nowhere: only broker.redis and presence_manager.redis may be used.
    engine: { type: 'memory', redis: { address: ['127.0.0.1:1'] } },
    broker: { enabled: true, type: 'redis', redis: { address: [brokerRedis.address], prefix: PREFIX } },
    ...(presenceRedis !== undefined
      ? { presence_manager: { enabled: true, type: 'redis', redis: { address: [presenceRedis.address], prefix: PREFIX } } }
      : {}),
    node: { name },
    channel: { namespaces: scenarioNamespaces() },
  });
}

async function startNodes(brokerRedis: RedisServer, presenceRedis: RedisServer | undefined): Promise<GyreNode[]> {
  return await Promise.all(
    NAMES.map(async (name) => {
      const proc = await startGyre(splitConfig(brokerRedis, presenceRedis, name));
      return { name, url: proc.url, apiUrl: proc.apiUrl, proc };
    }),
  );
}

async function keys(r: RedisServer): Promise<string[]> {
  return (await redisCli(r.port, '--scan', '--pattern', `${PREFIX}*`)).split('\n').filter((k) => k !== '');
}

describe('redis: broker.type redis under the memory engine', { skip: ok ? false : 'redis-server is not installed' }, () => {
  let redis: RedisServer | undefined;
  let nodes: GyreNode[] = [];
  const pool = new ClientPool();
  before(async () => {
    redis = await startRedis();
    nodes = await startNodes(redis, undefined);
  });
  after(async () => {
    pool.closeAll();
    await Promise.all(nodes.map((n) => n.proc.stop()));
    await redis?.stop();
  });

  it('publications cross nodes in one offset order; info lists both nodes', async () => {
    await crossNodePublications(pool, nodes);
    await infoLists(nodes, NAMES);
  });
  it('history is the same on both nodes and a client recovers on the other node', async () => {
    await historyAndRecovery(pool, nodes[0]!, nodes[1]!);
    const k = await keys(redis!);
    assert.ok(k.some((x) => x.startsWith(`${PREFIX}.stream.`)), `history streams in the broker's Redis: ${k.join(' ')}`);
    assert.ok(!k.some((x) => x.startsWith(`${PREFIX}.presence.`)), `no presence in Redis (memory presence): ${k.join(' ')}`);
  });
});

describe('redis: broker.type redis and presence_manager.type redis on two Redis servers', { skip: ok ? false : 'redis-server is not installed' }, () => {
  let brokerRedis: RedisServer | undefined;
  let presenceRedis: RedisServer | undefined;
  let nodes: GyreNode[] = [];
  const pool = new ClientPool();
  before(async () => {
    [brokerRedis, presenceRedis] = await Promise.all([startRedis(), startRedis()]);
    nodes = await startNodes(brokerRedis, presenceRedis);
  });
  after(async () => {
    pool.closeAll();
    await Promise.all(nodes.map((n) => n.proc.stop()));
    await Promise.all([brokerRedis?.stop(), presenceRedis?.stop()]);
  });

  it('publications, history and recovery cross nodes; presence aggregates; info lists both nodes', async () => {
    await crossNodePublications(pool, nodes);
    await historyAndRecovery(pool, nodes[1]!, nodes[0]!);
    await presenceAggregates(pool, nodes);
    await infoLists(nodes, NAMES);
  });
  it('streams live in the broker Redis only, presence in the presence Redis only', async () => {
    const b = await keys(brokerRedis!);
    const p = await keys(presenceRedis!);
    assert.ok(b.some((x) => x.startsWith(`${PREFIX}.stream.`)), `streams in the broker Redis: ${b.join(' ')}`);
    assert.ok(!b.some((x) => x.startsWith(`${PREFIX}.presence.`)), `no presence in the broker Redis: ${b.join(' ')}`);
    assert.ok(!p.some((x) => x.startsWith(`${PREFIX}.stream.`)), `no streams in the presence Redis: ${p.join(' ')}`);
  });
});

const binary = findCentrifugo();
const mixedSkip = !ok ? 'redis-server is not installed' : binary === undefined ? 'centrifugo binary not installed (scripts/install-centrifugo.sh)' : false;

describe('redis: a Gyre node and a Centrifugo node, both with broker.type redis and presence_manager.type redis', { skip: mixedSkip }, () => {
  const pair = mixedPair({
    start: async () => {
      const [broker, presence] = await Promise.all([startRedis(), startRedis()]);
      return { broker, presence, stop: () => Promise.all([broker.stop(), presence.stop()]) };
    },
    config: (b, name) => splitConfig(b.broker, b.presence, name),
    names: ['gyre-1', 'centrifugo-1'],
  });
  const pool = pair.pool;

  it('publications, history, recovery and presence cross in both directions; info lists both nodes', async () => {
    const c = pair.cf;
    await crossNodePublications(pool, [pair.gyre, c]);
    await crossNodePublications(pool, [c, pair.gyre]);
    await historyAndRecovery(pool, pair.gyre, c);
    await historyAndRecovery(pool, c, pair.gyre);
    await presenceAggregates(pool, [c, pair.gyre]);
    await infoLists([pair.gyre, c], ['gyre-1', 'centrifugo-1']);
  });
});
