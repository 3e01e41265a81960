// Client `presence_stats`: same checks as presence.
import type { PresenceStatsRequest } from '../../protocol/types.js';
import type { Session } from '../session.js';
import { requireChannel } from './common.js';
import { checkPresenceAccess } from './presence.js';

export async function handlePresenceStats(s: Session, id: number, req: PresenceStatsRequest): Promise<void> {
  const channel = requireChannel(req.channel);
  checkPresenceAccess(s, channel);
  const st = await s.ctx.engine.presence.stats(channel);
  s.sendReply({ id, presence_stats: { num_clients: st.numClients, num_users: st.numUsers } });
}
