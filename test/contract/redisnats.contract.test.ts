// Runs the broker and history contracts against the redisnats engine (history in Redis, PUB/SUB in NATS) on a real
// redis-server and nats-server, plus what is specific to it: nothing goes over Redis PUB/SUB.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { configSchema } from '../../src/config/schema.js';
import { createRedisNatsEngine } from '../../src/engines/redisnats/index.js';
import { natsAvailable, startNats, type NatsServer } from '../harness/nats.js';
import { redisAvailable, redisCli, startRedis, type RedisServer } from '../harness/redis.js';
import { runBrokerContract } from './broker.contract.js';
import { RecordingHandler, text, uniqueChannel, waitFor } from './contract-util.js';
import { runHistoryContract } from './history.contract.js';

const available = (await natsAvailable()) && (await redisAvailable());

function engine(redis: RedisServer, nats: NatsServer) {
  const c = configSchema.parse({
    enable_unreleased_features: true,
    broker: { enabled: true, type: 'redisnats', redis: { address: [redis.address], prefix: 'gyretest' }, nats: { url: nats.url, prefix: 'gyretest' } },
  }).broker;
  return createRedisNatsEngine({ ...c.redis, presence_ttl: 60_000, presence_hash_field_ttl: false, presence_user_mapping: false }, c.nats);
}

describe('redisnats engine', { skip: available ? false : 'nats-server or redis-server is not installed' }, () => {
  let nats: NatsServer | undefined;
  let redis: RedisServer | undefined;
  before(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
  });
  after(async () => {
    await Promise.all([nats?.stop(), redis?.stop()]);
  });

  runBrokerContract('redisnats', () => {
    const e = engine(redis!, nats!);
    return Promise.resolve({ broker: e.broker, history: e.history, close: () => e.close() });
  });

  runHistoryContract('redisnats', async () => {
    const e = engine(redis!, nats!);
    await e.redis.shards.start();
    return { history: e.history, close: () => e.close() };
  });

  it('opens no Redis PUB/SUB connection and publishes nothing on Redis', async () => {
    const e = engine(redis!, nats!);
    const h = new RecordingHandler();
    try {
      await e.broker.start(h);
      const ch = uniqueChannel();
      await e.broker.subscribe([ch]);
      // PUBLISH calls, from scripts included (0 when Redis has never run one).
      const publishes = async (): Promise<number> =>
        Number(/cmdstat_publish:calls=(\d+)/.exec(await redisCli(redis!.port, 'INFO', 'commandstats'))?.[1] ?? '0');
      const before = await publishes();
      const r = await e.broker.publish(ch, text('a'), { historySize: 10, historyTtlMs: 60_000, historyMetaTtlMs: 3_600_000 });
      assert.equal(r.position?.offset, 1);
      await waitFor(() => h.pubs(ch).length === 1, 5000, 'the publication over NATS');
      assert.deepEqual(h.pubs(ch)[0]?.position, r.position);
      const keyed = await e.broker.publish(ch, text('b'), { historySize: 0, historyTtlMs: 0, historyMetaTtlMs: 0, idempotencyKey: 'k1' });
      assert.equal(keyed.suppressed, false);
      await waitFor(() => h.pubs(ch).length === 2, 5000, 'the keyed publication over NATS');
      assert.equal(await publishes(), before);
      assert.equal((await redisCli(redis!.port, 'PUBSUB', 'CHANNELS', '*')).trim(), '');
      assert.deepEqual(e.health(), { ok: true, problems: [] });
    } finally {
      await e.close();
    }
  });
});
