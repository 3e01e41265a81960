// Client `unsubscribe`: not subscribed ⇒ `{}`; server-side subscriptions stay (the client can't drop them).
import type { UnsubscribeRequest } from '../../protocol/types.js';
import type { Session } from '../session.js';
import { requireChannel } from './common.js';

export function handleUnsubscribe(s: Session, id: number, req: UnsubscribeRequest): Promise<void> {
  const channel = requireChannel(req.channel);
  const sub = s.subs.get(channel);
  if (sub !== undefined && !sub.serverSide) s.removeSubscription(sub);
  s.sendReply({ id, unsubscribe: {} });
  return Promise.resolve();
}
