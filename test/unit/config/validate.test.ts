import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config/index.js';

// An explicit empty file, so a stray ./config.json never leaks into these tests.
const dir = mkdtempSync(join(tmpdir(), 'gyre-validate-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const EMPTY = join(dir, 'empty.json');
writeFileSync(EMPTY, '{}');

function errorFor(env: Record<string, string>): ConfigError {
  try {
    loadConfig({ file: EMPTY, env: { ...env } });
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e;
  }
  assert.fail('expected a ConfigError');
}

const ns = (items: unknown[]) => ({ GYRE_CHANNEL_NAMESPACES: JSON.stringify(items) });

describe('validateConfig', () => {
  it('ping_interval must exceed pong_timeout', () => {
    const e = errorFor({ GYRE_CLIENT_PING_INTERVAL: '8s', GYRE_CLIENT_PONG_TIMEOUT: '8s' });
    assert.equal(e.code, 'cross_field');
    assert.equal(e.path, 'client.ping_interval');
  });

  it('history_size and history_ttl both or neither', () => {
    assert.equal(errorFor({ GYRE_CHANNEL_WITHOUT_NAMESPACE_HISTORY_SIZE: '10' }).path, 'channel.without_namespace.history_ttl');
    assert.equal(errorFor(ns([{ name: 'ab', history_ttl: '10s' }])).path, 'channel.namespaces[0].history_size');
  });

  it('force_recovery requires history', () => {
    assert.equal(errorFor(ns([{ name: 'ab', force_recovery: true }])).path, 'channel.namespaces[0].force_recovery');
  });

  it('history_ttl must not exceed the meta ttl (namespace or global)', () => {
    assert.equal(
      errorFor(ns([{ name: 'ab', history_size: 1, history_ttl: '2h', history_meta_ttl: '1h' }])).path,
      'channel.namespaces[0].history_ttl',
    );
    const e = errorFor({ ...ns([{ name: 'ab', history_size: 1, history_ttl: '2h' }]), GYRE_CHANNEL_HISTORY_META_TTL: '1h' });
    assert.equal(e.path, 'channel.namespaces[0].history_ttl');
    assert.match(e.reason, /channel\.history_meta_ttl/);
  });

  it('auto_cache_recover requires cache recovery mode', () => {
    const base = { name: 'ab', history_size: 1, history_ttl: '1m', force_recovery: true, auto_cache_recover: true };
    assert.equal(errorFor(ns([base])).path, 'channel.namespaces[0].auto_cache_recover');
    assert.doesNotThrow(() => loadConfig({ file: EMPTY, env: ns([{ ...base, force_recovery_mode: 'cache' }]) }));
  });

  it('namespace names: pattern and uniqueness', () => {
    assert.equal(errorFor(ns([{ name: 'a' }])).path, 'channel.namespaces[0].name');
    assert.equal(errorFor(ns([{ name: 'bad name' }])).path, 'channel.namespaces[0].name');
    assert.equal(errorFor(ns([{ name: 'ok' }, { name: 'ok' }])).path, 'channel.namespaces[1].name');
  });

  it('channel_regex must compile; delta types only fossil', () => {
    assert.equal(errorFor(ns([{ name: 'ab', channel_regex: '([a-z' }])).path, 'channel.namespaces[0].channel_regex');
    assert.equal(errorFor({ GYRE_CHANNEL_WITHOUT_NAMESPACE_ALLOWED_DELTA_TYPES: 'fossil xdelta' }).path, 'channel.without_namespace.allowed_delta_types[1]');
  });

  it('ports are limited to 0–65535; engine redis keys Gyre does not implement are refused', () => {
    assert.equal(errorFor({ GYRE_HTTP_SERVER_PORT: '65536' }).path, 'http_server.port');
    assert.equal(errorFor({ GYRE_HTTP_SERVER_INTERNAL_PORT: '-1' }).path, 'http_server.internal_port');
    const redis = loadConfig({ file: EMPTY, env: { GYRE_ENGINE_TYPE: 'redis', GYRE_ENGINE_REDIS_ADDRESS: '127.0.0.1:6390' } });
    assert.equal(redis.config.engine.type, 'redis');
    assert.deepEqual(redis.config.engine.redis.address, ['127.0.0.1:6390']);
    assert.equal(redis.config.engine.redis.prefix, 'centrifugo');
    const e = errorFor({ GYRE_ENGINE_TYPE: 'redis', GYRE_ENGINE_REDIS_HISTORY_USE_LISTS: 'true' });
    assert.equal(e.code, 'unsupported');
    assert.equal(e.path, 'engine.redis.history_use_lists');
    assert.equal(errorFor({ GYRE_ENGINE_REDIS_SENTINEL_ADDRESS: '127.0.0.1:26379' }).path, 'engine.redis.sentinel_master_name');
    assert.equal(errorFor({ GYRE_ENGINE_TYPE: 'nats' }).path, 'engine.type');
  });

  it('token keys must parse and the JWKS endpoint must be an http(s) URL', () => {
    assert.equal(errorFor({ GYRE_CLIENT_TOKEN_RSA_PUBLIC_KEY: 'not a pem' }).path, 'client.token.rsa_public_key');
    assert.equal(errorFor({ GYRE_CLIENT_TOKEN_ECDSA_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' }).path, 'client.token.ecdsa_public_key');
    assert.equal(errorFor({ GYRE_CLIENT_TOKEN_JWKS_PUBLIC_ENDPOINT: 'ftp://x/jwks' }).path, 'client.token.jwks_public_endpoint');
    assert.equal(errorFor({ GYRE_CLIENT_SUBSCRIPTION_TOKEN_JWKS_PUBLIC_ENDPOINT: 'nope' }).path, 'client.subscription_token.jwks_public_endpoint');
  });

  it('token regexes must compile', () => {
    assert.equal(errorFor({ GYRE_CLIENT_TOKEN_AUDIENCE_REGEX: '(' }).path, 'client.token.audience_regex');
    assert.equal(errorFor({ GYRE_CLIENT_SUBSCRIPTION_TOKEN_ISSUER_REGEX: '[' }).path, 'client.subscription_token.issuer_regex');
  });
});

describe('validateConsumers', () => {
  const consumers = (items: unknown[]) => ({ GYRE_CONSUMERS: JSON.stringify(items) });
  const pg = { dsn: 'postgres://127.0.0.1/db', outbox_table_name: 'outbox' };

  it('names: ^[a-zA-Z0-9_]{2,}$, unique, also for disabled entries (as Centrifugo)', () => {
    assert.equal(errorFor(consumers([{ name: 'a', type: 'postgresql' }])).path, 'consumers[0].name');
    assert.equal(errorFor(consumers([{ name: 'a-b', type: 'postgresql' }])).path, 'consumers[0].name');
    const dup = errorFor(consumers([{ name: 'ab', type: 'postgresql' }, { name: 'ab', type: 'kafka' }]));
    assert.equal(dup.path, 'consumers[1].name');
  });

  it('an unknown type is refused; a known type Gyre does not run only when enabled', () => {
    assert.equal(errorFor(consumers([{ name: 'ab', type: 'rabbit' }])).path, 'consumers[0].type');
    const e = errorFor(consumers([{ name: 'ab', type: 'aws_sqs', enabled: true }]));
    assert.equal(e.code, 'unsupported');
    assert.equal(e.path, 'consumers[0].type');
    const ok = loadConfig({ file: EMPTY, env: consumers([{ name: 'ab', type: 'aws_sqs' }]) });
    assert.equal(ok.config.consumers?.[0]?.enabled, false);
  });

  it('an enabled postgresql consumer needs a DSN and a plain table name', () => {
    const base = { name: 'ab', type: 'postgresql', enabled: true };
    assert.equal(errorFor(consumers([{ ...base, postgresql: { ...pg, dsn: '' } }])).path, 'consumers[0].postgresql.dsn');
    assert.equal(errorFor(consumers([{ ...base, postgresql: { ...pg, outbox_table_name: '' } }])).path, 'consumers[0].postgresql.outbox_table_name');
    const injected = errorFor(consumers([{ ...base, postgresql: { ...pg, outbox_table_name: 'outbox; DROP TABLE x' } }]));
    assert.equal(injected.path, 'consumers[0].postgresql.outbox_table_name');
    for (const t of ['public.outbox', '"My Outbox"', 'app."out""box"']) {
      const r = loadConfig({ file: EMPTY, env: consumers([{ ...base, postgresql: { ...pg, outbox_table_name: t } }]) });
      assert.equal(r.config.consumers?.[0]?.postgresql.outbox_table_name, t);
      assert.equal(r.config.consumers?.[0]?.postgresql.partition_poll_interval, 300);
    }
  });

  it('broker.type redisnats needs enable_unreleased_features, as in Centrifugo; its Redis keys are checked', () => {
    const redisnats = { GYRE_BROKER_ENABLED: 'true', GYRE_BROKER_TYPE: 'redisnats' };
    const e = errorFor(redisnats);
    assert.equal(e.code, 'cross_field');
    assert.equal(e.path, 'broker.type');
    assert.match(e.reason, /redisnats broker is unreleased.*enable_unreleased_features: true/);
    const on = { ...redisnats, GYRE_ENABLE_UNRELEASED_FEATURES: 'true' };
    const r = loadConfig({ file: EMPTY, env: { ...on, GYRE_BROKER_REDIS_ADDRESS: 'redis://10.0.0.1:6379', GYRE_BROKER_NATS_PREFIX: 'p' } });
    assert.equal(r.config.broker?.type, 'redisnats');
    assert.equal(r.config.enable_unreleased_features, true);
    assert.deepEqual(r.config.broker?.redis.address, ['redis://10.0.0.1:6379']);
    assert.equal(r.config.broker?.nats.prefix, 'p');
    assert.equal(errorFor({ ...on, GYRE_BROKER_REDIS_HISTORY_USE_LISTS: 'true' }).path, 'broker.redis.history_use_lists');
    // Not enabled: the section is unused, so the type alone is no error.
    assert.equal(loadConfig({ file: EMPTY, env: { GYRE_BROKER_TYPE: 'redisnats' } }).config.broker?.type, 'redisnats');
  });

  it('an enabled kafka consumer needs brokers, topics and a consumer group', () => {
    const base = { name: 'ab', type: 'kafka', enabled: true };
    const k = { brokers: ['127.0.0.1:9092'], topics: ['t'], consumer_group: 'g' };
    assert.equal(errorFor(consumers([{ ...base, kafka: { ...k, brokers: [] } }])).path, 'consumers[0].kafka.brokers');
    assert.equal(errorFor(consumers([{ ...base, kafka: { ...k, topics: [] } }])).path, 'consumers[0].kafka.topics');
    assert.equal(errorFor(consumers([{ ...base, kafka: { ...k, consumer_group: '' } }])).path, 'consumers[0].kafka.consumer_group');
    assert.equal(errorFor(consumers([{ ...base, kafka: { ...k, sasl_mechanism: 'aws-msk-iam' } }])).path, 'consumers[0].kafka.sasl_mechanism');
    const r = loadConfig({ file: EMPTY, env: consumers([{ ...base, kafka: k }]) });
    assert.equal(r.config.consumers?.[0]?.kafka.method_header, 'centrifugo-method');
    assert.equal(r.config.consumers?.[0]?.kafka.fetch_max_wait, 500);
  });
});
