// Prometheus scrape endpoint (docs/protocol.md §9.3). Batched hot-path deltas are flushed first; `beforeScrape`
// refreshes gauges that are sampled, not pushed.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { flushMetrics } from '../metrics/registry.js';
import type { HttpHandler } from './router.js';
import { sendText } from './router.js';

export function metricsHandler(registry: Registry, logger: Logger, beforeScrape?: () => void): HttpHandler {
  return (_req, res) => {
    try {
      flushMetrics();
      beforeScrape?.();
    } catch (err) {
      logger.warn({ err }, 'metrics refresh failed');
    }
    registry.metrics().then(
      (text) => {
        const body = Buffer.from(text);
        res.writeHead(200, { 'Content-Type': registry.contentType, 'Content-Length': body.byteLength });
        res.end(body);
      },
      (err: unknown) => {
        logger.error({ err }, 'metrics collection failed');
        sendText(res, 500, 'Internal Server Error');
      },
    );
  };
}
