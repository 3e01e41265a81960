// planReload (config/diff.ts): which changed keys apply live, which keep their running value until a restart.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig, deepFreeze, isLiveKey, planReload, type GyreConfig } from '../../../src/config/index.js';

function frozen(edit: (c: GyreConfig) => void = () => undefined): Readonly<GyreConfig> {
  const c = defaultConfig();
  edit(c);
  return deepFreeze(c);
}

describe('planReload', () => {
  it('reports nothing for an identical config', () => {
    const plan = planReload(frozen(), frozen());
    assert.deepEqual(plan.live, []);
    assert.deepEqual(plan.restart, []);
    assert.deepEqual(plan.config, frozen());
  });

  it('takes live keys from the new config: token keys, namespaces, limits, log level, API key', () => {
    const running = frozen();
    const next = frozen((c) => {
      c.client.token.hmac_secret_key = 'new';
      c.client.subscription_token.enabled = true;
      c.channel.namespaces = [{ ...c.channel.without_namespace, name: 'chat' }];
      c.client.channel_limit = 5;
      c.client.queue_max_size = 1000;
      c.log.level = 'debug';
      c.http_api.key = 'k2';
    });
    const plan = planReload(running, next);
    assert.deepEqual([...plan.live].sort(), [
      'channel.namespaces',
      'client.channel_limit',
      'client.queue_max_size',
      'client.subscription_token.enabled',
      'client.token.hmac_secret_key',
      'http_api.key',
      'log.level',
    ]);
    assert.deepEqual(plan.restart, []);
    assert.deepEqual(plan.config, next);
    assert.ok(Object.isFrozen(plan.config.channel.namespaces[0]));
  });

  it('keeps the running value of restart-only keys (ports, engine, transports, ping interval)', () => {
    const running = frozen();
    const next = frozen((c) => {
      c.http_server.port = 9999;
      c.websocket.disabled = true;
      c.http_api.handler_prefix = '/other';
      c.client.ping_interval = 60_000;
      c.client.channel_limit = 7; // live, next to the restart-only ones
    });
    const plan = planReload(running, next);
    assert.deepEqual([...plan.restart].sort(), ['client.ping_interval', 'http_api.handler_prefix', 'http_server.port', 'websocket.disabled']);
    assert.deepEqual(plan.live, ['client.channel_limit']);
    assert.equal(plan.config.http_server.port, running.http_server.port);
    assert.equal(plan.config.websocket.disabled, false);
    assert.equal(plan.config.http_api.handler_prefix, '/api');
    assert.equal(plan.config.client.ping_interval, running.client.ping_interval);
    assert.equal(plan.config.client.channel_limit, 7);
    assert.ok(Object.isFrozen(plan.config.http_server));
  });

  it('treats unknown future keys as restart-only, and arrays as one value', () => {
    assert.equal(isLiveKey('http_server.tls.enabled'), false);
    assert.equal(isLiveKey('client.token.audience'), true);
    assert.equal(isLiveKey('client.insecure'), true);
    assert.equal(isLiveKey('client.insecure_foo'), false);
    const plan = planReload(
      frozen(),
      frozen((c) => {
        c.client.allowed_origins = ['http://a.example'];
      }),
    );
    assert.deepEqual(plan.live, ['client.allowed_origins']);
  });
});
