// The map subscription rules of the config (src/config/validate-map.ts), as Centrifugo 6.9 checks them at start.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gyre-validate-map-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function load(cfg: Record<string, unknown>): ReturnType<typeof loadConfig>['config'] {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(cfg));
  return loadConfig({ file, env: {} }).config;
}

function errorFor(cfg: Record<string, unknown>): ConfigError {
  try {
    load(cfg);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e;
  }
  assert.fail('expected a ConfigError');
}

const ns = (...namespaces: unknown[]) => ({ channel: { namespaces } });
const map = (name: string, type: string, m: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  name,
  subscription_type: type,
  map: m,
  ...extra,
});

describe('validateMap', () => {
  it('accepts the official suite shapes: ephemeral with key_ttl, persistent with stream settings, a presence prefix', () => {
    const c = load(
      ns(
        map('eph', 'map', { mode: 'ephemeral', key_ttl: '60s' }, { map_clients_presence_channel_prefix: 'pc:' }),
        map('per', 'map', { mode: 'persistent', stream_size: 2, stream_ttl: '60s', client_key: 'client_id' }),
        map('pc', 'map_clients', { mode: 'ephemeral', key_ttl: '60s' }),
      ),
    );
    const eph = c.channel.namespaces[0]!;
    assert.equal(eph.subscription_type, 'map');
    assert.equal(eph.map?.key_ttl, 60_000);
    assert.equal(c.channel.namespaces[1]!.map?.stream_size, 2);
    assert.equal(c.map_broker?.type, 'memory');
  });

  it('a map subscription_type needs map.mode; modes and client_key are checked', () => {
    assert.equal(errorFor(ns({ name: 'ab', subscription_type: 'map' })).path, 'channel.namespaces[0].map.mode');
    assert.equal(errorFor(ns(map('ab', 'map', { mode: 'forever' }))).path, 'channel.namespaces[0].map.mode');
    assert.equal(errorFor(ns(map('ab', 'map', { mode: 'persistent', client_key: 'ip' }))).path, 'channel.namespaces[0].map.client_key');
  });

  it('key_ttl: required with expiry, refused in persistent mode; presence maps cannot be persistent', () => {
    assert.equal(errorFor(ns(map('ab', 'map', { mode: 'ephemeral' }))).path, 'channel.namespaces[0].map.key_ttl');
    assert.equal(errorFor(ns(map('ab', 'map', { mode: 'persistent', key_ttl: '5s' }))).path, 'channel.namespaces[0].map.key_ttl');
    assert.equal(errorFor(ns(map('ab', 'map_users', { mode: 'persistent' }))).path, 'channel.namespaces[0].map.mode');
  });

  it('ephemeral mode has no stream; meta_ttl must outlive the stream; page sizes are ordered', () => {
    assert.equal(errorFor(ns(map('ab', 'map', { mode: 'ephemeral', key_ttl: '1s', stream_size: 5 }))).path, 'channel.namespaces[0].map.stream_size');
    assert.equal(errorFor(ns(map('ab', 'map', { mode: 'persistent', stream_ttl: '2m', meta_ttl: '1m' }))).path, 'channel.namespaces[0].map.meta_ttl');
    assert.equal(errorFor(ns(map('ab', 'map', { mode: 'persistent', min_page_size: 10, max_page_size: 5 }))).path, 'channel.namespaces[0].map.min_page_size');
  });

  it('a presence prefix must name a namespace of the matching type', () => {
    const e = errorFor(ns(map('ab', 'map', { mode: 'persistent' }, { map_users_presence_channel_prefix: 'nope:' })));
    assert.equal(e.path, 'channel.namespaces[0].map_users_presence_channel_prefix');
    const wrong = errorFor(
      ns(map('ab', 'map', { mode: 'persistent' }, { map_clients_presence_channel_prefix: 'pu:' }), map('pu', 'map_users', { mode: 'ephemeral', key_ttl: '9s' })),
    );
    assert.match(wrong.reason, /map_clients/);
  });

  it('refuses map brokers other than memory, and map namespaces with several workers', () => {
    const e = errorFor({ map_broker: { type: 'redis' }, ...ns(map('ab', 'map', { mode: 'persistent' })) });
    assert.equal(e.code, 'unsupported');
    assert.equal(e.path, 'map_broker.type');
    assert.match(e.reason, /channel\.namespaces\[0\]/);
    const w = errorFor({ node: { workers: 2 }, ...ns(map('ab', 'map', { mode: 'persistent' })) });
    assert.equal(w.path, 'channel.namespaces[0].subscription_type');
  });
});
