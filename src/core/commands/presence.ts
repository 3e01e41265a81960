// Client `presence` (docs/protocol.md §4.6): 102, 107, 108 when presence is off, permission 103.
import { Errors } from '../../protocol/errors.js';
import type { ClientInfo, PresenceRequest } from '../../protocol/types.js';
import type { ResolvedChannel } from '../channels.js';
import { canPresence } from '../permissions.js';
import type { Session } from '../session.js';
import { isSubscribed, requireChannel, resolveForClient } from './common.js';

export function checkPresenceAccess(s: Session, channel: string): ResolvedChannel {
  const r = resolveForClient(s, channel);
  if (!r.options.presence) throw Errors.notAvailable();
  const insecure = s.ctx.config.client.insecure;
  if (!canPresence({ r, user: s.user, insecure, subscribed: isSubscribed(s, channel) })) {
    throw Errors.permissionDenied();
  }
  return r;
}

export async function handlePresence(s: Session, id: number, req: PresenceRequest): Promise<void> {
  const channel = requireChannel(req.channel);
  checkPresenceAccess(s, channel);
  const map = await s.ctx.engine.presence.get(channel);
  const presence: Record<string, ClientInfo> = {};
  for (const [clientId, info] of map) presence[clientId] = info;
  s.sendReply({ id, presence: { presence } });
}
