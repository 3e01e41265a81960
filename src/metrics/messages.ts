// The node's message counts. centrifugo_node_messages_sent_count / _received_count mean what they mean in
// Centrifugo: one `sent` per publication, join or leave the node hands to the broker (before the broker answers,
// so a publish the broker suppresses counts too), one `received` per one the broker hands to the node, however
// many subscribers it reaches (src/core/broker-messages.ts counts both at the broker seam). What reaches the
// clients is gyre_node_deliveries_total: one per message written to a local subscriber (fan-out) or pushed to a
// client (connect, refresh, unsubscribe). All batched (./batched.ts): these run once or more per publication.
// The two node message counts carry channel_namespace="" like Centrifugo 6.9.1's (it sets no namespace resolver,
// so every one of its series has the empty label); the per-namespace view is gyre_node_deliveries_total.
import type { LabelValues } from 'prom-client';
import { BatchedCounter } from './batched.js';
import { Children2, type BatchedLabels } from './children.js';
import { metrics } from './registry.js';

/** The broker messages Centrifugo counts per type (its `control` and map types are counted where they are sent). */
export type BrokerMessageType = 'publication' | 'join' | 'leave';

const sent = new BatchedCounter(metrics.messagesSent);
const received = new BatchedCounter(metrics.messagesReceived);
const deliveries = new BatchedCounter(metrics.deliveries);

/** The label set of each type, made once: the counts run per publication. */
const LABELS: Record<BrokerMessageType, { type: BrokerMessageType; channel_namespace: '' }> = {
  publication: { type: 'publication', channel_namespace: '' },
  join: { type: 'join', channel_namespace: '' },
  leave: { type: 'leave', channel_namespace: '' },
};

/** The node handed a `type` message to the broker. */
export function countSent(type: BrokerMessageType): void {
  sent.inc(type, LABELS[type]);
}

/** The broker handed the node a `type` message. */
export function countReceived(type: BrokerMessageType): void {
  received.inc(type, LABELS[type]);
}

const deliveryLabels = new Children2<BatchedLabels<LabelValues<'type' | 'channel_namespace'>>>((type, namespace) => ({
  key: `${type}\u0000${namespace}`,
  labels: { type, channel_namespace: namespace },
}));

/** `n` messages of `type` written to local clients (`namespace` '' for the client-level pushes). */
export function countDeliveries(type: string, namespace: string, n = 1): void {
  const l = deliveryLabels.get(type, namespace);
  deliveries.inc(l.key, l.labels, n);
}
