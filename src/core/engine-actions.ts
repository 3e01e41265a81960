// Centrifugo's node actions on history and presence (centrifugo_node_action_count: add_presence,
// remove_presence, presence, presence_stats, history, history_recover, history_recover_cache,
// history_stream_top, history_remove). The engine's stores are wrapped once, when the node is built, so every
// caller (client commands, the server API, recovery, presence refresh) is counted the same way and no call site
// needs to know about metrics.
import type { Engine, HistoryReadOptions, HistoryStore, PresenceManager } from '../engines/types.js';
import { countAction } from '../metrics/observe.js';

/** Which of Centrifugo's history actions a read is. */
export function historyAction(opts: HistoryReadOptions): string {
  if (opts.limit === 0) return 'history_stream_top';
  if (opts.since !== undefined) return 'history_recover';
  // The cache recovery mode reads the newest publication only.
  if (opts.reverse === true && opts.limit === 1) return 'history_recover_cache';
  return 'history';
}

function countedHistory(history: HistoryStore, namespaceOf: (channel: string) => string): HistoryStore {
  return {
    append: (channel, pub, opts) => history.append(channel, pub, opts),
    read: (channel, opts) => {
      countAction(historyAction(opts), namespaceOf(channel));
      return history.read(channel, opts);
    },
    remove: (channel) => {
      countAction('history_remove', namespaceOf(channel));
      return history.remove(channel);
    },
  };
}

function countedPresence(presence: PresenceManager, namespaceOf: (channel: string) => string): PresenceManager {
  return {
    add: (channel, clientId, info) => {
      countAction('add_presence', namespaceOf(channel));
      return presence.add(channel, clientId, info);
    },
    remove: (channel, clientId, userId) => {
      countAction('remove_presence', namespaceOf(channel));
      return presence.remove(channel, clientId, userId);
    },
    get: (channel) => {
      countAction('presence', namespaceOf(channel));
      return presence.get(channel);
    },
    stats: (channel) => {
      countAction('presence_stats', namespaceOf(channel));
      return presence.stats(channel);
    },
    close: () => presence.close(),
  };
}

/**
 * The engine as the core sees it: the same broker and controller, with history and presence counted.
 * `namespaceOf` maps a channel to its namespace label ('' when none or unknown), bounded by the configuration.
 */
export function withActionCounts(engine: Engine, namespaceOf: (channel: string) => string): Engine {
  const history = engine.history === undefined ? undefined : countedHistory(engine.history, namespaceOf);
  const presence = countedPresence(engine.presence, namespaceOf);
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
