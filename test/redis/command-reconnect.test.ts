// The Redis engine's command connection on a real redis-server: when ioredis gives it up for good (status
// 'end', as after a Sentinel failover detector aborts a reconnect in flight), the shard connects it again, so
// the node does not stay "not connected" with every publish refused until it is restarted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { configSchema } from '../../src/config/schema.js';
import { createRedisEngine, type RedisEngine } from '../../src/engines/redis/index.js';
import { RecordingHandler, text, uniqueChannel } from '../contract/contract-util.js';
import { startRedis, type RedisServer } from '../harness/redis.js';
import { waitFor } from '../harness/wait.js';

describe('redis: command connection', () => {
  let redis: RedisServer;
  let engine: RedisEngine;
  before(async () => {
    redis = await startRedis();
    const cfg = configSchema.parse({ engine: { type: 'redis', redis: { address: [redis.address], prefix: 'cr' } } });
    engine = createRedisEngine(cfg.engine.redis);
    await engine.broker.start(new RecordingHandler());
  });
  after(async () => {
    await engine?.close();
    await redis?.stop();
  });

  it('an ended command connection is connected again and publishes work afterwards', async () => {
    const shard = engine.shards.list[0]!;
    const client = shard.client as { status: string; disconnect(): void };
    const ended = new Promise<void>((resolve) => (shard.client as unknown as NodeJS.EventEmitter).once('end', () => resolve()));
    client.disconnect(); // ioredis: no reconnect from its own retry strategy after this
    await ended;
    assert.equal(engine.health().ok, false);
    await waitFor(() => shard.commandsUp, { what: 'command connection back after end', timeoutMs: 5000 });
    const ch = uniqueChannel();
    const r = await engine.broker.publish(ch, text('x'), { historySize: 10, historyTtlMs: 60_000, historyMetaTtlMs: 0 });
    assert.equal(r.position?.offset, 1);
    await waitFor(() => engine.health().ok, { what: 'healthy again' });
  });
});

describe('redis: io_timeout on the command connection', () => {
  let redis: RedisServer;
  let engine: RedisEngine;
  before(async () => {
    redis = await startRedis();
    const cfg = configSchema.parse({ engine: { type: 'redis', redis: { address: [redis.address], prefix: 'ct', io_timeout: '300ms' } } });
    engine = createRedisEngine(cfg.engine.redis);
    await engine.broker.start(new RecordingHandler());
  });
  after(async () => {
    process.kill(redis.pid(), 'SIGCONT');
    await engine?.close();
    await redis?.stop();
  });

  it('a Redis that stops answering fails the pending publishes, and publishes work once it answers again', async () => {
    const ch = uniqueChannel();
    const opts = { historySize: 10, historyTtlMs: 60_000, historyMetaTtlMs: 0 };
    assert.equal((await engine.broker.publish(ch, text('a'), opts)).position?.offset, 1);
    process.kill(redis.pid(), 'SIGSTOP');
    let outcome: 'pending' | 'resolved' | 'rejected' = 'pending';
    engine.broker.publish(ch, text('b'), opts).then(
      () => (outcome = 'resolved'),
      () => (outcome = 'rejected'),
    );
    // Never acknowledged while Redis is frozen: it fails once io_timeout passes without a reply.
    await waitFor(() => outcome !== 'pending', { what: 'the stuck publish settled', timeoutMs: 10_000 });
    assert.equal(outcome, 'rejected');
    process.kill(redis.pid(), 'SIGCONT');
    await waitFor(() => engine.shards.list[0]!.commandsUp, { what: 'command connection back', timeoutMs: 10_000 });
    const r = await engine.broker.publish(ch, text('c'), opts);
    assert.ok((r.position?.offset ?? 0) >= 2);
  });
});
