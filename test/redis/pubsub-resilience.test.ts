// The Redis engine's PUB/SUB connection on a real redis-server: a killed connection and a wedged one (no PING
// reply: CLIENT PAUSE) are both rebuilt, every channel is subscribed again, the broker reports the channels that
// may have missed publications, and health() says so meanwhile. Each fault is counted as Centrifugo counts it
// (centrifugo_broker_redis_pub_sub_errors{error}: connection, probe_timeout, handle_client_message), and in
// Gyre's own gyre_redis_resubscribe_seconds and gyre_redis_command_errors_total.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { configSchema } from '../../src/config/schema.js';
import { createRedisEngine, type RedisEngine } from '../../src/engines/redis/index.js';
import { parity, redisMetrics } from '../../src/metrics/registry.js';
import { RecordingHandler, text, uniqueChannel } from '../contract/contract-util.js';
import { redisCli, startRedis, type RedisServer } from '../harness/redis.js';
import { sleep, waitFor } from '../harness/wait.js';

class LossRecorder extends RecordingHandler {
  readonly lost: string[][] = [];
  onSubscriptionLost(channels: readonly string[]): void {
    this.lost.push([...channels]);
  }
}

const NO_HISTORY = { historySize: 0, historyTtlMs: 0, historyMetaTtlMs: 0 };

async function reconnects(): Promise<number> {
  const m = await redisMetrics.pubsubReconnects.get();
  return m.values.reduce((a, v) => a + v.value, 0);
}

/**
 * gyre_redis_command_errors_total for `op`, or over every op but the PUB/SUB connection's own (its probe and
 * resubscribe attempts fail on their timers while Redis is down).
 */
async function commandErrors(op?: string): Promise<number> {
  const m = await redisMetrics.commandErrors.get();
  const own = (o: unknown): boolean => o === 'pubsub_ping' || o === 'resubscribe';
  return m.values.filter((v) => (op === undefined ? !own(v.labels['op']) : v.labels['op'] === op)).reduce((a, v) => a + v.value, 0);
}

/** Observations of gyre_redis_resubscribe_seconds. */
async function resubscribes(): Promise<number> {
  const m = await redisMetrics.resubscribeSeconds.get();
  return m.values.filter((v) => v.metricName === 'gyre_redis_resubscribe_seconds_count').reduce((a, v) => a + v.value, 0);
}

async function pubSubErrors(error: string): Promise<number> {
  const m = await parity.redisPubSubErrors.get();
  return m.values.filter((v) => v.labels['error'] === error && v.labels['broker_name'] === '').reduce((a, v) => a + v.value, 0);
}

describe('redis: PUB/SUB connection resilience', () => {
  let redis: RedisServer;
  let engine: RedisEngine;
  const h = new LossRecorder();
  before(async () => {
    redis = await startRedis();
    const cfg = configSchema.parse({ engine: { type: 'redis', redis: { address: [redis.address], prefix: 'rs', io_timeout: '300ms' } } });
    engine = createRedisEngine(cfg.engine.redis, { tuning: { pingIntervalMs: 100, backoffBaseMs: 20, backoffMaxMs: 200 } });
    await engine.broker.start(h);
  });
  after(async () => {
    await engine?.close();
    await redis?.stop();
  });

  it('a killed PUB/SUB connection is rebuilt, resubscribed and reported', async () => {
    const ch = uniqueChannel();
    await engine.broker.subscribe([ch]);
    const before = await reconnects();
    const errorsBefore = await pubSubErrors('connection');
    const resubscribedBefore = await resubscribes();
    const lostBefore = h.lost.length;
    await redisCli(redis.port, 'client', 'kill', 'type', 'pubsub');
    await waitFor(() => h.lost.length > lostBefore, { what: 'subscription lost report', timeoutMs: 5000 });
    assert.ok(h.lost.slice(lostBefore).some((l) => l.includes(ch)));
    assert.equal(await reconnects(), before + 1);
    assert.equal(await pubSubErrors('connection'), errorsBefore + 1);
    assert.equal(await resubscribes(), resubscribedBefore + 1, 'the resubscribe time is observed once');
    await engine.broker.publish(ch, text('after'), NO_HISTORY);
    await waitFor(() => h.pubs(ch).length === 1, { what: 'delivery after the rebuild' });
  });

  it('a wedged PUB/SUB connection (no PING reply) is detected, reported unhealthy and rebuilt', async () => {
    const ch = uniqueChannel();
    await engine.broker.subscribe([ch]);
    assert.equal(engine.health().ok, true);
    const lostBefore = h.lost.length;
    const probesBefore = await pubSubErrors('probe_timeout');
    await redisCli(redis.port, 'client', 'pause', '1500', 'all');
    await waitFor(() => !engine.health().ok, { what: 'health to report the wedged PUB/SUB', timeoutMs: 1500, intervalMs: 20 });
    await waitFor(() => h.lost.length > lostBefore, { what: 'rebuilt after the pause', timeoutMs: 6000 });
    assert.ok(h.lost.slice(lostBefore).some((l) => l.includes(ch)));
    assert.ok((await pubSubErrors('probe_timeout')) > probesBefore, 'the unanswered probe is counted');
    await waitFor(() => engine.health().ok, { what: 'healthy again', timeoutMs: 3000 });
    await sleep(50);
    await engine.broker.publish(ch, text('x'), NO_HISTORY);
    await waitFor(() => h.pubs(ch).length === 1, { what: 'delivery after the rebuild' });
  });

  it('a PUB/SUB message that does not decode is counted and skipped; the next one is delivered', async () => {
    const ch = uniqueChannel();
    await engine.broker.subscribe([ch]);
    const before = await pubSubErrors('handle_client_message');
    await redisCli(redis.port, 'publish', `rs.client.${ch}`, '__p1:x:y__');
    await waitFor(async () => (await pubSubErrors('handle_client_message')) === before + 1, { what: 'the undecodable message counted' });
    await engine.broker.publish(ch, text('fine'), NO_HISTORY);
    await waitFor(() => h.pubs(ch).length === 1, { what: 'the next publication delivered' });
    const dropped = await parity.redisPubSubDropped.get();
    assert.equal(dropped.values.reduce((a, v) => a + v.value, 0), 0, 'Gyre drops nothing for a full buffer: it has none');
  });

  it('subscribe while PUB/SUB is down is refused; publish while Redis is down rejects', async () => {
    await redis.kill();
    await waitFor(() => !engine.health().ok, { what: 'unhealthy while Redis is down', timeoutMs: 3000 });
    const [subscribeErrors, allErrors] = [await commandErrors('subscribe'), await commandErrors()];
    await assert.rejects(engine.broker.subscribe([uniqueChannel()]));
    // Refused before any command (PUB/SUB is not up): not a command error. The publish is sent and fails: one.
    assert.equal(await commandErrors(), allErrors);
    await assert.rejects(engine.broker.publish(uniqueChannel(), text('x'), NO_HISTORY));
    assert.equal(await commandErrors('subscribe'), subscribeErrors);
    assert.equal(await commandErrors(), allErrors + 1, 'the failed publish is a command error');
    await redis.restart();
    await waitFor(() => engine.health().ok, { what: 'healthy after restart', timeoutMs: 5000 });
    const ch = uniqueChannel();
    await engine.broker.subscribe([ch]);
    await engine.broker.publish(ch, text('y'), NO_HISTORY);
    await waitFor(() => h.pubs(ch).length === 1, { what: 'delivery after restart' });
  });
});
