// Centrifugo's map broker metrics (docs/metrics.md, docs/map-subscriptions.md): suppressed map publishes and
// removes by reason and namespace, and the expiry sweep's lag, removals and errors (broker_name "" as Centrifugo
// labels its one map broker).
import { Counter, Gauge } from 'prom-client';
import { registry } from './registry.js';

export const mapBrokerMetrics = {
  publishSuppressed: new Counter({
    name: 'centrifugo_map_broker_publish_suppressed_count',
    help: 'Number of suppressed map publish operations.',
    labelNames: ['reason', 'channel_namespace'],
    registers: [registry],
  }),
  removeSuppressed: new Counter({
    name: 'centrifugo_map_broker_remove_suppressed_count',
    help: 'Number of suppressed map remove operations.',
    labelNames: ['reason', 'channel_namespace'],
    registers: [registry],
  }),
  cleanupLag: new Gauge({
    name: 'centrifugo_map_broker_cleanup_lag_seconds',
    help: 'Lag between now and the oldest expired entry awaiting cleanup. 0 means caught up.',
    labelNames: ['broker_name'],
    registers: [registry],
  }),
  cleanupRemoved: new Counter({
    name: 'centrifugo_map_broker_cleanup_removed_count',
    help: 'Total number of expired entries removed by cleanup.',
    labelNames: ['broker_name'],
    registers: [registry],
  }),
  cleanupErrors: new Counter({
    name: 'centrifugo_map_broker_cleanup_errors_count',
    help: 'Total number of cleanup errors.',
    labelNames: ['broker_name'],
    registers: [registry],
  }),
};
