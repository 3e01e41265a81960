// Counts around the map broker, as Centrifugo's node does for every map publish and remove (client, API and
// presence ones alike): node_action_count{action=map_publish|map_remove}, node_messages_sent_count{type=
// map_publication|map_removal}, and the suppressed ones by reason (centrifugo_map_broker_*_suppressed_count), all
// with channel_namespace "" as in Centrifugo 6.9.1 (src/metrics/observe.ts).
import type { MapBroker, MapUpdateResult } from '../../engines/map-types.js';
import { mapBrokerMetrics } from '../../metrics/map-broker.js';
import { metrics } from '../../metrics/registry.js';
import { countAction } from '../../metrics/observe.js';

const MAP_PUBLICATION = { type: 'map_publication', channel_namespace: '' } as const;
const MAP_REMOVAL = { type: 'map_removal', channel_namespace: '' } as const;

export function withMapMetrics(broker: MapBroker): MapBroker {
  const counted = async (
    op: 'publish' | 'remove',
    run: () => Promise<MapUpdateResult>,
  ): Promise<MapUpdateResult> => {
    countAction(op === 'publish' ? 'map_publish' : 'map_remove');
    metrics.messagesSent.inc(op === 'publish' ? MAP_PUBLICATION : MAP_REMOVAL);
    const r = await run();
    if (r.suppressed) {
      const counter = op === 'publish' ? mapBrokerMetrics.publishSuppressed : mapBrokerMetrics.removeSuppressed;
      counter.inc({ reason: r.suppressReason, channel_namespace: '' });
    }
    return r;
  };
  return {
    start: (h) => broker.start(h),
    publish: (channel, key, settings, input) => counted('publish', () => broker.publish(channel, key, settings, input)),
    remove: (channel, key, settings, input) => counted('remove', () => broker.remove(channel, key, settings, input)),
    readState: (channel, opts) => broker.readState(channel, opts),
    readStream: (channel, opts) => broker.readStream(channel, opts),
    stats: (channel) => broker.stats(channel),
    clear: (channel) => broker.clear(channel),
    close: () => broker.close(),
  };
}
