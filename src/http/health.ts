// GET (any method) <health.handler_prefix> ⇒ 200 `{}` (docs/protocol.md §9.2) while the engine is healthy; 500 with
// the engine's problems (e.g. a Redis shard unreachable or its PUB/SUB not live) otherwise.
import type { EngineHealth } from '../engines/types.js';
import type { HttpHandler } from './router.js';
import { sendJson } from './router.js';

export function healthHandler(engineHealth: () => EngineHealth = () => ({ ok: true, problems: [] })): HttpHandler {
  return (_req, res) => {
    const h = engineHealth();
    if (h.ok) sendJson(res, 200, '{}');
    else sendJson(res, 500, JSON.stringify({ error: 'engine unhealthy', problems: h.problems }));
  };
}

/**
 * Readiness (Gyre, docs/storm.md §2): 200 `{}` while the node takes new clients; 503 from the moment a shutdown
 * starts (before any client is closed), and while the engine is unhealthy. Liveness stays on /health.
 */
export function readinessHandler(
  shuttingDown: () => boolean,
  engineHealth: () => EngineHealth = () => ({ ok: true, problems: [] }),
): HttpHandler {
  return (_req, res) => {
    if (shuttingDown()) {
      sendJson(res, 503, '{"error":"shutting down"}');
      return;
    }
    const h = engineHealth();
    if (h.ok) sendJson(res, 200, '{}');
    else sendJson(res, 503, JSON.stringify({ error: 'engine unhealthy', problems: h.problems }));
  };
}
