// Counts around the map broker, as Centrifugo's node does for every map publish and remove (client, API and
// presence ones alike): node_action_count{action=map_publish|map_remove}, node_messages_sent_count{type=
// map_publication|map_removal}, and the suppressed ones by reason (centrifugo_map_broker_*_suppressed_count).
import type { MapBroker } from '../../engines/map-types.js';
import { mapBrokerMetrics } from '../../metrics/map-broker.js';
import { metrics } from '../../metrics/registry.js';
import { countAction } from '../../metrics/observe.js';

export function withMapMetrics(broker: MapBroker, namespaceOf: (channel: string) => string): MapBroker {
  return {
    start: (h) => broker.start(h),
    async publish(channel, key, settings, input) {
      const ns = namespaceOf(channel);
      countAction('map_publish', ns);
      metrics.messagesSent.inc({ type: 'map_publication', channel_namespace: ns });
      const r = await broker.publish(channel, key, settings, input);
      if (r.suppressed) mapBrokerMetrics.publishSuppressed.inc({ reason: r.suppressReason, channel_namespace: ns });
      return r;
    },
    async remove(channel, key, settings, input) {
      const ns = namespaceOf(channel);
      countAction('map_remove', ns);
      metrics.messagesSent.inc({ type: 'map_removal', channel_namespace: ns });
      const r = await broker.remove(channel, key, settings, input);
      if (r.suppressed) mapBrokerMetrics.removeSuppressed.inc({ reason: r.suppressReason, channel_namespace: ns });
      return r;
    },
    readState: (channel, opts) => broker.readState(channel, opts),
    readStream: (channel, opts) => broker.readStream(channel, opts),
    stats: (channel) => broker.stats(channel),
    clear: (channel) => broker.clear(channel),
    close: () => broker.close(),
  };
}
