// Centrifugo's node message counts (centrifugo_node_messages_sent_count / _received_count for publication, join
// and leave) taken at the broker seam: the engine's broker is wrapped once, when the node is built, so every
// publish (client, server API, broadcast) and every join and leave is counted as it is handed to the broker, and
// every event the broker hands back as it arrives, before the fan-out looks for subscribers. A channel nobody
// here is subscribed to still counts as received when the broker is in-process (the memory engine hands it
// over: `onUnsubscribed`), as on Centrifugo's memory engine. No namespace label (../metrics/messages.ts).
import type { Broker, BrokerEventHandler, Engine } from '../engines/types.js';
import { countReceived, countSent } from '../metrics/messages.js';

function countingHandler(h: BrokerEventHandler): BrokerEventHandler {
  return {
    onPublication(channel, pub, position, publishedAtMs, prev) {
      countReceived('publication');
      h.onPublication(channel, pub, position, publishedAtMs, prev);
    },
    onJoin(channel, info) {
      countReceived('join');
      h.onJoin(channel, info);
    },
    onLeave(channel, info) {
      countReceived('leave');
      h.onLeave(channel, info);
    },
    onSubscriptionLost(channels) {
      h.onSubscriptionLost?.(channels);
    },
    onUnsubscribed(type, channel) {
      countReceived(type);
      h.onUnsubscribed?.(type, channel);
    },
  };
}

function countingBroker(broker: Broker): Broker {
  return {
    capabilities: broker.capabilities,
    start: (handler) => broker.start(countingHandler(handler)),
    subscribe: (channels) => broker.subscribe(channels),
    unsubscribe: (channels) => broker.unsubscribe(channels),
    publish: (channel, data, opts) => {
      countSent('publication');
      return broker.publish(channel, data, opts);
    },
    publishJoin: (channel, info) => {
      countSent('join');
      return broker.publishJoin(channel, info);
    },
    publishLeave: (channel, info) => {
      countSent('leave');
      return broker.publishLeave(channel, info);
    },
    close: () => broker.close(),
  };
}

/** The engine with its broker's messages counted. */
export function withMessageCounts(engine: Engine): Engine {
  const counted: Engine = {
    name: engine.name,
    broker: countingBroker(engine.broker),
    presence: engine.presence,
    controller: engine.controller,
    close: () => engine.close(),
    ...(engine.history === undefined ? {} : { history: engine.history }),
    ...(engine.health === undefined ? {} : { health: () => engine.health!() }),
  };
  return counted;
}
