// The map publish and map remove proxies (docs/map-subscriptions.md): with map.publish_proxy_enabled (or
// remove_proxy_enabled) a client's map publish (remove) goes to the backend instead of the allow_* options. Its
// error or disconnect goes to the client; a failed call is 100 and nothing changes. A result may replace the key
// and the data, and set tags, key_mode, idempotency_key, delta and a version, as Centrifugo's proxy does.
import type { MapKeyMode, MapPublishInput } from '../../engines/map-types.js';
import { Errors } from '../../protocol/errors.js';
import { payloadOf } from '../../proxy/outcome.js';
import type { ProxyClient } from '../../proxy/types.js';
import { baseRequest, callProxy, metaOf, payload } from '../commands/proxied.js';
import type { Session } from '../session.js';

export interface MapPublishDecision {
  key: string;
  input: Omit<MapPublishInput, 'info'>;
}

const KEY_MODES: ReadonlySet<string> = new Set(['', 'if_new', 'if_exists']);

export async function proxyMapPublish(s: Session, p: ProxyClient, channel: string, key: string, data: Uint8Array): Promise<MapPublishDecision> {
  const result = await callProxy(s, p, 'map_publish', {
    ...baseRequest(s, p),
    user: s.user,
    channel,
    key,
    ...payload(p, data),
    ...metaOf(s, p),
  });
  if (result === undefined) return { key, input: { data } };
  if (!KEY_MODES.has(result.key_mode)) throw Errors.internal();
  const input: MapPublishDecision['input'] = { data: payloadOf(result.data, result.b64data) ?? data };
  if (Object.keys(result.tags).length > 0) input.tags = result.tags;
  if (result.key_mode !== '') input.keyMode = result.key_mode as MapKeyMode;
  if (result.idempotency_key !== '') input.idempotencyKey = result.idempotency_key;
  if (result.delta) input.useDelta = true;
  if (result.version > 0) {
    input.version = result.version;
    input.versionEpoch = result.version_epoch;
  }
  return { key: result.key !== '' ? result.key : key, input };
}

export async function proxyMapRemove(s: Session, p: ProxyClient, channel: string, key: string): Promise<{ key: string; idempotencyKey?: string }> {
  const result = await callProxy(s, p, 'map_remove', { ...baseRequest(s, p), user: s.user, channel, key, ...metaOf(s, p) });
  if (result === undefined) return { key };
  return {
    key: result.key !== '' ? result.key : key,
    ...(result.idempotency_key !== '' ? { idempotencyKey: result.idempotency_key } : {}),
  };
}
