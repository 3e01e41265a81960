// Client `sub_refresh` (docs/protocol.md §3.5): 3501 empty channel, 103 not subscribed, 107 empty token,
// 3500 invalid / channel, user or client mismatch. Deviation: an expired token is answered 109 (Centrifugo
// answers `{}`, flagged as a discrepancy in the spec).
import { InvalidTokenError, TokenExpiredError, type SubscribeTokenClaims } from '../../auth/types.js';
import { Disconnects, Errors } from '../../protocol/errors.js';
import type { SubRefreshRequest, SubRefreshResult } from '../../protocol/types.js';
import type { Session } from '../session.js';
import { isSubscribed, nowSeconds, requireChannel, ttlSeconds } from './common.js';
import { subExpireAt } from './subscribe.js';
import { SUB_REFRESH_TRACK, SUB_REFRESH_UNTRACK, handleTrack, handleUntrack } from '../shared-poll/track.js';

export async function handleSubRefresh(s: Session, id: number, req: SubRefreshRequest): Promise<void> {
  const channel = requireChannel(req.channel);
  const sub = s.subs.get(channel);
  if (sub === undefined || !isSubscribed(s, channel)) throw Errors.permissionDenied();
  if (sub.sharedPoll !== undefined && req.type === SUB_REFRESH_TRACK) return handleTrack(s, id, sub.sharedPoll, req);
  if (sub.sharedPoll !== undefined && req.type === SUB_REFRESH_UNTRACK) return handleUntrack(s, id, sub.sharedPoll, req);
  if (req.token === undefined || req.token === '') throw Errors.badRequest();
  let claims: SubscribeTokenClaims;
  try {
    claims = await s.ctx.tokenVerifier.verifySubscribeToken(req.token);
  } catch (err) {
    if (err instanceof TokenExpiredError) throw Errors.tokenExpired();
    if (err instanceof InvalidTokenError) throw Disconnects.invalidToken();
    throw err;
  }
  if (claims.channel !== channel || claims.sub !== s.user) throw Disconnects.invalidToken();
  if (claims.client !== undefined && claims.client !== '' && claims.client !== s.id) throw Disconnects.invalidToken();
  const expireAt = subExpireAt(claims);
  if (expireAt > 0 && expireAt <= nowSeconds()) throw Errors.expired();
  sub.expireAt = expireAt;
  if (claims.info !== undefined) sub.chanInfo = claims.info;
  const result: SubRefreshResult = {};
  if (expireAt > 0) {
    result.expires = true;
    result.ttl = ttlSeconds(expireAt);
  }
  s.sendReply({ id, sub_refresh: result });
}
