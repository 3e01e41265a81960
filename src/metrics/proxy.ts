// Centrifugo's proxy metrics (docs/metrics.md): one series per protocol (http, grpc), proxy type and proxy name
// ("default" for connect and refresh, as Centrifugo labels them). Observed around every call (src/proxy/metered.ts).
import { Counter, Gauge, Histogram } from 'prom-client';
import { registry } from './registry.js';
import { WindowSummary } from './summary.js';

const labelNames = ['protocol', 'type', 'name'] as const;

export const proxyMetrics = {
  /** Kept because Centrifugo 6 still exports it (deprecated there); Go's default 10-minute window. */
  durationSummary: new WindowSummary({
    name: 'centrifugo_proxy_duration_seconds',
    help: 'Duration of proxy call (deprecated in Centrifugo: use centrifugo_proxy_duration_seconds_histogram)',
    labelNames,
    percentiles: [0.5, 0.99, 0.999],
    maxAgeSeconds: 600,
    ageBuckets: 5,
    registers: [registry],
  }),
  duration: new Histogram({
    name: 'centrifugo_proxy_duration_seconds_histogram',
    help: 'Histogram of duration of proxy call',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  }),
  errors: new Counter({ name: 'centrifugo_proxy_errors', help: 'Proxy call error count', labelNames, registers: [registry] }),
  inflight: new Gauge({ name: 'centrifugo_proxy_inflight_requests', help: 'Number of inflight proxy requests', labelNames, registers: [registry] }),
};
