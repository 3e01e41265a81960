// Cross-key rules of map subscriptions (docs/map-subscriptions.md), the ones Centrifugo v6.9 checks at start:
// a map subscription_type needs map.mode, TTL/stream settings must fit the mode, presence prefixes must point at a
// namespace of the matching type, page sizes must be ordered. Also what Gyre itself cannot do: a map broker other
// than memory, and map namespaces with several worker processes (each would hold its own in-memory maps).
import { ConfigError } from './errors.js';
import type { ChannelOptions, GyreConfig } from './types.js';

const MODES = new Set(['ephemeral', 'recoverable', 'persistent']);
const MAP_TYPES = new Set(['map', 'map_clients', 'map_users']);
const CLIENT_KEYS = new Set(['client_id', 'user_id']);

function fail(path: string, message: string): never {
  throw new ConfigError('cross_field', path, message);
}

export function isMapType(t: string): boolean {
  return MAP_TYPES.has(t);
}

/** The namespace name a presence prefix resolves to ('' when it has no namespace boundary). */
function namespaceOfPrefix(prefix: string, boundary: string): string {
  if (boundary === '') return '';
  const i = prefix.indexOf(boundary);
  return i >= 0 ? prefix.slice(0, i) : '';
}

function checkPrefix(c: GyreConfig, path: string, prefix: string, want: string): void {
  const name = namespaceOfPrefix(prefix, c.channel.namespace_boundary);
  const target = name === '' ? c.channel.without_namespace : c.channel.namespaces.find((n) => n.name === name);
  if (target === undefined) fail(path, `${JSON.stringify(prefix)}: namespace ${JSON.stringify(name)} does not exist`);
  if (target.subscription_type !== want) {
    fail(path, `${JSON.stringify(prefix)}: target namespace ${JSON.stringify(name)} must have subscription_type ${JSON.stringify(want)}`);
  }
}

function validateMapOptions(c: GyreConfig, p: string, o: ChannelOptions): void {
  const isMap = isMapType(o.subscription_type);
  const m = o.map;
  if (m === undefined) {
    if (isMap) fail(`${p}.map.mode`, 'map.mode is required when subscription_type is a map type');
  } else {
    if (m.mode !== '' && !MODES.has(m.mode)) fail(`${p}.map.mode`, `unknown map.mode ${JSON.stringify(m.mode)} (ephemeral, recoverable or persistent)`);
    if (isMap && m.mode === '') fail(`${p}.map.mode`, 'map.mode is required when subscription_type is a map type');
    if (m.client_key !== '' && !CLIENT_KEYS.has(m.client_key)) fail(`${p}.map.client_key`, `unknown map.client_key ${JSON.stringify(m.client_key)} (client_id or user_id)`);
    // The proxy decides the key when it is on, so a server-chosen key would be silently overridden.
    if (m.client_key !== '' && m.publish_proxy_enabled) fail(`${p}.map.client_key`, 'map.client_key is not compatible with map.publish_proxy_enabled');
    if (m.client_key !== '' && m.remove_proxy_enabled) fail(`${p}.map.client_key`, 'map.client_key is not compatible with map.remove_proxy_enabled');
    const expiring = m.mode === 'ephemeral' || m.mode === 'recoverable';
    if (expiring && m.key_ttl <= 0) fail(`${p}.map.key_ttl`, `map.key_ttl is required when map.mode is ${JSON.stringify(m.mode)}`);
    if (m.mode === 'persistent' && m.key_ttl !== 0) fail(`${p}.map.key_ttl`, 'map.key_ttl must not be set when map.mode is "persistent"');
    if (m.mode === 'persistent' && (o.subscription_type === 'map_clients' || o.subscription_type === 'map_users')) {
      fail(`${p}.map.mode`, `map.mode "persistent" is not allowed with subscription_type ${JSON.stringify(o.subscription_type)} (presence entries need a TTL)`);
    }
    if (m.mode === 'ephemeral') {
      if (m.stream_size > 0) fail(`${p}.map.stream_size`, 'map.stream_size must be 0 for map.mode "ephemeral"');
      if (m.stream_ttl !== 0) fail(`${p}.map.stream_ttl`, 'map.stream_ttl must be 0 for map.mode "ephemeral"');
      if (m.meta_ttl !== 0) fail(`${p}.map.meta_ttl`, 'map.meta_ttl must be 0 for map.mode "ephemeral"');
    }
    if (m.stream_size < 0) fail(`${p}.map.stream_size`, 'map.stream_size must be non-negative');
    if (m.meta_ttl > 0 && m.meta_ttl < (m.stream_ttl > 0 ? m.stream_ttl : 60_000)) {
      fail(`${p}.map.meta_ttl`, 'map.meta_ttl must be >= map.stream_ttl (metadata must outlive the stream)');
    }
    if (m.remove_client_on_unsubscribe && !isMap) {
      fail(`${p}.map.remove_client_on_unsubscribe`, 'map.remove_client_on_unsubscribe requires a map subscription_type');
    }
    for (const k of ['min_page_size', 'max_page_size', 'default_page_size'] as const) {
      if (m[k] < 0) fail(`${p}.map.${k}`, `map.${k} must not be negative`);
    }
    if (m.min_page_size > 0 && m.max_page_size > 0 && m.min_page_size > m.max_page_size) {
      fail(`${p}.map.min_page_size`, 'map.min_page_size must not exceed map.max_page_size');
    }
    if (m.default_page_size > 0 && m.max_page_size > 0 && m.default_page_size > m.max_page_size) {
      fail(`${p}.map.default_page_size`, 'map.default_page_size must not exceed map.max_page_size');
    }
    if (m.default_page_size > 0 && m.min_page_size > 0 && m.default_page_size < m.min_page_size) {
      fail(`${p}.map.default_page_size`, 'map.default_page_size must not be below map.min_page_size');
    }
  }
  const clients = o.map_clients_presence_channel_prefix ?? '';
  if (clients !== '') checkPrefix(c, `${p}.map_clients_presence_channel_prefix`, clients, 'map_clients');
  const users = o.map_users_presence_channel_prefix ?? '';
  if (users !== '') checkPrefix(c, `${p}.map_users_presence_channel_prefix`, users, 'map_users');
}

export function validateMap(c: GyreConfig): void {
  const all: [string, ChannelOptions][] = [['channel.without_namespace', c.channel.without_namespace]];
  c.channel.namespaces.forEach((ns, i) => all.push([`channel.namespaces[${i}]`, ns]));
  let firstMap: string | undefined;
  for (const [p, o] of all) {
    validateMapOptions(c, p, o);
    if (firstMap === undefined && isMapType(o.subscription_type)) firstMap = p;
  }
  const type = c.map_broker?.type ?? 'memory';
  if (type !== 'memory') {
    const where = firstMap === undefined ? '' : ` (map namespace ${firstMap})`;
    throw new ConfigError('unsupported', 'map_broker.type', `map broker ${JSON.stringify(type)} is not supported, only "memory"${where}`);
  }
  if (firstMap !== undefined && c.node.workers !== 1) {
    throw new ConfigError(
      'unsupported',
      `${firstMap}.subscription_type`,
      'map subscriptions keep their state in memory and need node.workers = 1',
    );
  }
}
