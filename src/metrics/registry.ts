// Every Prometheus metric Gyre exports is defined here (namespace `centrifugo`, Centrifugo's names, so
// existing dashboards keep working), plus `gyre_*` extras for storm anomalies.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BatchedCounter, BatchedGauge, flushMetrics } from './batched.js';
import { BucketHistogram } from './histogram.js';
import { readListenCounters, type ListenCounters } from './host-tcp.js';
import { WindowSummary } from './summary.js';
import { metricUpdateErrors } from './update-errors.js';

export { flushMetrics };

export const registry = new Registry();
/**
 * Node's process metrics. The `nodejs_eventloop_lag_*` histogram samples the loop every 50 ms instead of
 * prom-client's 10 ms: each sample is a timer wake-up, and at 10 ms it and the admission guard's were ~1 ms of
 * CPU per second on an idle node (BENCHMARKS.md §10.5); the lag percentiles stay per-wake-up lateness.
 */
collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 50 });
registry.registerMetric(metricUpdateErrors);

const ns = 'centrifugo';

/** The cluster primary's own metrics (worker processes, `node.workers` > 1), merged into every worker's /metrics. */
export const primaryRegistry = new Registry();

export const workerMetrics = {
  workers: new Gauge({ name: 'gyre_workers', help: 'Worker processes running (node.workers)', registers: [primaryRegistry] }),
  restarts: new Counter({
    name: 'gyre_worker_restarts_total',
    help: 'Worker processes that exited unexpectedly and were restarted by the primary',
    registers: [primaryRegistry],
  }),
};

export const metrics = {
  // With worker processes /metrics sums every worker (src/cluster/metrics.ts); these two are the same in each.
  build: new Gauge({ name: `${ns}_node_build`, help: 'Node build info', labelNames: ['version'], registers: [registry], aggregator: 'max' }),
  numClients: new Gauge({ name: `${ns}_node_num_clients`, help: 'Connected clients', registers: [registry] }),
  numUsers: new Gauge({ name: `${ns}_node_num_users`, help: 'Unique users', registers: [registry] }),
  numSubscriptions: new Gauge({ name: `${ns}_node_num_subscriptions`, help: 'Client subscriptions', registers: [registry] }),
  numChannels: new Gauge({ name: `${ns}_node_num_channels`, help: 'Channels with local subscribers', registers: [registry] }),
  numNodes: new Gauge({ name: `${ns}_node_num_nodes`, help: 'Nodes in the cluster', registers: [registry], aggregator: 'max' }),
  // Counted as Centrifugo counts them (./messages.ts): messages handed to and received from the broker.
  messagesSent: new Counter({
    name: `${ns}_node_messages_sent_count`,
    help: 'Messages the node handed to the broker (publication, join, leave, control, map types), by type',
    labelNames: ['type', 'channel_namespace'],
    registers: [registry],
  }),
  messagesReceived: new Counter({
    name: `${ns}_node_messages_received_count`,
    help: 'Messages the broker handed to the node (publication, join, leave, control), by type',
    labelNames: ['type', 'channel_namespace'],
    registers: [registry],
  }),
  connectionsAccepted: new Counter({
    name: `${ns}_client_connections_accepted`,
    help: 'Connections accepted',
    labelNames: ['transport', 'accept_protocol', 'client_name', 'client_version'],
    registers: [registry],
  }),
  connectionsInflight: new Gauge({
    name: `${ns}_client_connections_inflight`,
    help: 'Connected clients (from the connect command to the disconnect), as Centrifugo counts them',
    labelNames: ['transport', 'accept_protocol', 'client_name', 'client_version'],
    registers: [registry],
  }),
  subscriptionsAccepted: new Counter({
    name: `${ns}_client_subscriptions_accepted`,
    help: 'Subscriptions accepted',
    labelNames: ['client_name', 'channel_namespace'],
    registers: [registry],
  }),
  // Observed twice per connect: ./histogram.ts's, which neither checks nor hashes labels per observation.
  commandDuration: new BucketHistogram({
    name: `${ns}_client_command_duration_seconds_histogram`,
    help: 'Client command duration',
    labelNames: ['method', 'channel_namespace'],
    // Centrifugo's buckets (CF_DURATION_BUCKETS below).
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  }),
  replyErrors: new Counter({
    name: `${ns}_client_num_reply_errors`,
    help: 'Reply errors by method and code',
    labelNames: ['method', 'code', 'channel_namespace'],
    registers: [registry],
  }),
  serverUnsubscribes: new Counter({
    name: `${ns}_client_num_server_unsubscribes`,
    help: 'Server-side unsubscribes by code',
    labelNames: ['code', 'channel_namespace'],
    registers: [registry],
  }),
  serverDisconnects: new Counter({
    name: `${ns}_client_num_server_disconnects`,
    help: 'Server-side disconnects by code',
    labelNames: ['code'],
    registers: [registry],
  }),
  recover: new Counter({
    name: `${ns}_client_recover`,
    help: 'Recovery attempts',
    labelNames: ['recovered', 'channel_namespace', 'has_recovered_publications'],
    registers: [registry],
  }),
  transportMessagesSent: new Counter({
    name: `${ns}_transport_messages_sent`,
    help: 'Messages written to transports',
    labelNames: ['transport', 'frame_type', 'channel_namespace'],
    registers: [registry],
  }),
  transportMessagesSentSize: new Counter({
    name: `${ns}_transport_messages_sent_size`,
    help: 'Bytes written to transports',
    labelNames: ['transport', 'frame_type', 'channel_namespace'],
    registers: [registry],
  }),
  transportMessagesReceived: new Counter({
    name: `${ns}_transport_messages_received`,
    help: 'Messages received from transports',
    labelNames: ['transport', 'frame_type', 'channel_namespace'],
    registers: [registry],
  }),
  transportMessagesReceivedSize: new Counter({
    name: `${ns}_transport_messages_received_size`,
    help: 'Bytes received from transports',
    labelNames: ['transport', 'frame_type', 'channel_namespace'],
    registers: [registry],
  }),
  apiCommandDuration: new Histogram({
    name: `${ns}_api_command_duration_seconds_histogram`,
    help: 'Server API command duration',
    labelNames: ['protocol', 'method'],
    // Centrifugo's buckets.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  }),
  apiCommandErrors: new Counter({
    name: `${ns}_api_command_errors_total`,
    help: 'Server API errors',
    labelNames: ['protocol', 'method', 'error'],
    registers: [registry],
  }),
  // Gyre extras: storm anomalies.
  handshakeRejected: new Counter({
    name: 'gyre_handshake_rejected_total',
    help: 'WebSocket upgrades refused before a session existed, by reason',
    labelNames: ['reason'],
    registers: [registry],
  }),
  malformedFrames: new Counter({
    name: 'gyre_malformed_frames_total',
    help: 'Inbound frames that failed to decode',
    labelNames: ['transport'],
    registers: [registry],
  }),
  slowClientBytes: new Histogram({
    name: 'gyre_client_queue_bytes_at_disconnect',
    help: 'Outbound queue size of connections cut as slow',
    buckets: [65536, 262144, 1048576, 4194304, 16777216],
    registers: [registry],
  }),
  internalErrors: new Counter({
    name: 'gyre_internal_errors_total',
    help: 'Unexpected errors mapped to internal codes, by entry point',
    labelNames: ['entry'],
    registers: [registry],
  }),
  draining: new Gauge({
    name: 'gyre_node_draining',
    help: '1 while the node shuts down and drains its connections (paced disconnects), else 0',
    registers: [registry],
  }),
  deliveries: new Counter({
    name: 'gyre_node_deliveries_total',
    help: 'Messages written to local clients: publications, joins and leaves per subscriber reached, and the connect, refresh and unsubscribe pushes, by type',
    labelNames: ['type', 'channel_namespace'],
    registers: [registry],
  }),
  configReloads: new Counter({
    name: 'gyre_config_reloads_total',
    help: 'Configuration reloads (SIGHUP) by result: ok, invalid (file or values rejected, old config kept), error',
    labelNames: ['result'],
    registers: [registry],
  }),
} as const;

export type Metrics = typeof metrics;

/**
 * Metrics updated once or more per connection or per command, batched per macrotask (./batched.ts): a connect
 * storm would otherwise pay prom-client's label hashing several times per connection.
 */
export const hot = {
  connectionsInflight: new BatchedGauge(metrics.connectionsInflight),
  connectionsAccepted: new BatchedCounter(metrics.connectionsAccepted),
  subscriptionsAccepted: new BatchedCounter(metrics.subscriptionsAccepted),
  transportMessagesReceived: new BatchedCounter(metrics.transportMessagesReceived),
  transportMessagesReceivedSize: new BatchedCounter(metrics.transportMessagesReceivedSize),
};

/** Host-wide TCP listen-queue counters (./host-tcp.ts), read at scrape time; absent when /proc is unavailable. */
let hostReading: { at: number; value: ListenCounters | null } = { at: -Infinity, value: null };

/** One /proc read serves both gauges of a scrape. */
function listenCounters(): ListenCounters | null {
  const now = performance.now();
  if (now - hostReading.at > 100) hostReading = { at: now, value: readListenCounters() };
  return hostReading.value;
}

function hostGauge(name: string, help: string, pick: (c: ListenCounters) => number): Gauge {
  return new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      const c = listenCounters();
      if (c !== null) this.set(pick(c));
    },
  });
}

export const hostTcp = {
  listenOverflows: hostGauge(
    'gyre_host_tcp_listen_overflows',
    'TcpExtListenOverflows of this host, cumulative since boot: handshakes dropped because an accept queue was full (raise net.core.somaxconn)',
    (c) => c.overflows,
  ),
  listenDrops: hostGauge(
    'gyre_host_tcp_listen_drops',
    'TcpExtListenDrops of this host, cumulative since boot: SYNs dropped by any listener',
    (c) => c.drops,
  ),
};

/** Redis engine (src/engines/redis). */
/**
 * Redis commands in flight, counted by the engine as a plain number and read at scrape time (a gauge inc and
 * dec per command hashed its empty label set twice on every publish).
 */
export const redisPending = { commands: 0 };

export const redisMetrics = {
  commandErrors: new Counter({
    name: 'gyre_redis_command_errors_total',
    help: 'Redis commands that failed (connection loss, timeout, server error), by operation',
    labelNames: ['op'],
    registers: [registry],
  }),
  pubsubReconnects: new Counter({
    name: 'gyre_redis_pubsub_reconnects_total',
    help: 'PUB/SUB connections lost and rebuilt (drops, failed liveness probes), by shard',
    labelNames: ['shard'],
    registers: [registry],
  }),
  resubscribeSeconds: new Histogram({
    name: 'gyre_redis_resubscribe_seconds',
    help: 'Time to subscribe every channel again on a rebuilt PUB/SUB connection',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  }),
  droppedMessages: new Counter({
    name: 'gyre_redis_pubsub_dropped_messages_total',
    help: 'PUB/SUB messages dropped instead of delivered, by reason',
    labelNames: ['reason'],
    registers: [registry],
  }),
  pendingCommands: new Gauge({
    name: 'gyre_redis_pending_commands',
    help: 'Redis commands sent and not yet answered (buffered in the client pipeline)',
    registers: [registry],
    collect() {
      this.set(redisPending.commands);
    },
  }),
} as const;

// ---- Centrifugo parity (issue 12): more of Centrifugo's names, types, labels and buckets for dashboard 13039,
// plus Gyre's handshake and recovery timings. Hot-path users keep label children cached (./children.ts).

/** Centrifugo's millisecond-to-second buckets (client command and ping/pong histograms). */
const CF_DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const parity = {
  // Summaries are ./summary.ts's (a count per log-linear bucket, O(1) per observation), not prom-client's.
  commandDurationSummary: new WindowSummary({
    name: `${ns}_client_command_duration_seconds`,
    help: 'Client command duration (quantiles over the last 30-60 s)',
    labelNames: ['method', 'channel_namespace'],
    percentiles: [0.5, 0.99, 0.999],
    // Gyre's window since it has this summary (Centrifugo's is 10 min in 5 age buckets): quantiles over 30-60 s.
    maxAgeSeconds: 60,
    ageBuckets: 2,
    registers: [registry],
  }),
  subscriptionsInflight: new Gauge({
    name: `${ns}_client_subscriptions_inflight`,
    help: 'Client subscriptions currently active',
    labelNames: ['client_name', 'channel_namespace'],
    registers: [registry],
  }),
  recoveredPublications: new Histogram({
    name: `${ns}_client_recovered_publications`,
    help: 'Publications recovered during subscription recovery',
    labelNames: ['channel_namespace'],
    buckets: [0, 1, 2, 3, 5, 10, 20, 50, 100, 250, 500, 1000, 2000, 5000, 10000],
    // Registered only with prometheus.recovered_publications_histogram (as in Centrifugo): observe.ts.
    registers: [],
  }),
  pingPongDuration: new Histogram({
    name: `${ns}_client_ping_pong_duration_seconds`,
    help: 'Time from a server ping to the client pong',
    labelNames: ['transport'],
    buckets: CF_DURATION_BUCKETS,
    registers: [registry],
  }),
  broadcastDuration: new Histogram({
    name: `${ns}_node_broadcast_duration_seconds`,
    help: 'Time to hand one message to every local subscriber of its channel',
    labelNames: ['type', 'channel_namespace'],
    buckets: [1e-6, 5e-6, 1e-5, 5e-5, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  }),
  pubSubLag: new Histogram({
    name: `${ns}_node_pub_sub_lag_seconds`,
    help: 'Pub sub lag in seconds: from the publication time set by the publishing node to its fan-out here',
    labelNames: ['channel_namespace'],
    // Centrifugo's buckets.
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10],
    registers: [registry],
  }),
  surveyDurationSummary: new WindowSummary({
    name: `${ns}_node_survey_duration_seconds`,
    help: 'Survey duration summary (Centrifugo marks it deprecated in favour of the histogram; both are exposed)',
    labelNames: ['op'],
    percentiles: [0.5, 0.99, 0.999],
    maxAgeSeconds: 60,
    ageBuckets: 2,
    registers: [registry],
  }),
  surveyDuration: new Histogram({
    name: `${ns}_node_survey_duration_seconds_histogram`,
    help: 'Survey duration histogram',
    labelNames: ['op'],
    // Centrifugo's buckets.
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  }),
  clientConnectionLimit: new Counter({
    name: `${ns}_node_client_connection_limit`,
    help: 'Number of refused requests due to node client connection limit',
    registers: [registry],
  }),
  redisPubSubDropped: new Counter({
    name: `${ns}_broker_redis_pub_sub_dropped_messages`,
    help: 'Number of dropped messages on application level in Redis PUB/SUB',
    labelNames: ['broker_name', 'channel_type'],
    registers: [registry],
  }),
  redisPubSubErrors: new Counter({
    name: `${ns}_broker_redis_pub_sub_errors`,
    help: 'Number of times there was an error in Redis PUB/SUB connection',
    labelNames: ['broker_name', 'error'],
    registers: [registry],
  }),
  publishSuppressed: new Counter({
    name: `${ns}_broker_publish_suppressed_count`,
    help: 'Number of suppressed publish operations',
    labelNames: ['reason', 'channel_namespace'],
    registers: [registry],
  }),
  tagsFilterDropped: new Counter({
    name: `${ns}_node_tags_filter_dropped_publications`,
    help: 'Number of publications dropped due to tags filtering',
    labelNames: ['channel_namespace'],
    registers: [registry],
  }),
  apiCommandDurationSummary: new WindowSummary({
    name: `${ns}_api_command_duration_seconds`,
    help: 'Server API command duration (deprecated in Centrifugo in favour of the histogram; both are exposed)',
    labelNames: ['protocol', 'method'],
    percentiles: [0.5, 0.99, 0.999],
    // Centrifugo's (Go client defaults): quantiles over the last 10 minutes in 5 age buckets.
    maxAgeSeconds: 600,
    ageBuckets: 5,
    registers: [registry],
  }),
  actionCount: new Counter({
    name: `${ns}_node_action_count`,
    help: 'Node actions: add_client, remove_client, add_subscription, remove_subscription, broker_subscribe',
    labelNames: ['action', 'channel_namespace'],
    registers: [registry],
  }),
  outgoingClose: new Counter({
    name: `${ns}_transport_outgoing_close_count`,
    help: 'Close frames the server sent, by transport and close code',
    labelNames: ['transport', 'code'],
    registers: [registry],
  }),
  // Gyre extras.
  // Observed once per connect (./histogram.ts, as commandDuration).
  handshakeDuration: new BucketHistogram({
    name: 'gyre_handshake_duration_seconds',
    help: 'WebSocket upgrade: from the complete request head to the 101 response written',
    buckets: CF_DURATION_BUCKETS,
    registers: [registry],
  }),
  handshakesInflight: new Gauge({
    name: 'gyre_handshakes_inflight',
    help: 'WebSocket upgrades accepted and not yet answered with 101 or refused',
    registers: [registry],
  }),
  recoveryDuration: new Histogram({
    name: 'gyre_client_recovery_duration_seconds',
    help: 'Subscribe with recovery: history read and merge, by channel namespace',
    labelNames: ['channel_namespace'],
    buckets: CF_DURATION_BUCKETS,
    registers: [registry],
  }),
} as const;

// ---- end of Centrifugo parity block

/** The client command methods whose duration summary and histogram a fresh Centrifugo 6.9.1 already lists, at 0. */
const SEEDED_METHODS = ['connect', 'history', 'presence', 'presence_stats', 'publish', 'refresh', 'rpc', 'send', 'sub_refresh', 'subscribe', 'unknown', 'unsubscribe'];
/** The node message types a fresh Centrifugo 6.9.1 lists as sent and received, at 0. */
const SEEDED_MESSAGE_TYPES = ['control', 'join', 'leave', 'publication'];

// Centrifugo exposes these series at 0 from the start (checked against a fresh 6.9.1's /metrics); dashboards may
// rely on their presence.
function seedZeroSeries(): void {
  for (const channelType of ['client', 'control']) parity.redisPubSubDropped.labels('', channelType).inc(0);
  for (const type of SEEDED_MESSAGE_TYPES) {
    metrics.messagesSent.labels(type, '').inc(0);
    metrics.messagesReceived.labels(type, '').inc(0);
  }
  // A summary's series exists once asked for; reset() zeroes every series in place and keeps it.
  for (const method of SEEDED_METHODS) parity.commandDurationSummary.labels(method, '');
  // Centrifugo pre-creates the histogram child of each of those methods too (every bucket at 0).
  for (const method of SEEDED_METHODS) metrics.commandDuration.zero({ method, channel_namespace: '' });
}
seedZeroSeries();

/**
 * Back to a fresh node's values: the node and Centrifugo-parity metrics at zero, the series Centrifugo shows from
 * the start re-created. The start-up warm-up's private node counts into this registry (src/warmup.ts).
 */
export function resetNodeMetrics(): void {
  flushMetrics();
  for (const m of Object.values(metrics)) m.reset();
  for (const m of Object.values(parity)) m.reset();
  seedZeroSeries();
}
