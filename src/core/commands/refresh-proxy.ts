// Server-side refresh through the refresh and sub_refresh proxies (docs/proxy.md). When a connection (or a
// subscription of a namespace with sub_refresh_proxy_enabled) reaches its expiration time, the backend is asked
// for a new one: `expired` (or no result) ends it; a new expire_at and info are applied; a failed call gives it
// another 60 s before asking again, so a backend hiccup does not drop clients.
import { Disconnects, Unsubscribe } from '../../protocol/errors.js';
import { UnsubscribeCode } from '../../protocol/codes.js';
import { payloadOf } from '../../proxy/outcome.js';
import type { ProxyClient } from '../../proxy/types.js';
import type { Session } from '../session.js';
import { SubState, type Subscription } from '../subscription.js';
import { nowSeconds } from './common.js';
import { baseRequest, metaOf, setConnectionMeta, tryProxy } from './proxied.js';

/** Extra life of a connection or subscription whose refresh call failed (Centrifugo's fixed minute). */
export const RETRY_AFTER_FAILURE_S = 60;

export async function refreshConnection(s: Session, p: ProxyClient): Promise<void> {
  const r = await tryProxy(s, p, 'refresh', { ...baseRequest(s, p), user: s.user, ...metaOf(s, p) }, true);
  if (s.closed) return;
  if (r === undefined) {
    s.expireAt = nowSeconds() + RETRY_AFTER_FAILURE_S;
    s.timers.armExpire();
    return;
  }
  const res = r.result;
  if (res === undefined || res.expired) {
    s.close(Disconnects.expired());
    return;
  }
  let info;
  try {
    info = payloadOf(res.info, res.b64info);
  } catch {
    s.close(Disconnects.internal());
    return;
  }
  if (info !== undefined) s.connInfo = info;
  setConnectionMeta(s, res.meta);
  s.expireAt = res.expire_at > 0 ? res.expire_at : 0;
  if (s.expireAt > 0 && s.expireAt <= nowSeconds()) {
    s.close(Disconnects.expired());
    return;
  }
  s.timers.armExpire();
}

export async function refreshSubscription(s: Session, sub: Subscription, p: ProxyClient): Promise<void> {
  const r = await tryProxy(s, p, 'sub_refresh', { ...baseRequest(s, p), user: s.user, channel: sub.channel, ...metaOf(s, p) }, true);
  if (s.closed || sub.state !== SubState.Subscribed || s.subs.get(sub.channel) !== sub) return;
  if (r === undefined) {
    sub.expireAt = nowSeconds() + RETRY_AFTER_FAILURE_S;
    return;
  }
  const res = r.result;
  let info;
  try {
    info = res !== undefined ? payloadOf(res.info, res.b64info) : undefined;
  } catch {
    info = undefined;
  }
  const expireAt = res !== undefined && !res.expired && res.expire_at > 0 ? res.expire_at : 0;
  if (res === undefined || res.expired || (expireAt > 0 && expireAt <= nowSeconds())) {
    if (sub.serverSide) s.close(Disconnects.subExpired());
    else s.unsubscribeWith(sub, Unsubscribe.of(UnsubscribeCode.SubscriptionExpired));
    return;
  }
  if (info !== undefined) sub.chanInfo = info;
  sub.expireAt = expireAt;
}
