// Client `subscribe` (docs/protocol.md §4.6 steps 0–8, §3.3 subscription tokens, §5.2–5.4 positioning/recovery).
import { Buffer } from 'node:buffer';
import { InvalidTokenError, TokenExpiredError, type BoolOverride, type SubscribeTokenClaims } from '../../auth/types.js';
import { Disconnects, Errors } from '../../protocol/errors.js';
import type { SubscribeRequest } from '../../protocol/types.js';
import { isMapNamespace } from '../map/options.js';
import { canSubscribe, resolveSubscribeOptions } from '../permissions.js';
import type { Session } from '../session.js';
import { establish, isSubscriptionGone, type EstablishInput, type Established } from '../subscribe-flow.js';
import type { ResolvedChannel } from '../channels.js';
import type { ProxyClient } from '../../proxy/types.js';
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

/** What allowed a subscription beyond the namespace: a token's or the subscribe proxy's grant. */
interface Grant {
  readonly override: BoolOverride | undefined;
  readonly chanInfo: Uint8Array | undefined;
  readonly data: Uint8Array | undefined;
  /** Unix seconds; 0 = none. */
  readonly expireAt: number;
  /** Granted by the subscribe proxy: the namespace options and the backend's override apply, not the client's flags. */
  readonly proxied: boolean;
}

/** A subscription the namespace alone allows. */
const NO_GRANT: Grant = Object.freeze({ override: undefined, chanInfo: undefined, data: undefined, expireAt: 0, proxied: false });
/** The client's flags of a proxied subscription: none count. */
const NO_FLAGS = Object.freeze({});

/**
 * Runs a subscribe command. Without a token, a proxy or a wait for the engine (a channel the broker already
 * holds, no presence, no history), it completes synchronously and returns undefined; otherwise it returns what it
 * waits for. Errors (ProtocolError/Disconnect/other) are thrown or rejected.
 */
export function handleSubscribe(s: Session, id: number, req: SubscribeRequest): Promise<void> | undefined {
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

  if (req.token !== undefined && req.token !== '') {
    return verifySubscribeToken(s, req.token, channel).then((claims) =>
      subscribeWith(s, id, req, r, tagsFilter, {
        override: claims.override,
        chanInfo: claims.info,
        data: claims.data,
        expireAt: subExpireAt(claims),
        proxied: false,
      }),
    );
  }
  if (r.isPrivate) throw Errors.permissionDenied();
  // User-limited channels keep their own rule (Centrifugo asks the proxies only about the others).
  if (r.options.subscribe_stream_proxy_enabled && r.allowedUsers === undefined) return subscribeStream(s, id, req, r);
  if (r.options.subscribe_proxy_enabled && r.allowedUsers === undefined) {
    const proxy = ctx.proxies.subscribe(r.options.subscribe_proxy_name);
    if (proxy === undefined) throw Errors.notAvailable();
    return subscribeThroughProxy(s, id, req, r, tagsFilter, proxy);
  }
  if (!canSubscribe({ r, user: s.user, insecure: cfg.client.insecure })) throw Errors.permissionDenied();
  return subscribeWith(s, id, req, r, tagsFilter, NO_GRANT);
}

async function subscribeThroughProxy(
  s: Session,
  id: number,
  req: SubscribeRequest,
  r: ResolvedChannel,
  tagsFilter: TagsFilter | undefined,
  proxy: ProxyClient,
): Promise<void> {
  const granted = await proxySubscribe(s, proxy, r.channel, req.data);
  if (s.closed) return;
  await subscribeWith(s, id, req, r, tagsFilter, {
    override: granted.override,
    chanInfo: granted.info,
    data: granted.data,
    expireAt: granted.expireAt,
    proxied: true,
  });
}

/** The allowed subscription: options, then establish, the reply and live delivery. */
function subscribeWith(
  s: Session,
  id: number,
  req: SubscribeRequest,
  r: ResolvedChannel,
  tagsFilter: TagsFilter | undefined,
  g: Grant,
): Promise<void> | undefined {
  const channel = r.channel;
  if (g.expireAt > 0 && g.expireAt <= nowSeconds()) throw Errors.expired();
  if (s.subs.has(channel)) throw Errors.alreadySubscribed(); // subscribed again while the token or proxy answered

  const opts = resolveSubscribeOptions({
    r,
    // The request's positioned / recoverable / join_leave flags.
    req: g.proxied ? NO_FLAGS : req,
    user: s.user,
    insecure: s.ctx.config.client.insecure,
    override: g.override,
  });
  const input: EstablishInput = {
    r,
    serverSide: false,
    flags: opts,
    recover: req.recover === true,
    offset: req.offset ?? 0,
    epoch: req.epoch ?? '',
    rejectUnrecovered: ((req.flag ?? 0) & REJECT_UNRECOVERED) !== 0,
    expireAt: g.expireAt,
    // With a sub_refresh proxy the server refreshes the subscription: the client is not told it expires.
    clientExpires: !r.options.sub_refresh_proxy_enabled,
  };
  if (g.chanInfo !== undefined) input.chanInfo = g.chanInfo;
  if (g.data !== undefined) input.data = g.data;
  // Delta compression: granted when the namespace allows the requested type (otherwise full payloads, as Centrifugo).
  if (req.delta === 'fossil' && r.options.allowed_delta_types.includes('fossil')) input.delta = true;
  if (tagsFilter !== undefined) input.tagsFilter = tagsFilter;
  let est: Established | Promise<Established>;
  try {
    est = establish(s, input);
  } catch (err) {
    if (isSubscriptionGone(err) && s.closed) return undefined;
    throw err;
  }
  if (!(est instanceof Promise)) {
    subscribed(s, id, est);
    return undefined;
  }
  return est.then(
    (e) => subscribed(s, id, e),
    (err: unknown) => {
      if (isSubscriptionGone(err) && s.closed) return;
      throw err;
    },
  );
}

function subscribed(s: Session, id: number, est: Established): void {
  s.sendReply({ id, subscribe: est.result });
  est.complete();
}
