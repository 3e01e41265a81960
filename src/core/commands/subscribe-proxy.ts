// The subscribe proxy (docs/proxy.md): a subscription without a token to a channel of a namespace with
// subscribe_proxy_enabled is decided by the backend. Its error or disconnect goes to the client; a failed call
// is 100; a result's expire_at, info, data and override are applied (an empty result grants the namespace
// defaults).
import type { BoolOverride } from '../../auth/types.js';
import { payloadOf } from '../../proxy/outcome.js';
import type { ProxyClient } from '../../proxy/types.js';
import type { Session } from '../session.js';
import { baseRequest, callProxy, metaOf, payload } from './proxied.js';

export interface ProxyGrant {
  override: BoolOverride | undefined;
  info: Uint8Array | undefined;
  data: Uint8Array | undefined;
  /** Unix seconds, 0 = none. */
  expireAt: number;
}

export async function proxySubscribe(s: Session, p: ProxyClient, channel: string, data: Uint8Array | undefined): Promise<ProxyGrant> {
  const result = await callProxy(s, p, 'subscribe', {
    ...baseRequest(s, p),
    user: s.user,
    channel,
    ...metaOf(s, p),
    ...payload(p, data),
  });
  if (result === undefined) return { override: undefined, info: undefined, data: undefined, expireAt: 0 };
  return {
    override: result.override,
    info: payloadOf(result.info, result.b64info),
    data: payloadOf(result.data, result.b64data),
    expireAt: result.expire_at > 0 ? result.expire_at : 0,
  };
}
