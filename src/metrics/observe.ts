// Hot-path observers for the Centrifugo-parity metrics (registry.ts, "Centrifugo parity" block). Each keeps the
// prom-client children of its label sets in a Map, so one observation costs a Map lookup, not a label hash.
import type { Histogram, LabelValues } from 'prom-client';
import { BatchedCounter } from './batched.js';
import { childOf, metrics, parity, registry } from './registry.js';
import type { SummarySeries } from './summary.js';

type HistogramChild = ReturnType<Histogram['labels']>;

const commandChildren = new Map<string, { h: HistogramChild; s: SummarySeries }>();

/** A client command took `seconds` (histogram and summary, like Centrifugo). */
export function observeCommand(method: string, seconds: number): void {
  const c = childOf(commandChildren, method, () => {
    const labels: LabelValues<'method' | 'channel_namespace'> = { method, channel_namespace: '' };
    return { h: metrics.commandDuration.labels(labels), s: parity.commandDurationSummary.labels(labels) };
  });
  c.h.observe(seconds);
  c.s.observe(seconds);
}

const apiCommandChildren = new Map<string, { h: HistogramChild; s: SummarySeries }>();

/** A server API command (`protocol` http or grpc) took `seconds` (histogram and summary, like Centrifugo). */
export function observeApiCommand(protocol: string, method: string, seconds: number): void {
  const c = childOf(apiCommandChildren, `${protocol}\u0000${method}`, () => ({
    h: metrics.apiCommandDuration.labels(protocol, method),
    s: parity.apiCommandDurationSummary.labels(protocol, method),
  }));
  c.h.observe(seconds);
  c.s.observe(seconds);
}

const tagsFilterChildren = new Map<string, ReturnType<typeof parity.tagsFilterDropped.labels>>();

/** One fan-out in `namespace` skipped `n` subscribers whose tags filter did not match the publication. */
export function countTagsFilterDropped(namespace: string, n: number): void {
  childOf(tagsFilterChildren, namespace, () => parity.tagsFilterDropped.labels(namespace)).inc(n);
}

/**
 * A publish in `namespace` was suppressed by the broker: its idempotency key matched an earlier publication
 * (Centrifugo's reason `idempotency`; its other reason, `version`, needs publish versions, which Gyre lacks).
 */
export function countPublishSuppressed(namespace: string): void {
  parity.publishSuppressed.labels('idempotency', namespace).inc();
}

/**
 * Centrifugo's Redis PUB/SUB error kinds (centrifugo_broker_redis_pub_sub_errors{error}) that Gyre's single
 * PUB/SUB connection per shard can hit: connection lost or not made, a channel (or the control channels) not
 * subscribed, a message that does not decode, a liveness probe unanswered.
 */
export type RedisPubSubError = 'connection' | 'subscribe_channel' | 'subscribe_control_channel' | 'handle_client_message' | 'probe_timeout';

/** One Redis PUB/SUB error (broker_name "" as Centrifugo labels its default broker). */
export function countRedisPubSubError(error: RedisPubSubError): void {
  parity.redisPubSubErrors.labels('', error).inc();
}

const pingPongChildren = new Map<string, HistogramChild>();

export function observePingPong(transport: string, seconds: number): void {
  childOf(pingPongChildren, transport, () => parity.pingPongDuration.labels(transport)).observe(seconds);
}

const broadcastChildren = new Map<string, HistogramChild>();

/** One fan-out of a `type` message (publication, join, leave) in `namespace` took `seconds`. */
export function observeBroadcast(type: string, namespace: string, seconds: number): void {
  childOf(broadcastChildren, `${type}\u0000${namespace}`, () => parity.broadcastDuration.labels(type, namespace)).observe(seconds);
}

const pubSubLagChildren = new Map<string, HistogramChild>();

/**
 * A publication published at `publishedAtMs` (unix ms, set by the publishing node) reached this node's fan-out
 * now. As in Centrifugo, a negative lag (clock skew between nodes) counts by its size.
 */
export function observePubSubLag(namespace: string, publishedAtMs: number): void {
  const lagMs = Math.abs(Date.now() - publishedAtMs);
  childOf(pubSubLagChildren, namespace, () => parity.pubSubLag.labels(namespace)).observe(lagMs / 1000);
}

const closeChildren = new Map<string, ReturnType<typeof parity.outgoingClose.labels>>();

/** The server sent a close frame with `code` (3000 is Centrifugo's plain close). */
export function countOutgoingClose(transport: string, code: number): void {
  childOf(closeChildren, `${transport}\u0000${code}`, () => parity.outgoingClose.labels(transport, String(code))).inc();
}

/**
 * Batched (./batched.ts): there are several actions per connect and subscribe, and a prom-client child still
 * hashes its labels on every inc() (measured: 0.6-1.1 µs per increment through the child, 0.15-0.3 µs batched;
 * in a profile of a 10,000 connect burst these increments were the largest metrics cost).
 */
const actions = new BatchedCounter(parity.actionCount);

/** One node action (Centrifugo's action names) in `namespace` ('' for client-level actions). */
export function countAction(action: string, namespace: string): void {
  actions.inc(`${action}\u0000${namespace}`, { action, channel_namespace: namespace });
}

const subsInflightChildren = new Map<string, ReturnType<typeof parity.subscriptionsInflight.labels>>();

/** A subscription became active (+1) or ended (-1). */
export function subscriptionsInflight(clientName: string, namespace: string, delta: 1 | -1): void {
  childOf(subsInflightChildren, `${clientName}\u0000${namespace}`, () =>
    parity.subscriptionsInflight.labels(clientName, namespace),
  ).inc(delta);
}

let recoveredHistogram = false;

/** prometheus.recovered_publications_histogram: expose centrifugo_client_recovered_publications (idempotent). */
export function enableRecoveredPublications(): void {
  if (recoveredHistogram) return;
  recoveredHistogram = true;
  registry.registerMetric(parity.recoveredPublications);
}

/** A recovery finished: publications returned when it succeeded (undefined if not), and how long it took. */
export function observeRecovery(namespace: string, publications: number | undefined, seconds: number): void {
  if (recoveredHistogram && publications !== undefined) parity.recoveredPublications.labels(namespace).observe(publications);
  parity.recoveryDuration.labels(namespace).observe(seconds);
}
