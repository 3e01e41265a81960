// What a configuration reload (SIGHUP) may change while the server runs. Compares the running config with a newly
// loaded one key by key: changed keys on the live list are taken from the new config; every other changed key
// (listen addresses and ports, engine, transports, endpoints, log file, ...) keeps its running value and is
// reported as needing a restart. The list is an allow-list, so a key added later is restart-only until someone
// makes it live on purpose (docs/reload.md).

import { deepFreeze } from './load.js';
import type { GyreConfig } from './types.js';

/**
 * Keys applied live. An entry ending in "." covers every key below it. Arrays (channel.namespaces,
 * client.allowed_origins) compare as one value.
 *
 * Not live on purpose: client.ping_interval / pong_timeout (connected clients were told the interval in their
 * connect reply and would give up on a server that pings later), client.presence_update_interval (presence
 * entries of connected clients expire on the old rhythm).
 */
export const LIVE_KEYS: readonly string[] = [
  'log.level',
  // Token verifier (connect and subscription tokens).
  'client.token.',
  'client.subscription_token.',
  'client.insecure',
  'client.insecure_skip_token_signature_verify',
  'client.allow_anonymous_connect_without_token',
  'client.disallow_anonymous_connection_tokens',
  // Handshake checks.
  'client.allowed_origins',
  'client.connection_limit',
  'client.connection_rate_limit',
  'client.ip_connection_limit',
  // Per-connection limits and connect options (new commands; the queue cap for new connections).
  'client.user_connection_limit',
  'client.channel_limit',
  'client.queue_max_size',
  'client.history_max_publication_limit',
  'client.recovery_max_publication_limit',
  'client.connect_include_server_time',
  'client.subscribe_to_user_personal_channel.',
  'client.stale_close_delay',
  'client.expired_close_delay',
  'client.expired_sub_close_delay',
  'client.channel_position_check_delay',
  // Namespaces, channel options and channel name rules (the channel resolver and the publisher's defaults).
  'channel.',
  'rpc.',
  // Shared poll track signatures (checked at every track: a key rotation needs no restart).
  'shared_poll.hmac_secret_key',
  'shared_poll.hmac_previous_secret_key',
  'shared_poll.hmac_previous_secret_key_valid_until',
  // Server API authentication and error mode.
  'http_api.key',
  'http_api.insecure',
  'http_api.error_mode',
  // Server API bounds (the next request).
  'http_api.max_request_body_size',
  'http_api.max_batch_size',
  // Admin authentication (the next request; enabled, handler_prefix and external need a restart).
  'admin.password',
  'admin.secret',
  'admin.insecure',
  'admin.token_ttl',
];

export function isLiveKey(path: string): boolean {
  for (const k of LIVE_KEYS) {
    if (k.endsWith('.') ? path.startsWith(k) : path === k) return true;
  }
  return false;
}

export interface ReloadPlan {
  /** Changed keys that take the new value now. */
  readonly live: readonly string[];
  /** Changed keys that keep the running value until the next start. */
  readonly restart: readonly string[];
  /** The new config with every restart-only key set back to its running value (deep-frozen). */
  readonly config: Readonly<GyreConfig>;
}

type Raw = Record<string, unknown>;

function isPlainObject(v: unknown): v is Raw {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Config values are JSON data (strings, numbers, booleans, arrays and objects of those). */
function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

function pick(running: unknown, next: unknown, path: string, live: string[], restart: string[]): unknown {
  if (isPlainObject(running) && isPlainObject(next)) {
    const out: Raw = {};
    for (const k of new Set([...Object.keys(running), ...Object.keys(next)])) {
      const v = pick(running[k], next[k], path === '' ? k : `${path}.${k}`, live, restart);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  if (sameValue(running, next)) return next;
  if (isLiveKey(path)) {
    live.push(path);
    return next;
  }
  restart.push(path);
  return running;
}

/** Which changed keys apply live, which need a restart, and the config to run with now. */
export function planReload(running: Readonly<GyreConfig>, next: Readonly<GyreConfig>): ReloadPlan {
  const live: string[] = [];
  const restart: string[] = [];
  const config = pick(running, next, '', live, restart) as GyreConfig;
  return { live, restart, config: deepFreeze(config) };
}
