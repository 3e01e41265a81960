// Client `history` (docs/protocol.md §5.5): 102, 107, 108 without history, 103, reverse+since.offset 0 ⇒ 107,
// epoch mismatch ⇒ 112; limit capped by client.history_max_publication_limit.
import { UnrecoverablePositionError } from '../../engines/types.js';
import { Errors } from '../../protocol/errors.js';
import type { HistoryRequest } from '../../protocol/types.js';
import { canHistory } from '../permissions.js';
import type { Session } from '../session.js';
import { isSubscribed, requireChannel, resolveForClient } from './common.js';

export async function handleHistory(s: Session, id: number, req: HistoryRequest): Promise<void> {
  const ctx = s.ctx;
  const channel = requireChannel(req.channel);
  const r = resolveForClient(s, channel);
  const history = ctx.engine.history;
  if (!r.hasHistory || history === undefined) throw Errors.notAvailable();
  if (!canHistory({ r, user: s.user, insecure: ctx.config.client.insecure, subscribed: isSubscribed(s, channel) })) {
    throw Errors.permissionDenied();
  }
  if (req.reverse === true && req.since !== undefined && req.since.offset === 0) throw Errors.badRequest();
  let limit = req.limit ?? 0;
  const cap = ctx.config.client.history_max_publication_limit;
  if (cap > 0 && (limit < 0 || limit > cap)) limit = cap;
  try {
    const res = await history.read(channel, {
      limit,
      ...(req.since !== undefined ? { since: { offset: req.since.offset ?? 0, epoch: req.since.epoch ?? '' } } : {}),
      ...(req.reverse === true ? { reverse: true } : {}),
      metaTtlMs: ctx.publisher.metaTtl(r.options),
    });
    s.sendReply({
      id,
      history: { publications: res.publications, epoch: res.position.epoch, offset: res.position.offset },
    });
  } catch (err) {
    if (err instanceof UnrecoverablePositionError) throw Errors.unrecoverablePosition();
    throw err;
  }
}
