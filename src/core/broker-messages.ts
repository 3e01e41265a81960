// Centrifugo's node message counts (centrifugo_node_messages_sent_count / _received_count for publication, join
// and leave) taken at the broker seam: the engine's broker is wrapped once, when the node is built, so every
// publish (client, server API, broadcast) and every join and leave is counted as it is handed to the broker, and
// every event the broker hands back as it arrives, before the fan-out looks for subscribers. A channel nobody
// here is subscribed to still counts as received when the broker is in-process (the memory engine hands it
// over: `onUnsubscribed`), as on Centrifugo's memory engine.
import type { Broker, BrokerEventHandler, Engine } from '../engines/types.js';
import { countReceived, countSent } from '../metrics/messages.js';

function countingHandler(h: BrokerEventHandler, namespaceOf: (channel: string) => string): BrokerEventHandler {
  return {
    onPublication(channel, pub, position, publishedAtMs, prev) {
      countReceived('publication', namespaceOf(channel));
      h.onPublication(channel, pub, position, publishedAtMs, prev);
    },
    onJoin(channel, info) {
      countReceived('join', namespaceOf(channel));
      h.onJoin(channel, info);
    },
    onLeave(channel, info) {
      countReceived('leave', namespaceOf(channel));
      h.onLeave(channel, info);
    },
    onSubscriptionLost(channels) {
      h.onSubscriptionLost?.(channels);
    },
    onUnsubscribed(type, channel) {
      countReceived(type, namespaceOf(channel));
      h.onUnsubscribed?.(type, channel);
    },
  };
}

function countingBroker(broker: Broker, namespaceOf: (channel: string) => string): Broker {
  return {
    capabilities: broker.capabilities,
    start: (handler) => broker.start(countingHandler(handler, namespaceOf)),
    subscribe: (channels) => broker.subscribe(channels),
    unsubscribe: (channels) => broker.unsubscribe(channels),
    publish: (channel, data, opts) => {
      countSent('publication', namespaceOf(channel));
      return broker.publish(channel, data, opts);
    },
    publishJoin: (channel, info) => {
      countSent('join', namespaceOf(channel));
      return broker.publishJoin(channel, info);
    },
    publishLeave: (channel, info) => {
      countSent('leave', namespaceOf(channel));
      return broker.publishLeave(channel, info);
    },
    close: () => broker.close(),
  };
}

/**
 * The engine with its broker's messages counted. `namespaceOf` maps a channel to its namespace label ('' when
 * none or unknown), bounded by the configuration.
 */
export function withMessageCounts(engine: Engine, namespaceOf: (channel: string) => string): Engine {
  const counted: Engine = {
    name: engine.name,
    broker: countingBroker(engine.broker, namespaceOf),
    presence: engine.presence,
    controller: engine.controller,
    close: () => engine.close(),
    ...(engine.history === undefined ? {} : { history: engine.history }),
    ...(engine.health === undefined ? {} : { health: () => engine.health!() }),
  };
  return counted;
}
