// Hot-path observers for the Centrifugo-parity metrics (registry.ts, "Centrifugo parity" block). Each keeps the
// children of its label sets in ./children.ts's caches (one Map level per label value), so one observation costs
// a Map lookup or two, not a label hash.
import type { Histogram, LabelValues } from 'prom-client';
import { BatchedCounter } from './batched.js';
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

const tagsFilterChildren = new Children1((namespace) => parity.tagsFilterDropped.labels(namespace));

/** One fan-out in `namespace` skipped `n` subscribers whose tags filter did not match the publication. */
export function countTagsFilterDropped(namespace: string, n: number): void {
  tagsFilterChildren.get(namespace).inc(n);
}

const suppressedChildren = new Children1((namespace) => parity.publishSuppressed.labels('idempotency', namespace));

/**
 * A publish in `namespace` was suppressed by the broker: its idempotency key matched an earlier publication
 * (Centrifugo's reason `idempotency`; its other reason, `version`, needs publish versions, which Gyre lacks).
 */
export function countPublishSuppressed(namespace: string): void {
  suppressedChildren.get(namespace).inc();
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

const broadcastChildren = new Children2((type, namespace) => parity.broadcastDuration.labels(type, namespace));

/** One fan-out of a `type` message (publication, join, leave) in `namespace` took `seconds`. */
export function observeBroadcast(type: string, namespace: string, seconds: number): void {
  broadcastChildren.get(type, namespace).observe(seconds);
}

const pubSubLagChildren = new Children1((namespace) => parity.pubSubLag.labels(namespace));

/**
 * A publication published at `publishedAtMs` (unix ms, set by the publishing node) reached this node's fan-out
 * now. As in Centrifugo, a negative lag (clock skew between nodes) counts by its size.
 */
export function observePubSubLag(namespace: string, publishedAtMs: number): void {
  const lagMs = Math.abs(Date.now() - publishedAtMs);
  pubSubLagChildren.get(namespace).observe(lagMs / 1000);
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
const actionLabels = new Children2<BatchedLabels<LabelValues<'action' | 'channel_namespace'>>>((action, namespace) => ({
  key: `${action}\u0000${namespace}`,
  labels: { action, channel_namespace: namespace },
}));

/** One node action (Centrifugo's action names) in `namespace` ('' for client-level actions). */
export function countAction(action: string, namespace: string): void {
  const l = actionLabels.get(action, namespace);
  actions.inc(l.key, l.labels);
}

const acceptedLabels = new Children2<BatchedLabels<LabelValues<'client_name' | 'channel_namespace'>>>((clientName, namespace) => ({
  key: `${clientName}\u0000${namespace}`,
  labels: { client_name: clientName, channel_namespace: namespace },
}));

/** A subscription of a client called `clientName` (its label value) in `namespace` was accepted. */
export function countSubscriptionAccepted(clientName: string, namespace: string): void {
  const l = acceptedLabels.get(clientName, namespace);
  hot.subscriptionsAccepted.inc(l.key, l.labels);
}

const subsInflightChildren = new Children2((clientName, namespace) => parity.subscriptionsInflight.labels(clientName, namespace));

/** A subscription became active (+1) or ended (-1). */
export function subscriptionsInflight(clientName: string, namespace: string, delta: 1 | -1): void {
  subsInflightChildren.get(clientName, namespace).inc(delta);
}

let recoveredHistogram = false;
const recoveredChildren = new Children1((namespace) => parity.recoveredPublications.labels(namespace));
const recoveryDurationChildren = new Children1((namespace) => parity.recoveryDuration.labels(namespace));

/** prometheus.recovered_publications_histogram: expose centrifugo_client_recovered_publications (idempotent). */
export function enableRecoveredPublications(): void {
  if (recoveredHistogram) return;
  recoveredHistogram = true;
  registry.registerMetric(parity.recoveredPublications);
}

/** A recovery finished: publications returned when it succeeded (undefined if not), and how long it took. */
export function observeRecovery(namespace: string, publications: number | undefined, seconds: number): void {
  if (recoveredHistogram && publications !== undefined) recoveredChildren.get(namespace).observe(publications);
  recoveryDurationChildren.get(namespace).observe(seconds);
}
