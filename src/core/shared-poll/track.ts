// sub_refresh with type 1 (track) and 2 (untrack) on a shared poll subscription (docs/shared-poll.md). A track
// request carries signed batches; every batch's signature must check out for this user, channel and exact key list
// (103 otherwise, 109 when expired). Keys are deduplicated (the last batch wins), the per-connection limit
// max_keys_per_connection is checked net of the request's inline untrack (106), and the reply's ttl is the
// earliest signature expiry. Data then comes as publications: new keys are polled at once, known ones re-sent.
import { Errors } from '../../protocol/errors.js';
import type { SubRefreshRequest, SubRefreshResult } from '../../protocol/types.js';
import { nowSeconds } from '../commands/common.js';
import type { Session } from '../session.js';
import type { SharedPollSub } from './connection.js';
import { pollOptions } from './options.js';
import { checkTrackSignature } from './signature.js';

export const SUB_REFRESH_TRACK = 1;
export const SUB_REFRESH_UNTRACK = 2;

export function handleTrack(s: Session, id: number, sp: SharedPollSub, req: SubRefreshRequest): Promise<void> {
  const batches = req.track ?? [];
  if (batches.length === 0) throw Errors.badRequest();
  const flat = new Map<string, { version: number; batch: number }>();
  batches.forEach((b, i) => {
    for (const it of b.items) flat.set(it.key, { version: it.version ?? 0, batch: i });
  });
  if (flat.size === 0) throw Errors.badRequest();
  const untrack = new Set(req.untrack ?? []);
  const r = s.ctx.resolver.resolve(sp.channel);
  const opts = pollOptions(r.options.shared_poll);
  let added = 0;
  for (const key of flat.keys()) if (!sp.tracked.has(key) && !untrack.has(key)) added++;
  let freed = 0;
  for (const key of untrack) if (sp.tracked.has(key)) freed++;
  if (sp.tracked.size - freed + added > opts.maxKeysPerConnection) throw Errors.limitExceeded();

  const manager = s.ctx.sharedPoll;
  const cfg = s.ctx.config.shared_poll;
  if (manager === undefined || cfg === undefined || cfg.hmac_secret_key === '') throw Errors.internal();
  const now = nowSeconds();
  const expiries = batches.map((b) => {
    const check = checkTrackSignature(cfg, b.signature, sp.channel, b.items.map((it) => it.key), s.user, now);
    if (!check.ok) throw check.reason === 'expired' ? Errors.tokenExpired() : Errors.permissionDenied();
    return check.expiresAt;
  });

  let minExpireAt = 0;
  const items: Array<{ key: string; version: number }> = [];
  for (const [key, f] of flat) {
    const expireAt = expiries[f.batch] ?? 0;
    sp.tracked.set(key, { version: f.version, expireAt });
    if (expireAt > 0 && (minExpireAt === 0 || expireAt < minExpireAt)) minExpireAt = expireAt;
    items.push({ key, version: f.version });
  }
  if (minExpireAt > 0 && (sp.minExpireAt === 0 || minExpireAt < sp.minExpireAt)) sp.minExpireAt = minExpireAt;
  const outcome = manager.track(sp, opts, items);

  const result: SubRefreshResult = {};
  if (minExpireAt > 0) {
    result.expires = true;
    if (minExpireAt > now) result.ttl = minExpireAt - now;
  }
  s.sendReply({ id, sub_refresh: result });
  manager.serve(sp.channel, outcome);

  // Keys of the signed batches the client has dropped since it got the signature.
  const gone = [...untrack].filter((key) => sp.tracked.delete(key));
  if (gone.length > 0) manager.untrack(sp, gone);
  return Promise.resolve();
}

export function handleUntrack(s: Session, id: number, sp: SharedPollSub, req: SubRefreshRequest): Promise<void> {
  const keys = req.untrack ?? [];
  if (keys.length === 0) throw Errors.badRequest();
  const gone = keys.filter((key) => sp.tracked.delete(key));
  if (gone.length > 0) s.ctx.sharedPoll?.untrack(sp, gone);
  s.sendReply({ id, sub_refresh: {} });
  return Promise.resolve();
}
