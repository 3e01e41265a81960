// Command dispatch: one handler per command kind (exhaustive).
import type { Command } from '../../protocol/types.js';
import type { Session } from '../session.js';
import { handleConnect } from './connect.js';
import { handleHistory } from './history.js';
import { handlePresence } from './presence.js';
import { handlePresenceStats } from './presence-stats.js';
import { handlePublish } from './publish.js';
import { handleRefresh } from './refresh.js';
import { handleRpc } from './rpc.js';
import { handleSend } from './send.js';
import { handleSubRefresh } from './sub-refresh.js';
import { handleSubscribe } from './subscribe.js';
import { handleUnsubscribe } from './unsubscribe.js';
import { handleMapPublish } from '../map/publish.js';
import { handleMapSubscribe } from '../map/subscribe.js';
import { isSharedPollChannel } from '../shared-poll/subscribe.js';

function assertNever(x: never): never {
  throw new Error(`unexpected command ${String(x)}`);
}

/**
 * Runs one command. Replies are written by the handler; errors (ProtocolError/Disconnect/other) are thrown or
 * rejected. Undefined: the command completed at once (connect and subscribe can; core/session.ts).
 */
export function dispatchCommand(s: Session, cmd: Command): Promise<void> | undefined {
  switch (cmd.kind) {
    case 'connect':
      return handleConnect(s, cmd.id, cmd.connect);
    case 'subscribe': {
      const t = cmd.subscribe.type ?? 0;
      // Types 1–3 are map subscriptions (core/map); a shared poll channel answers any of them itself (107).
      const map = t >= 1 && t <= 3 && !isSharedPollChannel(s, cmd.subscribe.channel);
      return map ? handleMapSubscribe(s, cmd.id, cmd.subscribe) : handleSubscribe(s, cmd.id, cmd.subscribe);
    }
    case 'unsubscribe':
      return handleUnsubscribe(s, cmd.id, cmd.unsubscribe);
    case 'publish':
      return cmd.publish.type === 1 ? handleMapPublish(s, cmd.id, cmd.publish) : handlePublish(s, cmd.id, cmd.publish);
    case 'presence':
      return handlePresence(s, cmd.id, cmd.presence);
    case 'presence_stats':
      return handlePresenceStats(s, cmd.id, cmd.presence_stats);
    case 'history':
      return handleHistory(s, cmd.id, cmd.history);
    case 'rpc':
      return handleRpc(s, cmd.id, cmd.rpc);
    case 'send':
      return handleSend(s, cmd.id, cmd.send);
    case 'refresh':
      return handleRefresh(s, cmd.id, cmd.refresh);
    case 'sub_refresh':
      return handleSubRefresh(s, cmd.id, cmd.sub_refresh);
    case 'pong':
    case 'unknown':
      // Handled by the session before dispatch.
      return undefined;
    default:
      return assertNever(cmd);
  }
}
