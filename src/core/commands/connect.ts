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
import { proxyConnect, type ProxyCredentials } from './connect-proxy.js';
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

export async function verifyConnectToken(s: Session, token: string): Promise<ConnectTokenClaims> {
  try {
    return await s.ctx.tokenVerifier.verifyConnectToken(token);
  } catch (err) {
    if (err instanceof TokenExpiredError) throw Errors.tokenExpired();
    if (err instanceof InvalidTokenError) throw Disconnects.invalidToken();
    throw err;
  }
}

export function personalChannel(s: Session, user: string): string | undefined {
  const p = s.ctx.config.client.subscribe_to_user_personal_channel;
  if (!p.enabled || user === '') return undefined;
  const ch = s.ctx.config.channel;
  const prefix = p.personal_channel_namespace !== '' ? p.personal_channel_namespace + ch.namespace_boundary : '';
  return prefix + ch.user_boundary + user;
}

export async function handleConnect(s: Session, id: number, req: ConnectRequest): Promise<void> {
  const ctx = s.ctx;
  const c = ctx.config.client;
  if (ctx.shuttingDown) throw Disconnects.shutdown();

  let user: string;
  let info: Uint8Array | undefined;
  let expireAt = 0;
  let connectData: Uint8Array | undefined;
  const serverSubs = new Map<string, ServerSub>();
  const tokenChannels: string[] = [];
  let credentials: ProxyCredentials | undefined;
  if ((req.token === undefined || req.token === '') && ctx.proxies.connect !== undefined) {
    credentials = await proxyConnect(s, ctx.proxies.connect, req);
    if (s.closed) return;
  }
  if (credentials !== undefined) {
    user = credentials.user;
    info = credentials.info;
    expireAt = credentials.expireAt;
    connectData = credentials.data;
    for (const [channel, sub] of credentials.subs) serverSubs.set(channel, sub);
  } else if (req.token !== undefined && req.token !== '') {
    const claims = await verifyConnectToken(s, req.token);
    if (claims.sub === '' && c.disallow_anonymous_connection_tokens) throw Disconnects.permissionDenied();
    user = claims.sub;
    info = claims.info;
    if (claims.meta !== undefined) setConnectionMeta(s, new TextEncoder().encode(JSON.stringify(claims.meta)));
    expireAt = c.insecure ? 0 : connExpireAt(claims);
    for (const [channel, opts] of tokenSubList(claims)) {
      const r = ctx.resolver.resolve(channel); // unknown namespace ⇒ 102
      serverSubs.set(channel, { r, opts });
      tokenChannels.push(channel);
    }
  } else if (c.allow_anonymous_connect_without_token || c.insecure) {
    user = '';
  } else if (ctx.proxies.connect !== undefined) {
    throw Disconnects.badRequest(); // the backend gave no credentials (Centrifugo: 3501)
  } else {
    const header = c.user_id_http_header !== '' ? s.transport.info.headers[c.user_id_http_header.toLowerCase()] : undefined;
    const value = Array.isArray(header) ? header[0] : header;
    if (value === undefined || value === '') throw Disconnects.badRequest();
    user = value;
  }
  s.clientName = req.name ?? '';
  s.clientVersion = req.version ?? '';

  if (c.user_connection_limit > 0 && user !== '') {
    const n = ctx.hub.userSessions(user)?.size ?? 0;
    if (n >= c.user_connection_limit) throw Disconnects.connectionLimit();
  }
  if (expireAt > 0 && expireAt <= nowSeconds()) throw Errors.expired();

  const personal = personalChannel(s, user);
  if (personal !== undefined && !serverSubs.has(personal)) {
    serverSubs.set(personal, { r: ctx.resolver.resolve(personal), opts: {} });
  }
  // Recovery hints for server-side subscriptions the client had (§4.7).
  if (req.subs !== undefined) {
    for (const channel of Object.keys(req.subs)) {
      if (serverSubs.has(channel) || channel === '') continue;
      let r: ResolvedChannel;
      try {
        r = ctx.resolver.resolve(channel);
      } catch {
        throw Disconnects.badRequest();
      }
      if (r.isPrivate || !canSubscribe({ r, user, insecure: c.insecure })) continue;
      serverSubs.set(channel, { r, opts: {} });
    }
  }
  if (c.channel_limit > 0 && serverSubs.size > c.channel_limit) throw Disconnects.channelLimit();

  s.user = user;
  s.connInfo = info;
  s.expireAt = expireAt;
  s.tokenChannels = tokenChannels.sort();

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
  if (s.closed) return;

  s.state = SessionState.Connected;
  ctx.hub.addSession(s);
  if (personal !== undefined && c.subscribe_to_user_personal_channel.single_connection) {
    for (const other of [...(ctx.hub.userSessions(user) ?? [])]) {
      if (other !== s) other.close(Disconnects.connectionLimit());
    }
  }

  const result: ConnectResult = { client: s.id, version: ctx.version };
  if (connectData !== undefined) result.data = connectData;
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
  if (established.length > 0) result.subs = subsResult;
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
