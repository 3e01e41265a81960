// The cross-key rules of shared poll (src/config/validate-shared-poll.ts, docs/shared-poll.md), through loadConfig.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gyre-validate-sp-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function load(tree: Record<string, unknown>): ReturnType<typeof loadConfig> {
  const p = join(dir, `c${n++}.json`);
  writeFileSync(p, JSON.stringify(tree));
  return loadConfig({ file: p, env: {} });
}

function pathOf(tree: Record<string, unknown>): string {
  try {
    load(tree);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.path;
  }
  return assert.fail('expected a ConfigError');
}

const poll = (sp: Record<string, unknown> = {}) => ({ name: 'poll', subscription_type: 'shared_poll', shared_poll: { proxy_name: 'pb', ...sp } });
const base = (namespaces: unknown[], extra: Record<string, unknown> = {}) => ({
  shared_poll: { hmac_secret_key: 'k' },
  proxies: [{ name: 'pb', endpoint: 'http://127.0.0.1:3010/refresh' }],
  channel: { namespaces },
  ...extra,
});

describe('shared poll config', () => {
  it('loads a valid namespace with durations in ms and defaults filled', () => {
    const c = load(base([poll({ mode: 'versioned', refresh_interval: '200ms', publish_enabled: true })]));
    const sp = c.config.channel.namespaces[0]!.shared_poll;
    assert.equal(sp.refresh_interval, 200);
    assert.equal(sp.mode, 'versioned');
    assert.equal(sp.max_keys_per_connection, 0);
    assert.equal(c.config.shared_poll?.concurrency_limit, 0);
  });

  it('refuses what Centrifugo refuses, naming the key', () => {
    assert.equal(pathOf(base([poll()], { shared_poll: {} })), 'shared_poll.hmac_secret_key');
    assert.equal(pathOf(base([poll({ proxy_name: 'nope' })])), 'channel.namespaces[0].shared_poll.proxy_name');
    assert.equal(pathOf(base([poll({ proxy_name: '' })])), 'channel.proxy.shared_poll_refresh.endpoint');
    assert.equal(pathOf(base([poll({ publish_enabled: true })])), 'channel.namespaces[0].shared_poll.publish_enabled');
    assert.equal(pathOf(base([poll({ mode: 'sometimes' })])), 'channel.namespaces[0].shared_poll.mode');
  });

  it('the default proxy is channel.proxy.shared_poll_refresh', () => {
    const c = load(base([poll({ proxy_name: '' })], { channel: { proxy: { shared_poll_refresh: { endpoint: 'http://127.0.0.1:1/r' } }, namespaces: [poll({ proxy_name: '' })] } }));
    assert.equal(c.config.channel.proxy.shared_poll_refresh.endpoint, 'http://127.0.0.1:1/r');
  });
});
