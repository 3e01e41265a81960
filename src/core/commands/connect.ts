// Client `connect` (docs/protocol.md §3.1, §3.2, §3.4, §4.7): credentials, limits, server-side subscriptions,
// ConnectResult, then joins and timers.
import { InvalidTokenError, TokenExpiredError, type ConnectTokenClaims, type TokenSubOptions } from '../../auth/types.js';
import { Disconnect, Disconnects, Errors } from '../../protocol/errors.js';
import { DisconnectCode } from '../../protocol/codes.js';
import type { ConnectRequest, ConnectResult, SubscribeResult } from '../../protocol/types.js';
import { hot } from '../../metrics/registry.js';
import type { ResolvedChannel } from '../channels.js';
import { canSubscribe, resolveSubscribeOptions } from '../permissions.js';
import type { Session } from '../session.js';
import { SessionState } from '../session-state.js';
import { establish, isSubscriptionGone, type Established } from '../subscribe-flow.js';
import { nowSeconds, ttlSeconds } from './common.js';
import { proxyConnect } from './connect-proxy.js';
import type { ProxyClient } from '../../proxy/types.js';
import { setConnectionMeta } from './proxied.js';

interface ServerSub {
  r: ResolvedChannel;
  opts: TokenSubOptions;
}

/** Connection expiration from claims: expire_at overrides exp (0 = never). */
export function connExpireAt(claims: { exp?: number; expire_at?: number }): number {
  if (claims.expire_at !== undefined) return claims.expire_at > 0 ? claims.expire_at : 0;
  return claims.exp ?? 0;
}

/**
 * One shared empty list for the common token without server-side channels. A fresh `[].map(...)` result here made
 * V8 throw away the optimised handleConnect once per process: the empty array that optimised code builds for
 * `map` has another map than the one the interpreter built, and the `for…of` over it checked that map.
 */
const NO_TOKEN_SUBS: ReadonlyArray<readonly [string, TokenSubOptions]> = Object.freeze([]);

/** Token server-side channels: `subs` keys when non-empty, else `channels`. */
export function tokenSubList(claims: ConnectTokenClaims): ReadonlyArray<readonly [string, TokenSubOptions]> {
  if (claims.subs !== undefined && Object.keys(claims.subs).length > 0) return Object.entries(claims.subs);
  const channels = claims.channels;
  if (channels === undefined || channels.length === 0) return NO_TOKEN_SUBS;
  return channels.map((ch): [string, TokenSubOptions] => [ch, {}]);
}

/** Token errors as protocol errors: expired ⇒ 109, invalid ⇒ 3500. */
function connectTokenError(err: unknown): unknown {
  if (err instanceof TokenExpiredError) return Errors.tokenExpired();
  if (err instanceof InvalidTokenError) return Disconnects.invalidToken();
  return err;
}

/** The token's claims, at once when the verifier can check it without waiting (HMAC keys), else a Promise. */
export function connectTokenClaims(s: Session, token: string): ConnectTokenClaims | Promise<ConnectTokenClaims> {
  let claims: ConnectTokenClaims | Promise<ConnectTokenClaims>;
  try {
    claims = s.ctx.tokenVerifier.checkConnectToken(token);
  } catch (err) {
    throw connectTokenError(err);
  }
  if (!(claims instanceof Promise)) return claims;
  return claims.catch((err: unknown) => {
    throw connectTokenError(err);
  });
}

export function personalChannel(s: Session, user: string): string | undefined {
  const p = s.ctx.config.client.subscribe_to_user_personal_channel;
  if (!p.enabled || user === '') return undefined;
  const ch = s.ctx.config.channel;
  const prefix = p.personal_channel_namespace !== '' ? p.personal_channel_namespace + ch.namespace_boundary : '';
  return prefix + ch.user_boundary + user;
}

/** What the credentials gave: the user, their info and expiry, ConnectResult.data, and server-side channels. */
interface Credentials {
  user: string;
  info: Uint8Array | undefined;
  /** Unix seconds; 0 = never. */
  expireAt: number;
  data: Uint8Array | undefined;
  /** Server-side subscriptions by channel; undefined while there are none. */
  serverSubs: Map<string, ServerSub> | undefined;
  /** Channels of the token's server-side subscriptions (compared on refresh). */
  tokenChannels: string[];
}

/** The channels of a connection without token server-side subscriptions (shared, never changed). */
const NO_CHANNELS: readonly string[] = Object.freeze([]);
const NO_ESTABLISHED: readonly Established[] = Object.freeze([]);

function addServerSub(cr: Credentials, channel: string, sub: ServerSub): void {
  (cr.serverSubs ??= new Map()).set(channel, sub);
}

function hasServerSub(cr: Credentials, channel: string): boolean {
  return cr.serverSubs?.has(channel) === true;
}

/**
 * Runs a connect command. Without a connect proxy, with a token the verifier checks at once and without server-side
 * subscriptions to establish (a connect storm's common case), it completes synchronously and returns undefined;
 * otherwise it returns what it waits for. Errors (ProtocolError/Disconnect/other) are thrown or rejected.
 */
export function handleConnect(s: Session, id: number, req: ConnectRequest): Promise<void> | undefined {
  const ctx = s.ctx;
  if (ctx.shuttingDown) throw Disconnects.shutdown();
  const token = req.token;
  if ((token === undefined || token === '') && ctx.proxies.connect !== undefined) {
    return connectThroughProxy(s, id, req, ctx.proxies.connect);
  }
  if (token !== undefined && token !== '') {
    const claims = connectTokenClaims(s, token);
    if (claims instanceof Promise) return claims.then((cl) => connectWith(s, id, req, fromClaims(s, cl)));
    return connectWith(s, id, req, fromClaims(s, claims));
  }
  return connectWith(s, id, req, withoutToken(s));
}

async function connectThroughProxy(s: Session, id: number, req: ConnectRequest, proxy: ProxyClient): Promise<void> {
  const credentials = await proxyConnect(s, proxy, req);
  if (s.closed) return;
  if (credentials === undefined) {
    await connectWith(s, id, req, withoutToken(s));
    return;
  }
  const cr: Credentials = {
    user: credentials.user,
    info: credentials.info,
    expireAt: credentials.expireAt,
    data: credentials.data,
    serverSubs: undefined,
    tokenChannels: [],
  };
  for (const [channel, sub] of credentials.subs) addServerSub(cr, channel, sub);
  await connectWith(s, id, req, cr);
}

function fromClaims(s: Session, claims: ConnectTokenClaims): Credentials {
  const ctx = s.ctx;
  const c = ctx.config.client;
  if (claims.sub === '' && c.disallow_anonymous_connection_tokens) throw Disconnects.permissionDenied();
  if (claims.meta !== undefined) setConnectionMeta(s, new TextEncoder().encode(JSON.stringify(claims.meta)));
  const cr: Credentials = {
    user: claims.sub,
    info: claims.info,
    expireAt: c.insecure ? 0 : connExpireAt(claims),
    data: undefined,
    serverSubs: undefined,
    tokenChannels: [],
  };
  for (const [channel, opts] of tokenSubList(claims)) {
    const r = ctx.resolver.resolve(channel); // unknown namespace ⇒ 102
    addServerSub(cr, channel, { r, opts });
    cr.tokenChannels.push(channel);
  }
  return cr;
}

/** No token and no connect proxy answer: anonymous access, or the user from `client.user_id_http_header`. */
function withoutToken(s: Session): Credentials {
  const ctx = s.ctx;
  const c = ctx.config.client;
  let user: string;
  if (c.allow_anonymous_connect_without_token || c.insecure) {
    user = '';
  } else if (ctx.proxies.connect !== undefined) {
    throw Disconnects.badRequest(); // the backend gave no credentials (Centrifugo: 3501)
  } else {
    const header = c.user_id_http_header !== '' ? s.transport.info.headers[c.user_id_http_header.toLowerCase()] : undefined;
    const value = Array.isArray(header) ? header[0] : header;
    if (value === undefined || value === '') throw Disconnects.badRequest();
    user = value;
  }
  return { user, info: undefined, expireAt: 0, data: undefined, serverSubs: undefined, tokenChannels: [] };
}

/** Limits, the personal channel and recovery hints, then the server-side subscriptions and the result. */
function connectWith(s: Session, id: number, req: ConnectRequest, cr: Credentials): Promise<void> | undefined {
  const ctx = s.ctx;
  const c = ctx.config.client;
  const user = cr.user;
  s.clientName = req.name ?? '';
  s.clientVersion = req.version ?? '';

  if (c.user_connection_limit > 0 && user !== '') {
    const n = ctx.hub.userSessions(user)?.size ?? 0;
    if (n >= c.user_connection_limit) throw Disconnects.connectionLimit();
  }
  if (cr.expireAt > 0 && cr.expireAt <= nowSeconds()) throw Errors.expired();

  const personal = personalChannel(s, user);
  if (personal !== undefined && !hasServerSub(cr, personal)) {
    addServerSub(cr, personal, { r: ctx.resolver.resolve(personal), opts: {} });
  }
  // Recovery hints for server-side subscriptions the client had (§4.7).
  if (req.subs !== undefined) {
    for (const channel of Object.keys(req.subs)) {
      if (hasServerSub(cr, channel) || channel === '') continue;
      let r: ResolvedChannel;
      try {
        r = ctx.resolver.resolve(channel);
      } catch {
        throw Disconnects.badRequest();
      }
      if (r.isPrivate || !canSubscribe({ r, user, insecure: c.insecure })) continue;
      addServerSub(cr, channel, { r, opts: {} });
    }
  }
  const serverSubs = cr.serverSubs;
  if (c.channel_limit > 0 && serverSubs !== undefined && serverSubs.size > c.channel_limit) throw Disconnects.channelLimit();

  s.user = user;
  s.connInfo = cr.info;
  s.expireAt = cr.expireAt;
  s.tokenChannels = cr.tokenChannels.length === 0 ? NO_CHANNELS : cr.tokenChannels.sort();

  if (serverSubs === undefined) {
    finishConnect(s, id, cr, personal, NO_ESTABLISHED, undefined);
    return undefined;
  }
  return establishServerSubs(s, id, req, cr, personal, serverSubs);
}

async function establishServerSubs(
  s: Session,
  id: number,
  req: ConnectRequest,
  cr: Credentials,
  personal: string | undefined,
  serverSubs: Map<string, ServerSub>,
): Promise<void> {
  const c = s.ctx.config.client;
  const user = cr.user;
  const established: Established[] = [];
  const subsResult: Record<string, SubscribeResult> = {};
  try {
    for (const [channel, { r, opts }] of serverSubs) {
      const flags = resolveSubscribeOptions({
        r,
        req: {},
        user,
        insecure: c.insecure,
        ...(opts.override !== undefined ? { override: opts.override } : {}),
      });
      const hint = req.subs?.[channel];
      const est = await establish(s, {
        r,
        serverSide: true,
        flags,
        recover: hint?.recover === true,
        offset: hint?.offset ?? 0,
        epoch: hint?.epoch ?? '',
        rejectUnrecovered: false,
        expireAt: 0,
        clientExpires: false,
        ...(opts.info !== undefined ? { chanInfo: opts.info } : {}),
        ...(opts.data !== undefined ? { data: opts.data } : {}),
      });
      established.push(est);
      subsResult[channel] = est.result;
    }
  } catch (err) {
    if (isSubscriptionGone(err) && s.closed) return;
    if (err instanceof Disconnect) throw err;
    // A failed server-side subscription after credentials were accepted: internal.
    s.internalError('connect server-side subscribe', err);
    throw Disconnect.of(DisconnectCode.InternalServerError);
  }
  finishConnect(s, id, cr, personal, established, subsResult);
}

/** The session is connected: registered, the result written, the server-side subscriptions live, timers on. */
function finishConnect(
  s: Session,
  id: number,
  cr: Credentials,
  personal: string | undefined,
  established: readonly Established[],
  subsResult: Record<string, SubscribeResult> | undefined,
): void {
  if (s.closed) return;
  const ctx = s.ctx;
  const c = ctx.config.client;
  const user = cr.user;
  const expireAt = cr.expireAt;

  s.state = SessionState.Connected;
  ctx.hub.addSession(s);
  if (personal !== undefined && c.subscribe_to_user_personal_channel.single_connection) {
    for (const other of [...(ctx.hub.userSessions(user) ?? [])]) {
      if (other !== s) other.close(Disconnects.connectionLimit());
    }
  }

  const result: ConnectResult = { client: s.id, version: ctx.version };
  if (cr.data !== undefined) result.data = cr.data;
  // With a refresh proxy the server refreshes the connection itself: the client is not told it expires.
  if (expireAt > 0 && ctx.proxies.refresh === undefined) {
    result.expires = true;
    result.ttl = ttlSeconds(expireAt);
  }
  const pingMs = s.timers.pingInterval;
  if (pingMs > 0) {
    // Whole seconds, rounded up: the client allows ping + maxServerPingDelay, so we must not under-advertise.
    result.ping = Math.ceil(pingMs / 1000);
    if (s.timers.pongExpected) result.pong = true;
  }
  if (established.length > 0 && subsResult !== undefined) result.subs = subsResult;
  if (s.sessionId !== '') result.session = s.sessionId;
  if (s.transport.info.emulation === true) result.node = ctx.nodeId;
  if (c.connect_include_server_time) result.time = Date.now();
  // A unidirectional transport gets the result as its first push (no reply channel there).
  if (s.uni) s.sendPush({ connect: result }, 'connect');
  else s.sendReply({ id, connect: result });
  for (let i = 0; i < established.length; i++) established[i]!.complete();
  s.timers.onConnected();
  const l = s.connectionLabels();
  hot.connectionsAccepted.inc(l.key, l.labels);
}
