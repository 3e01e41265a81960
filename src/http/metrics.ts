// Prometheus scrape endpoint (docs/protocol.md §9.3). Batched hot-path deltas are flushed first; `beforeScrape`
// refreshes gauges that are sampled, not pushed. With worker processes the text comes from `source` (every
// worker's metrics merged by the primary, src/cluster/metrics.ts) instead of this process's registry.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { flushMetrics } from '../metrics/registry.js';
import type { HttpHandler } from './router.js';
import { sendText } from './router.js';

export type MetricsSource = () => Promise<{ text: string; contentType: string }>;

export function metricsHandler(registry: Registry, logger: Logger, beforeScrape?: () => void, source?: MetricsSource): HttpHandler {
  const render: MetricsSource =
    source ?? (async () => ({ text: await registry.metrics(), contentType: registry.contentType }));
  return (_req, res) => {
    try {
      flushMetrics();
      beforeScrape?.();
    } catch (err) {
      logger.warn({ err }, 'metrics refresh failed');
    }
    render().then(
      ({ text, contentType }) => {
        const body = Buffer.from(text);
        res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': body.byteLength });
        res.end(body);
      },
      (err: unknown) => {
        logger.error({ err }, 'metrics collection failed');
        sendText(res, 500, 'Internal Server Error');
      },
    );
  };
}
