// The node's message counts. centrifugo_node_messages_sent_count / _received_count mean what they mean in
// Centrifugo: one `sent` per publication, join or leave the node hands to the broker (before the broker answers,
// so a publish the broker suppresses counts too), one `received` per one the broker hands to the node, however
// many subscribers it reaches (src/core/broker-messages.ts counts both at the broker seam). What reaches the
// clients is gyre_node_deliveries_total: one per message written to a local subscriber (fan-out) or pushed to a
// client (connect, refresh, unsubscribe). All batched (./batched.ts): these run once or more per publication.
import { BatchedCounter } from './batched.js';
import { metrics } from './registry.js';

/** The broker messages Centrifugo counts per type (its `control` and map types are counted where they are sent). */
export type BrokerMessageType = 'publication' | 'join' | 'leave';

const sent = new BatchedCounter(metrics.messagesSent);
const received = new BatchedCounter(metrics.messagesReceived);
const deliveries = new BatchedCounter(metrics.deliveries);

/** The node handed a `type` message of a channel in `namespace` to the broker. */
export function countSent(type: BrokerMessageType, namespace: string): void {
  sent.inc(`${type}\u0000${namespace}`, { type, channel_namespace: namespace });
}

/** The broker handed the node a `type` message of a channel in `namespace`. */
export function countReceived(type: BrokerMessageType, namespace: string): void {
  received.inc(`${type}\u0000${namespace}`, { type, channel_namespace: namespace });
}

/** `n` messages of `type` written to local clients (`namespace` '' for the client-level pushes). */
export function countDeliveries(type: string, namespace: string, n = 1): void {
  deliveries.inc(`${type}\u0000${namespace}`, { type, channel_namespace: namespace }, n);
}
