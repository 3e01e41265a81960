// GET (any method) <health.handler_prefix> ⇒ 200 `{}` (protocol.md §9.2): liveness = readiness.
import type { HttpHandler } from './router.js';
import { sendJson } from './router.js';

export function healthHandler(): HttpHandler {
  return (_req, res) => sendJson(res, 200, '{}');
}
