// Client `subscribe` (docs/protocol.md §4.6 steps 0–8, §3.3 subscription tokens, §5.2–5.4 positioning/recovery).
import { Buffer } from 'node:buffer';
import { InvalidTokenError, TokenExpiredError, type BoolOverride, type SubscribeTokenClaims } from '../../auth/types.js';
import { Disconnects, Errors } from '../../protocol/errors.js';
import type { SubscribeRequest } from '../../protocol/types.js';
import { isMapNamespace } from '../map/options.js';
import { canSubscribe, resolveSubscribeOptions } from '../permissions.js';
import type { Session } from '../session.js';
import { establish, isSubscriptionGone } from '../subscribe-flow.js';
import { parseTagsFilter, type TagsFilter } from '../tags-filter.js';
import { nowSeconds, requireChannel, resolveForClient } from './common.js';
import { proxySubscribe } from './subscribe-proxy.js';
import { subscribeStream } from './subscribe-stream.js';
import { SHARED_POLL_TYPE, handleSharedPollSubscribe, isSharedPollChannel } from '../shared-poll/subscribe.js';

const REJECT_UNRECOVERED = 2;

export async function verifySubscribeToken(s: Session, token: string, channel: string): Promise<SubscribeTokenClaims> {
  let claims: SubscribeTokenClaims;
  try {
    claims = await s.ctx.tokenVerifier.verifySubscribeToken(token);
  } catch (err) {
    if (err instanceof TokenExpiredError) throw Errors.tokenExpired();
    if (err instanceof InvalidTokenError) throw Errors.permissionDenied();
    throw err;
  }
  if (claims.channel === undefined || claims.channel === '') throw Errors.permissionDenied();
  if (claims.channel !== channel) throw Disconnects.invalidToken();
  if (claims.sub !== s.user) throw Disconnects.invalidToken();
  if (claims.client !== undefined && claims.client !== '' && claims.client !== s.id) throw Disconnects.invalidToken();
  return claims;
}

/** Subscription expiration from token claims: expire_at overrides exp (0 = none). */
export function subExpireAt(claims: { exp?: number; expire_at?: number }): number {
  if (claims.expire_at !== undefined) return claims.expire_at > 0 ? claims.expire_at : 0;
  return claims.exp ?? 0;
}

export async function handleSubscribe(s: Session, id: number, req: SubscribeRequest): Promise<void> {
  const ctx = s.ctx;
  const cfg = ctx.config;
  const channel = requireChannel(req.channel);
  // Shared poll first, as Centrifugo: type 4 elsewhere ⇒ 108, another type in a shared_poll namespace ⇒ 107.
  const sharedPoll = isSharedPollChannel(s, channel);
  if (req.type === SHARED_POLL_TYPE && !sharedPoll) throw Errors.notAvailable();
  if (sharedPoll) {
    if (req.type !== SHARED_POLL_TYPE) throw Errors.badRequest();
    return handleSharedPollSubscribe(s, id, channel, req);
  }
  if (req.delta !== undefined && req.delta !== '' && req.delta !== 'fossil') throw Disconnects.badRequest();
  if (Buffer.byteLength(channel) > cfg.channel.max_length) throw Errors.badRequest();
  if (s.subs.has(channel)) throw Errors.alreadySubscribed();
  if (cfg.client.channel_limit > 0 && s.subs.size >= cfg.client.channel_limit) throw Errors.limitExceeded();

  const r = resolveForClient(s, channel);
  if ((req.type ?? 0) !== 0) throw Errors.permissionDenied();
  if (isMapNamespace(r.options)) throw Errors.permissionDenied(); // a map namespace takes map subscriptions only
  let tagsFilter: TagsFilter | undefined;
  if (req.tf !== undefined && req.tf !== null) {
    if (!r.options.allow_tags_filter) throw Errors.badRequest();
    tagsFilter = parseTagsFilter(req.tf);
    if (tagsFilter === undefined) throw Errors.badRequest();
  }

  const insecure = cfg.client.insecure;
  let override: BoolOverride | undefined;
  let chanInfo: Uint8Array | undefined;
  let data: Uint8Array | undefined;
  let expireAt = 0;
  let proxied = false;
  if (req.token !== undefined && req.token !== '') {
    const claims = await verifySubscribeToken(s, req.token, channel);
    override = claims.override;
    chanInfo = claims.info;
    data = claims.data;
    expireAt = subExpireAt(claims);
  } else {
    if (r.isPrivate) throw Errors.permissionDenied();
    // User-limited channels keep their own rule (Centrifugo asks the proxies only about the others).
    if (r.options.subscribe_stream_proxy_enabled && r.allowedUsers === undefined) return subscribeStream(s, id, req, r);
    if (r.options.subscribe_proxy_enabled && r.allowedUsers === undefined) {
      const proxy = ctx.proxies.subscribe(r.options.subscribe_proxy_name);
      if (proxy === undefined) throw Errors.notAvailable();
      const granted = await proxySubscribe(s, proxy, channel, req.data);
      if (s.closed) return;
      override = granted.override;
      chanInfo = granted.info;
      data = granted.data;
      expireAt = granted.expireAt;
      proxied = true;
    } else if (!canSubscribe({ r, user: s.user, insecure })) throw Errors.permissionDenied();
  }
  if (expireAt > 0 && expireAt <= nowSeconds()) throw Errors.expired();
  if (s.subs.has(channel)) throw Errors.alreadySubscribed(); // subscribed again while the proxy answered

  const opts = resolveSubscribeOptions({
    r,
    // A proxied subscription takes the namespace options and the backend's override, not the client's flags.
    req: proxied
      ? {}
      : {
          ...(req.positioned !== undefined ? { positioned: req.positioned } : {}),
          ...(req.recoverable !== undefined ? { recoverable: req.recoverable } : {}),
          ...(req.join_leave !== undefined ? { join_leave: req.join_leave } : {}),
        },
    user: s.user,
    insecure,
    ...(override !== undefined ? { override } : {}),
  });
  // Delta compression: granted when the namespace allows the requested type (otherwise full payloads, as Centrifugo).
  const delta = req.delta === 'fossil' && r.options.allowed_delta_types.includes('fossil');
  let est;
  try {
    est = await establish(s, {
      r,
      serverSide: false,
      flags: opts,
      recover: req.recover === true,
      offset: req.offset ?? 0,
      epoch: req.epoch ?? '',
      rejectUnrecovered: ((req.flag ?? 0) & REJECT_UNRECOVERED) !== 0,
      expireAt,
      // With a sub_refresh proxy the server refreshes the subscription: the client is not told it expires.
      clientExpires: !r.options.sub_refresh_proxy_enabled,
      ...(chanInfo !== undefined ? { chanInfo } : {}),
      ...(data !== undefined ? { data } : {}),
      ...(delta ? { delta: true } : {}),
      ...(tagsFilter !== undefined ? { tagsFilter } : {}),
    });
  } catch (err) {
    if (isSubscriptionGone(err) && s.closed) return;
    throw err;
  }
  s.sendReply({ id, subscribe: est.result });
  est.complete();
}
