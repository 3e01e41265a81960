// Hot-path observers for the Centrifugo-parity metrics (registry.ts, "Centrifugo parity" block). Each keeps the
// children of its label sets in ./children.ts's caches (one Map level per label value), so one observation costs
// a Map lookup or two, not a label hash.
// channel_namespace is "" on every centrifugo_* series, as in Centrifugo 6.9.1: centrifuge fills it only when the
// embedding server sets a namespace resolver, and Centrifugo sets none (docs/metrics.md). So these observers take
// no namespace; the per-namespace views are Gyre's own (gyre_client_recovery_duration_seconds here,
// gyre_node_deliveries_total in ./messages.ts).
import type { Histogram, LabelValues } from 'prom-client';
import { BatchedCounter, BatchedGauge } from './batched.js';
import { Children1, Children2, type BatchedLabels } from './children.js';
import { hot, metrics, parity, registry } from './registry.js';
import type { SummarySeries } from './summary.js';

type HistogramChild = ReturnType<Histogram['labels']>;

const commandChildren = new Children1((method) => {
  const labels: LabelValues<'method' | 'channel_namespace'> = { method, channel_namespace: '' };
  return { h: metrics.commandDuration.labels(labels), s: parity.commandDurationSummary.labels(labels) };
});

/** A client command took `seconds` (histogram and summary, like Centrifugo). */
export function observeCommand(method: string, seconds: number): void {
  const c = commandChildren.get(method);
  c.h.observe(seconds);
  c.s.observe(seconds);
}

const apiCommandChildren = new Children2<{ h: HistogramChild; s: SummarySeries }>((protocol, method) => ({
  h: metrics.apiCommandDuration.labels(protocol, method),
  s: parity.apiCommandDurationSummary.labels(protocol, method),
}));

/** A server API command (`protocol` http or grpc) took `seconds` (histogram and summary, like Centrifugo). */
export function observeApiCommand(protocol: string, method: string, seconds: number): void {
  const c = apiCommandChildren.get(protocol, method);
  c.h.observe(seconds);
  c.s.observe(seconds);
}

const tagsFilterDropped = parity.tagsFilterDropped.labels('');

/** One fan-out skipped `n` subscribers whose tags filter did not match the publication. */
export function countTagsFilterDropped(n: number): void {
  tagsFilterDropped.inc(n);
}

const suppressedByIdempotency = parity.publishSuppressed.labels('idempotency', '');

/**
 * A publish was suppressed by the broker: its idempotency key matched an earlier publication (Centrifugo's
 * reason `idempotency`; its other reason, `version`, needs publish versions, which Gyre lacks).
 */
export function countPublishSuppressed(): void {
  suppressedByIdempotency.inc();
}

/**
 * Centrifugo's Redis PUB/SUB error kinds (centrifugo_broker_redis_pub_sub_errors{error}) that Gyre's single
 * PUB/SUB connection per shard can hit: connection lost or not made, a channel (or the control channels) not
 * subscribed, a message that does not decode, a liveness probe unanswered.
 */
export type RedisPubSubError = 'connection' | 'subscribe_channel' | 'subscribe_control_channel' | 'handle_client_message' | 'probe_timeout';

const redisPubSubErrorChildren = new Children1((error: string) => parity.redisPubSubErrors.labels('', error));

/** One Redis PUB/SUB error (broker_name "" as Centrifugo labels its default broker). */
export function countRedisPubSubError(error: RedisPubSubError): void {
  redisPubSubErrorChildren.get(error).inc();
}

const pingPongChildren = new Children1((transport) => parity.pingPongDuration.labels(transport));

export function observePingPong(transport: string, seconds: number): void {
  pingPongChildren.get(transport).observe(seconds);
}

const broadcastChildren = new Children1((type) => parity.broadcastDuration.labels(type, ''));

/** One fan-out of a `type` message (publication, join, leave) took `seconds`. */
export function observeBroadcast(type: string, seconds: number): void {
  broadcastChildren.get(type).observe(seconds);
}

const pubSubLag = parity.pubSubLag.labels('');

/**
 * A publication published at `publishedAtMs` (unix ms, set by the publishing node) reached this node's fan-out
 * now. As in Centrifugo, a negative lag (clock skew between nodes) counts by its size.
 */
export function observePubSubLag(publishedAtMs: number): void {
  const lagMs = Math.abs(Date.now() - publishedAtMs);
  pubSubLag.observe(lagMs / 1000);
}

const closeChildren = new Children2((transport: string, code: number) => parity.outgoingClose.labels(transport, String(code)));

/** The server sent a close frame with `code` (3000 is Centrifugo's plain close). */
export function countOutgoingClose(transport: string, code: number): void {
  closeChildren.get(transport, code).inc();
}

/**
 * Batched (./batched.ts): there are several actions per connect and subscribe, and a prom-client child still
 * hashes its labels on every inc() (measured: 0.6-1.1 µs per increment through the child, 0.15-0.3 µs batched;
 * in a profile of a 10,000 connect burst these increments were the largest metrics cost).
 */
const actions = new BatchedCounter(parity.actionCount);
const actionLabels = new Children1<BatchedLabels<LabelValues<'action' | 'channel_namespace'>>>((action) => ({
  key: action,
  labels: { action, channel_namespace: '' },
}));

/** One node action (Centrifugo's action names). */
export function countAction(action: string): void {
  const l = actionLabels.get(action);
  actions.inc(l.key, l.labels);
}

const acceptedLabels = new Children1<BatchedLabels<LabelValues<'client_name' | 'channel_namespace'>>>((clientName) => ({
  key: clientName,
  labels: { client_name: clientName, channel_namespace: '' },
}));

/** A subscription of a client called `clientName` (its label value) was accepted. */
export function countSubscriptionAccepted(clientName: string): void {
  const l = acceptedLabels.get(clientName);
  hot.subscriptionsAccepted.inc(l.key, l.labels);
}

/** Batched too: +1 per subscribe and -1 per unsubscribe, which prom-client's child would hash each time. */
const subsInflight = new BatchedGauge(parity.subscriptionsInflight);
const subsInflightLabels = new Children1<BatchedLabels<LabelValues<'client_name' | 'channel_namespace'>>>((clientName) => ({
  key: clientName,
  labels: { client_name: clientName, channel_namespace: '' },
}));

/**
 * A subscription became active (+1) or ended (-1). The namespace is not a label value (channel_namespace is "",
 * above); the parameter stays for the callers in the connect and subscribe paths.
 */
export function subscriptionsInflight(clientName: string, _namespace: string, delta: 1 | -1): void {
  const l = subsInflightLabels.get(clientName);
  subsInflight.inc(l.key, l.labels, delta);
}

let recoveredHistogram = false;
const recoveredPublications = parity.recoveredPublications.labels('');
const recoveryDurationChildren = new Children1((namespace) => parity.recoveryDuration.labels(namespace));

/** prometheus.recovered_publications_histogram: expose centrifugo_client_recovered_publications (idempotent). */
export function enableRecoveredPublications(): void {
  if (recoveredHistogram) return;
  recoveredHistogram = true;
  registry.registerMetric(parity.recoveredPublications);
}

/**
 * A recovery in `namespace` finished: publications returned when it succeeded (undefined if not), and how long it
 * took (the duration is Gyre's own histogram, by namespace).
 */
export function observeRecovery(namespace: string, publications: number | undefined, seconds: number): void {
  if (recoveredHistogram && publications !== undefined) recoveredPublications.observe(publications);
  recoveryDurationChildren.get(namespace).observe(seconds);
}
