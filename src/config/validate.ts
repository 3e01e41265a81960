// Cross-field rules the schema cannot express (docs/protocol.md §1.10, §4.5, centrifugo validate.go). Each failure is a
// ConfigError naming the exact key path. Runs once on the parsed config, before it is frozen.

import { X509Certificate, createPublicKey } from 'node:crypto';
import { goRegExp } from '../util/go-regex.js';
import { ConfigError } from './errors.js';
import type { ChannelOptions, GyreConfig, RedisEngineConfig } from './types.js';
import { validateConsumers } from './validate-consumers.js';
import { jwksSafetyProblem } from './validate-jwks.js';
import { validateMap } from './validate-map.js';
import { validateProxies } from './validate-proxies.js';
import { validateSharedPoll } from './validate-shared-poll.js';

const NAMESPACE_NAME = /^[-a-zA-Z0-9_.]{2,}$/;
const DELTA_TYPES: ReadonlySet<string> = new Set(['fossil']);

function fail(path: string, reason: string): never {
  throw new ConfigError('cross_field', path, reason);
}

function checkRegex(path: string, source: string): void {
  if (source === '') return;
  try {
    goRegExp(source);
  } catch (e) {
    fail(path, `invalid regular expression: ${(e as Error).message}`);
  }
}

function checkPublicKey(path: string, pem: string): void {
  if (pem === '') return;
  try {
    if (pem.includes('BEGIN CERTIFICATE')) new X509Certificate(pem);
    else createPublicKey(pem);
  } catch (e) {
    fail(path, `cannot parse PEM public key: ${(e as Error).message}`);
  }
}

function checkUrl(path: string, value: string): void {
  if (value === '') return;
  let url: URL;
  try {
    url = new URL(value.replace(/\{\{[^}]*\}\}/g, 'x')); // {{name}} placeholders are filled per token
  } catch {
    return fail(path, `invalid URL ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(path, 'must be an http(s) URL');
}

function validateChannelOptions(p: string, o: ChannelOptions, globalMetaTtl: number): void {
  const hasSize = o.history_size > 0;
  const hasTtl = o.history_ttl > 0;
  if (hasSize !== hasTtl) {
    fail(`${p}.${hasSize ? 'history_ttl' : 'history_size'}`, 'history_size and history_ttl must both be set or both be zero');
  }
  if (o.force_recovery && !hasSize) fail(`${p}.force_recovery`, 'force_recovery requires history (history_size and history_ttl)');
  const metaTtl = o.history_meta_ttl > 0 ? o.history_meta_ttl : globalMetaTtl;
  if (o.history_ttl > metaTtl) {
    const metaKey = o.history_meta_ttl > 0 ? `${p}.history_meta_ttl` : 'channel.history_meta_ttl';
    fail(`${p}.history_ttl`, `history_ttl (${o.history_ttl}ms) must not exceed ${metaKey} (${metaTtl}ms)`);
  }
  if (o.auto_cache_recover && !(o.force_recovery && o.force_recovery_mode === 'cache')) {
    fail(`${p}.auto_cache_recover`, 'auto_cache_recover requires force_recovery with force_recovery_mode "cache"');
  }
  checkRegex(`${p}.channel_regex`, o.channel_regex);
  o.allowed_delta_types.forEach((t, i) => {
    if (!DELTA_TYPES.has(t)) fail(`${p}.allowed_delta_types[${i}]`, `unknown delta type ${JSON.stringify(t)} (allowed: fossil)`);
  });
}

/** Centrifugo engine.redis keys Gyre does not implement are refused rather than silently ignored. */
/** The keys checked; each section's slice has its own subset (broker.redis lacks presence keys and vice versa). */
type RedisChecked = Pick<RedisEngineConfig, 'replica_client' | 'sentinel_address' | 'cluster_address' | 'sentinel_master_name'> &
  Partial<Pick<RedisEngineConfig, 'history_use_lists' | 'presence_hash_field_ttl'>>;

function checkRedis(r: RedisChecked, base = 'engine.redis'): void {
  const no = (path: string, what: string): never => {
    throw new ConfigError('unsupported', `${base}.${path}`, `${what} is not supported`);
  };
  if (r.history_use_lists === true) no('history_use_lists', 'history in Redis lists');
  if (r.presence_hash_field_ttl === true) no('presence_hash_field_ttl', 'presence with hash field TTL');
  if (r.replica_client.enabled) no('replica_client.enabled', 'reading from Redis replicas');
  if (r.sentinel_address.length > 0 && r.cluster_address.length === 0 && r.sentinel_master_name === '') {
    fail(`${base}.sentinel_master_name`, 'master name must be set when using Redis Sentinel');
  }
}

export function validateConfig(c: GyreConfig): void {
  if (c.client.ping_interval <= c.client.pong_timeout) {
    fail('client.ping_interval', `ping_interval (${c.client.ping_interval}ms) must be greater than client.pong_timeout (${c.client.pong_timeout}ms)`);
  }
  checkRedis(c.engine.redis);
  validateProxies(c);
  validateSharedPoll(c);
  if (c.presence_manager?.enabled === true && c.presence_manager.type === 'redis') checkRedis(c.presence_manager.redis, 'presence_manager.redis');
  if (c.broker?.enabled === true && (c.broker.type === 'redis' || c.broker.type === 'redisnats')) {
    checkRedis(c.broker.redis, 'broker.redis');
  }
  if (c.broker?.enabled === true && c.broker.type === 'redisnats' && c.enable_unreleased_features !== true) {
    throw new ConfigError(
      'cross_field',
      'broker.type',
      'the redisnats broker is unreleased in Centrifugo and requires enable_unreleased_features: true',
    );
  }
  for (const section of ['token', 'subscription_token'] as const) {
    const t = c.client[section];
    checkRegex(`client.${section}.audience_regex`, t.audience_regex);
    checkRegex(`client.${section}.issuer_regex`, t.issuer_regex);
    checkPublicKey(`client.${section}.rsa_public_key`, t.rsa_public_key);
    checkPublicKey(`client.${section}.ecdsa_public_key`, t.ecdsa_public_key);
    checkUrl(`client.${section}.jwks_public_endpoint`, t.jwks_public_endpoint);
    const unsafe = t.insecure_skip_jwks_endpoint_safety_check ? undefined : jwksSafetyProblem(t);
    if (unsafe !== undefined) fail(`client.${section}.${unsafe.key}`, unsafe.reason);
    if (t.user_id_claim !== '' && !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(t.user_id_claim)) {
      fail(`client.${section}.user_id_claim`, 'must be a simple dotted path like "user.id"');
    }
  }
  const meta = c.channel.history_meta_ttl;
  validateChannelOptions('channel.without_namespace', c.channel.without_namespace, meta);
  const seen = new Set<string>();
  c.channel.namespaces.forEach((ns, i) => {
    const p = `channel.namespaces[${i}]`;
    if (!NAMESPACE_NAME.test(ns.name)) {
      fail(`${p}.name`, `invalid namespace name ${JSON.stringify(ns.name)}: must match ${NAMESPACE_NAME.source}`);
    }
    if (seen.has(ns.name)) fail(`${p}.name`, `duplicate namespace name ${JSON.stringify(ns.name)}`);
    seen.add(ns.name);
    validateChannelOptions(p, ns, meta);
  });
  validateConsumers(c.consumers ?? []);
  validateMap(c);
}
