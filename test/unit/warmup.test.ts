import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { startServer } from '../../src/app.js';
import { defaultConfig } from '../../src/config/index.js';
import type { GyreConfig } from '../../src/config/types.js';
import { metrics, registry } from '../../src/metrics/registry.js';
import { Redis } from 'ioredis';
import { rateFromWarmup } from '../../src/transports/handshake-rate.js';
import { warmUp, warmupClaims, warmupConfig, warmupPayload } from '../../src/warmup.js';
import { redisAvailable, redisCli, startRedis } from '../harness/redis.js';

function userConfig(n: number): GyreConfig {
  const c = defaultConfig();
  c.http_server.address = '0.0.0.0';
  c.http_server.port = 8000;
  c.http_server.warmup_connections = n;
  c.client.token.hmac_secret_key = 'user-secret';
  c.client.token.jwks_public_endpoint = 'http://127.0.0.1:1/jwks';
  c.client.allowed_origins = ['https://example.com'];
  c.client.connection_limit = 5;
  c.http_api.key = 'user-key';
  c.prometheus.enabled = true;
  return c;
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

describe('start-up warm-up', () => {
  it('the private copy listens on loopback port 0 with its own secret and key, and nothing external', () => {
    const c = warmupConfig(userConfig(10), 'w-secret', 'w-key');
    assert.equal(c.http_server.address, '127.0.0.1');
    assert.equal(c.http_server.port, 0);
    assert.equal(c.http_server.warmup_connections, 0);
    assert.equal(c.client.token.hmac_secret_key, 'w-secret');
    assert.equal(c.client.token.jwks_public_endpoint, '');
    assert.deepEqual(c.client.allowed_origins, []);
    assert.equal(c.client.connection_limit, 0);
    assert.equal(c.http_api.key, 'w-key');
    assert.equal(c.prometheus.enabled, false);
    assert.equal(c.channel.without_namespace.allow_subscribe_for_client, true);
    assert.equal(c.engine.type, 'memory');
    assert.ok(Object.isFrozen(c.http_api), 'frozen like a loaded config');
  });

  it('a Redis broker is warmed on the same servers under a private prefix, without history or presence', () => {
    const u = userConfig(10);
    u.engine.type = 'redis';
    u.engine.redis.address = ['127.0.0.1:6390'];
    u.engine.redis.prefix = 'app';
    u.channel.without_namespace.history_size = 10;
    u.channel.without_namespace.history_ttl = 60_000;
    u.channel.without_namespace.presence = true;
    const c = warmupConfig(u, 's', 'k', 'tag1');
    assert.equal(c.engine.type, 'redis');
    assert.deepEqual(c.engine.redis.address, ['127.0.0.1:6390']);
    assert.equal(c.engine.redis.prefix, 'app.warmup-tag1');
    assert.equal(u.engine.redis.prefix, 'app', "the user's config is left alone");
    assert.equal(c.channel.without_namespace.history_size, 0);
    assert.equal(c.channel.without_namespace.presence, false);
    assert.notEqual(warmupConfig(u, 's', 'k').engine.redis.prefix, warmupConfig(u, 's', 'k').engine.redis.prefix);
  });

  it('warm-up payloads are valid JSON of several kinds', () => {
    const kinds = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const v: unknown = JSON.parse(warmupPayload(i));
      kinds.add(Array.isArray(v) ? 'array' : typeof v);
    }
    assert.deepEqual([...kinds].sort(), ['array', 'object']);
  });

  it('drives N connect+subscribe handshakes and API publishes, closes its server and leaves no metric behind', async () => {
    let port = 0;
    const res = await warmUp(userConfig(150), {
      logger: pino({ level: 'silent' }),
      timeoutMs: 60_000, // counts are checked, not speed (a loaded test machine)
      start: async (cfg, opts) => {
        const s = await startServer(cfg, opts);
        port = s.port;
        return s;
      },
    });
    assert.ok(res !== null);
    assert.equal(res.connections, 150);
    assert.equal(res.subscribed, 150);
    assert.equal(res.published, 1500, '10 API publishes per warm-up connection');
    assert.deepEqual(res.primed, { subscribed: 100, published: 200 }, 'the priming pass ran first');
    assert.equal(res.timedOut, false);
    assert.ok(res.connectActiveMs > 0, 'the connect phase took some busy time');
    assert.ok(rateFromWarmup(res.subscribed, res.connectActiveMs) !== undefined, 'enough handshakes for a prior rate');
    assert.ok(port > 0);
    assert.equal(await refused(port), true, 'the warm-up server must be closed');
    const accepted = await metrics.connectionsAccepted.get();
    assert.equal(accepted.values.length, 0, 'warm-up connections must not show in the node metrics');
    const inflight = (await metrics.connectionsInflight.get()).values.reduce((a, v) => a + v.value, 0);
    assert.equal(inflight, 0);
    const text = await registry.metrics();
    assert.doesNotMatch(text, /centrifugo_node_messages_received_count\{[^}]*\} [1-9]/);
    for (const type of ['control', 'join', 'leave', 'publication']) {
      assert.match(text, new RegExp(`centrifugo_node_messages_sent_count\\{type="${type}",channel_namespace=""\\} 0\n`), `${type} sent shown at 0`);
    }
    for (const method of ['connect', 'subscribe', 'rpc', 'sub_refresh', 'unknown']) {
      assert.match(text, new RegExp(`centrifugo_client_command_duration_seconds_count\\{method="${method}",channel_namespace=""\\} 0\n`), `${method} summary shown at 0`);
    }
    // The Centrifugo-parity metrics too: the warm-up's commands and actions.
    assert.doesNotMatch(text, /centrifugo_client_command_duration_seconds_count\{[^}]*\} [1-9]/);
    assert.doesNotMatch(text, /centrifugo_node_action_count\{/);
    assert.match(text, /centrifugo_broker_redis_pub_sub_dropped_messages\{[^}]*channel_type="client"[^}]*\} 0\n/, 'the series shown at 0 from the start stay');
  });

  it('signs its tokens with the claims in several orders (a V8 object shape each), all valid connect claims', () => {
    const now = 1_700_000_000;
    const orders = new Set([0, 1, 2, 3, 4, 5, 6, 7].map((i) => Object.keys(warmupClaims(i, now)).join(',')));
    assert.deepEqual([...orders].sort(), ['exp,iat,sub', 'sub,exp', 'sub,exp,iat', 'sub,iat,exp']);
    for (let i = 0; i < 4; i++) {
      const c = warmupClaims(i, now);
      assert.equal(c['sub'], `warmup-${i}`);
      assert.equal(c['exp'], now + 600);
    }
  });

  it('primes on a first private server, closed before the main pass; the tier-up budget is lowered over both passes', async () => {
    const events: string[] = [];
    const ports: number[] = [];
    const res = await warmUp(userConfig(30), {
      logger: pino({ level: 'silent' }),
      timeoutMs: 60_000,
      setV8Flags: (flags) => events.push(flags),
      start: async (cfg, opts) => {
        const s = await startServer(cfg, opts);
        ports.push(s.port);
        events.push(`start ${ports.length}`);
        return {
          port: s.port,
          close: async () => {
            await s.close();
            events.push(`close ${ports.length}`);
          },
        };
      },
    });
    assert.ok(res !== null);
    assert.deepEqual(res.primed, { subscribed: 30, published: 60 }, 'a priming pass of min(n, 100) connections');
    assert.equal(res.subscribed, 30);
    assert.deepEqual(events, ['--interrupt-budget=4096', 'start 1', 'close 1', 'start 2', 'close 2', '--interrupt-budget=67584']);
    for (const p of ports) assert.equal(await refused(p), true, 'every warm-up server is closed');
  });

  it('restores the tier-up budget when the main pass fails', async () => {
    const flags: string[] = [];
    let starts = 0;
    const res = await warmUp(userConfig(10), {
      logger: pino({ level: 'silent' }),
      setV8Flags: (f) => flags.push(f),
      start: () => Promise.reject(new Error(`boom ${++starts}`)),
    });
    assert.ok(res !== null);
    assert.equal(starts, 2);
    assert.deepEqual(flags, ['--interrupt-budget=4096', '--interrupt-budget=67584']);
  });

  it('does nothing when warmup_connections is 0 or websocket is disabled', async () => {
    const start = (): Promise<never> => Promise.reject(new Error('must not start'));
    assert.equal(await warmUp(userConfig(0), { logger: pino({ level: 'silent' }), start }), null);
    const c = userConfig(10);
    c.websocket.disabled = true;
    assert.equal(await warmUp(c, { logger: pino({ level: 'silent' }), start }), null);
  });

  it('a failing start is logged, never thrown', async () => {
    const res = await warmUp(userConfig(10), { logger: pino({ level: 'silent' }), start: () => Promise.reject(new Error('boom')) });
    assert.ok(res !== null);
    assert.equal(res.subscribed, 0);
  });

  it('on Redis: publishes through the private prefix only, never on the cluster channels, and writes no key', async (t) => {
    if (!(await redisAvailable())) return t.skip('redis-server not installed');
    const redis = await startRedis();
    const spy = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true });
    try {
      await spy.connect();
      const seen = new Map<string, number>();
      spy.on('pmessage', (_p: string, channel: string) => seen.set(channel, (seen.get(channel) ?? 0) + 1));
      await spy.psubscribe('*');
      const u = userConfig(100);
      u.engine.type = 'redis';
      u.engine.redis.address = [redis.address];
      u.engine.redis.prefix = 'app';
      const res = await warmUp(u, { logger: pino({ level: 'silent' }), timeoutMs: 60_000, start: (cfg, opts) => startServer(cfg, opts) });
      assert.ok(res !== null);
      assert.equal(res.subscribed, 100);
      assert.equal(res.published, 1000);
      await redisCli(redis.port, 'PING'); // the spy's messages are in by the time another client's reply is
      await new Promise((r) => setTimeout(r, 100));
      const channels = [...seen.keys()];
      const publications = channels.filter((ch) => /^app\.warmup-[0-9a-f]+\.client\.warmup-(idle-)?\d+$/.test(ch));
      assert.equal(res.primed.published, 200);
      const expected = res.published + res.primed.published;
      assert.equal(publications.reduce((n, ch) => n + (seen.get(ch) ?? 0), 0), expected, 'every publication went through Redis');
      for (const ch of channels) assert.match(ch, /^app\.warmup-[0-9a-f]+\./, `${ch} is not under the private prefix`);
      assert.equal((await redisCli(redis.port, 'DBSIZE')).trim(), '0');
    } finally {
      spy.disconnect();
      await redis.stop();
    }
  });
});
