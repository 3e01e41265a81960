// A map namespace's settings as the broker and the subscribe flow use them, with Centrifugo's defaults filled in:
// stream modes keep 100 changes for a minute unless told otherwise; meta_ttl defaults to ten stream TTLs (at least
// the key TTL) in recoverable mode and to "never" in persistent mode; pages hold 100 entries by default, between
// 100 and 1000 unless the namespace sets other bounds.
import type { ChannelOptions } from '../../config/types.js';
import type { MapChannelSettings, MapMode } from '../../engines/map-types.js';
import { Errors } from '../../protocol/errors.js';

export const MAP_TYPES = { map: 1, map_clients: 2, map_users: 3 } as const;

const DEFAULT_PAGE_SIZE = 100;
const DEFAULT_MIN_PAGE_SIZE = 100;
const DEFAULT_MAX_PAGE_SIZE = 1000;
const DEFAULT_STREAM_SIZE = 100;
const DEFAULT_STREAM_TTL_MS = 60_000;
const DEFAULT_CATCH_UP_TIMEOUT_MS = 5000;

/** The protocol's subscription type number of a namespace (0 = stream). */
export function subscriptionTypeOf(o: Readonly<ChannelOptions>): number {
  const t = o.subscription_type;
  return t === 'map' || t === 'map_clients' || t === 'map_users' ? MAP_TYPES[t] : 0;
}

export function isMapNamespace(o: Readonly<ChannelOptions>): boolean {
  return subscriptionTypeOf(o) !== 0;
}

/** The broker settings of a map namespace; 107 (bad request) when the namespace is not a map one. */
export function mapSettings(o: Readonly<ChannelOptions>): MapChannelSettings {
  const m = o.map;
  if (m === undefined || !isMapNamespace(o)) throw Errors.badRequest();
  const mode = m.mode as MapMode;
  if (mode === 'ephemeral') return { mode, keyTtlMs: m.key_ttl, streamSize: 0, streamTtlMs: 0, metaTtlMs: 0 };
  const streamSize = m.stream_size > 0 ? m.stream_size : DEFAULT_STREAM_SIZE;
  const streamTtlMs = m.stream_ttl > 0 ? m.stream_ttl : DEFAULT_STREAM_TTL_MS;
  let metaTtlMs = m.meta_ttl;
  if (metaTtlMs === 0 && mode === 'recoverable') metaTtlMs = Math.max(streamTtlMs * 10, m.key_ttl);
  return { mode, keyTtlMs: mode === 'persistent' ? 0 : m.key_ttl, streamSize, streamTtlMs, metaTtlMs };
}

/** The page size for a request's `limit`: the namespace default when absent, clamped to [min, max]. */
export function pageSize(o: Readonly<ChannelOptions>, requested: number | undefined): number {
  const m = o.map;
  const def = m !== undefined && m.default_page_size > 0 ? m.default_page_size : DEFAULT_PAGE_SIZE;
  const min = m !== undefined && m.min_page_size > 0 ? m.min_page_size : DEFAULT_MIN_PAGE_SIZE;
  const max = m !== undefined && m.max_page_size > 0 ? m.max_page_size : DEFAULT_MAX_PAGE_SIZE;
  let limit = requested !== undefined && requested > 0 ? requested : def;
  if (limit < min) limit = min;
  if (limit > max) limit = max;
  return limit;
}

/** Most stream changes a live transition may send with the reply (more ⇒ 112: the client re-syncs). */
export function liveTransitionLimit(o: Readonly<ChannelOptions>): number {
  const m = o.map;
  if (m !== undefined && m.live_transition_max_publication_limit > 0) return m.live_transition_max_publication_limit;
  return m !== undefined && m.max_page_size > 0 ? m.max_page_size : DEFAULT_MAX_PAGE_SIZE;
}

/** How long a paginated subscribe may take before the connection is closed (negative = no limit). */
export function catchUpTimeoutMs(o: Readonly<ChannelOptions>): number {
  const t = o.map?.subscribe_catch_up_timeout ?? 0;
  return t !== 0 ? t : DEFAULT_CATCH_UP_TIMEOUT_MS;
}
