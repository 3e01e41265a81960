// Client subscribe with type 4 (docs/shared-poll.md): a light subscription without broker, history or recovery.
// Permission checks are the stream ones (token, subscribe proxy, allow_subscribe_for_client, insecure); the reply
// echoes type 4 and carries the channel's epoch, against which the client keeps its key versions.
import { Errors } from '../../protocol/errors.js';
import type { SubscribeRequest, SubscribeResult } from '../../protocol/types.js';
import { countSubscriptionAccepted, subscriptionsInflight } from '../../metrics/observe.js';
import type { ResolvedChannel } from '../channels.js';
import { nowSeconds, resolveForClient, ttlSeconds } from '../commands/common.js';
import { proxySubscribe } from '../commands/subscribe-proxy.js';
import { subExpireAt, verifySubscribeToken } from '../commands/subscribe.js';
import { canSubscribe } from '../permissions.js';
import type { Session } from '../session.js';
import { SubState, Subscription } from '../subscription.js';
import { SharedPollSub } from './connection.js';
import { pollOptions } from './options.js';

/** The subscription type number of shared poll on the wire. */
export const SHARED_POLL_TYPE = 4;

/** True when `channel` is in a shared_poll namespace (unknown namespaces are not: their subscribe gets 108). */
export function isSharedPollChannel(s: Session, channel: string): boolean {
  let r: ResolvedChannel;
  try {
    r = s.ctx.resolver.resolve(channel);
  } catch {
    return false;
  }
  return r.options.subscription_type === 'shared_poll';
}

export async function handleSharedPollSubscribe(s: Session, id: number, channel: string, req: SubscribeRequest): Promise<void> {
  const ctx = s.ctx;
  const manager = ctx.sharedPoll;
  if (s.subs.has(channel)) throw Errors.alreadySubscribed();
  if (ctx.config.client.channel_limit > 0 && s.subs.size >= ctx.config.client.channel_limit) throw Errors.limitExceeded();
  const r = resolveForClient(s, channel);
  let expireAt = 0;
  if (req.token !== undefined && req.token !== '') {
    expireAt = subExpireAt(await verifySubscribeToken(s, req.token, channel));
  } else {
    if (r.isPrivate) throw Errors.permissionDenied();
    if (r.options.subscribe_proxy_enabled && r.allowedUsers === undefined) {
      const proxy = ctx.proxies.subscribe(r.options.subscribe_proxy_name);
      if (proxy === undefined) throw Errors.notAvailable();
      expireAt = (await proxySubscribe(s, proxy, channel, req.data)).expireAt;
      if (s.closed) return;
    } else if (!canSubscribe({ r, user: s.user, insecure: ctx.config.client.insecure })) {
      throw Errors.permissionDenied();
    }
  }
  if (expireAt > 0 && expireAt <= nowSeconds()) throw Errors.expired();
  if (s.subs.has(channel)) throw Errors.alreadySubscribed(); // subscribed again while the token or proxy was checked
  if (manager === undefined) throw Errors.notAvailable();

  const sub = new Subscription(s, channel, r.namespace, {
    serverSide: false,
    presence: false,
    joinLeave: false,
    pushJoinLeave: false,
    positioned: false,
    recoverable: false,
  });
  sub.expireAt = expireAt;
  sub.buffer = null;
  sub.state = SubState.Subscribed;
  const sp = new SharedPollSub(s, sub, channel);
  sub.sharedPoll = sp;
  sub.onRemoved = () => manager.detach(sp);
  s.subs.set(channel, sub);
  manager.attach(sp);
  countSubscriptionAccepted(s.metricName);
  subscriptionsInflight(s.metricName, sub.namespace, 1);

  const result: SubscribeResult = { type: SHARED_POLL_TYPE };
  if (expireAt > 0) {
    result.expires = true;
    result.ttl = ttlSeconds(expireAt);
  }
  const epoch = manager.epoch(channel, pollOptions(r.options.shared_poll));
  if (epoch !== '') result.epoch = epoch;
  s.sendReply({ id, subscribe: result });
}
