import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { startServer } from '../../src/app.js';
import { defaultConfig } from '../../src/config/index.js';
import type { GyreConfig } from '../../src/config/types.js';
import { metrics, registry } from '../../src/metrics/registry.js';
import { warmUp, warmupConfig } from '../../src/warmup.js';

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
  });

  it('drives N connect+subscribe handshakes and API publishes, closes its server and leaves no metric behind', async () => {
    let port = 0;
    const res = await warmUp(userConfig(150), {
      logger: pino({ level: 'silent' }),
      start: async (cfg, opts) => {
        const s = await startServer(cfg, opts);
        port = s.port;
        return s;
      },
    });
    assert.ok(res !== null);
    assert.equal(res.connections, 150);
    assert.equal(res.subscribed, 150);
    assert.equal(res.published, 200);
    assert.equal(res.timedOut, false);
    assert.ok(port > 0);
    assert.equal(await refused(port), true, 'the warm-up server must be closed');
    const accepted = await metrics.connectionsAccepted.get();
    assert.equal(accepted.values.length, 0, 'warm-up connections must not show in the node metrics');
    const inflight = (await metrics.connectionsInflight.get()).values.reduce((a, v) => a + v.value, 0);
    assert.equal(inflight, 0);
    assert.doesNotMatch(await registry.metrics(), /centrifugo_node_messages_received_count\{/);
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
});
