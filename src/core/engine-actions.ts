// Centrifugo's node actions on history and presence (centrifugo_node_action_count: add_presence,
// remove_presence, presence, presence_stats, history, history_remove). The engine's stores are wrapped once, when
// the node is built, so every caller (client commands, the server API, recovery, presence refresh) is counted the
// same way. As in Centrifugo every history read counts `history`; the reads that are a recovery or a stream-top
// check also count their own action (history_recover, history_recover_cache, history_stream_top) where they are
// made (./subscribe-flow.ts, ./session-timers.ts), since the read's options alone do not tell an API history call
// with limit 0 from a stream-top check.
import type { Engine, HistoryStore, PresenceManager } from '../engines/types.js';
import { countAction } from '../metrics/observe.js';

function countedHistory(history: HistoryStore): HistoryStore {
  return {
    append: (channel, pub, opts) => history.append(channel, pub, opts),
    read: (channel, opts) => {
      countAction('history');
      return history.read(channel, opts);
    },
    remove: (channel) => {
      countAction('history_remove');
      return history.remove(channel);
    },
  };
}

function countedPresence(presence: PresenceManager): PresenceManager {
  return {
    add: (channel, clientId, info) => {
      countAction('add_presence');
      return presence.add(channel, clientId, info);
    },
    remove: (channel, clientId, userId) => {
      countAction('remove_presence');
      return presence.remove(channel, clientId, userId);
    },
    get: (channel) => {
      countAction('presence');
      return presence.get(channel);
    },
    stats: (channel) => {
      countAction('presence_stats');
      return presence.stats(channel);
    },
    close: () => presence.close(),
  };
}

/**
 * The engine as the core sees it: the same broker and controller, with history and presence counted
 * (channel_namespace "", as Centrifugo labels every action: src/metrics/observe.ts).
 */
export function withActionCounts(engine: Engine): Engine {
  const history = engine.history === undefined ? undefined : countedHistory(engine.history);
  const presence = countedPresence(engine.presence);
  const counted: Engine = {
    name: engine.name,
    broker: engine.broker,
    presence,
    controller: engine.controller,
    close: () => engine.close(),
    ...(history === undefined ? {} : { history }),
    ...(engine.health === undefined ? {} : { health: () => engine.health!() }),
  };
  return counted;
}
