// Client `refresh` (docs/protocol.md §3.4): 3501 empty token, 3005 expired, 3500 invalid / user mismatch, 110 past
// expiration, 3010 when token channels/subs changed; reply {expires, ttl}.
import { InvalidTokenError, TokenExpiredError, type ConnectTokenClaims } from '../../auth/types.js';
import { Disconnects, Errors } from '../../protocol/errors.js';
import type { RefreshRequest, RefreshResult } from '../../protocol/types.js';
import type { Session } from '../session.js';
import { nowSeconds, ttlSeconds } from './common.js';
import { connExpireAt, tokenSubList } from './connect.js';
import { refreshConnection } from './refresh-proxy.js';

export async function handleRefresh(s: Session, id: number, req: RefreshRequest): Promise<void> {
  const proxy = s.ctx.proxies.refresh;
  if (proxy !== undefined) {
    // With a refresh proxy the backend answers a client's refresh too, token or not (as in Centrifugo).
    await refreshConnection(s, proxy);
    if (s.closed) return;
    s.sendReply({ id, refresh: s.expireAt > 0 ? { expires: true, ttl: ttlSeconds(s.expireAt) } : {} });
    return;
  }
  if (req.token === undefined || req.token === '') throw Disconnects.badRequest();
  let claims: ConnectTokenClaims;
  try {
    claims = await s.ctx.tokenVerifier.verifyConnectToken(req.token);
  } catch (err) {
    if (err instanceof TokenExpiredError) throw Disconnects.expired();
    if (err instanceof InvalidTokenError) throw Disconnects.invalidToken();
    throw err;
  }
  if (claims.sub !== s.user) throw Disconnects.invalidToken();
  const expireAt = s.ctx.config.client.insecure ? 0 : connExpireAt(claims);
  if (expireAt > 0 && expireAt <= nowSeconds()) throw Errors.expired();
  const channels = tokenSubList(claims)
    .map(([ch]) => ch)
    .sort();
  const current = s.tokenChannels;
  if (channels.length !== current.length || channels.some((ch, i) => ch !== current[i])) {
    throw Disconnects.insufficientState();
  }
  // Like Centrifugo: a token without exp leaves the previous expiration in place.
  if (expireAt > 0) s.expireAt = expireAt;
  if (claims.info !== undefined) s.connInfo = claims.info;
  s.timers.armExpire();
  const result: RefreshResult = {};
  if (expireAt > 0) {
    result.expires = true;
    result.ttl = ttlSeconds(expireAt);
  }
  s.sendReply({ id, refresh: result });
}
