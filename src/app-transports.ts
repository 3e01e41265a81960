// The connection endpoints besides bidirectional WebSocket: HTTP-streaming and SSE emulation with `/emulation`, and
// the unidirectional uni_http_stream, uni_sse and uni_websocket (docs/transports.md). Mounted by app.ts on the main
// router; one admission gate and one Origin check for all of them, both following config reloads.
import type { Logger } from 'pino';
import type { ClientConfig, GyreConfig } from './config/types.js';
import type { FdWatch } from './metrics/fds.js';
import type { Router } from './http/router.js';
import { EmulationHandler } from './transports/emulation.js';
import { HttpGate } from './transports/http-gate.js';
import type { HttpEndpointContext } from './transports/http-endpoint.js';
import { HttpStreamHandler } from './transports/http-stream.js';
import { createOriginCheck, type OriginCheck } from './transports/origin.js';
import { SseHandler } from './transports/sse.js';
import type { SessionAcceptor } from './transports/types.js';

export interface HttpTransports {
  /** Open streaming connections (for the WebSocket handler's node-wide limit). */
  readonly open: number;
  reconfigure(client: ClientConfig): void;
  close(): void;
}

export function mountHttpTransports(
  router: Router,
  config: Readonly<GyreConfig>,
  deps: { acceptor: SessionAcceptor; logger: Logger; fds: FdWatch; wsConnections: () => number },
): HttpTransports {
  let originOk: OriginCheck = createOriginCheck(config.client.allowed_origins);
  const gate = new HttpGate({
    client: config.client,
    server: config.http_server,
    acceptor: deps.acceptor,
    logger: deps.logger,
    fds: deps.fds,
    otherOpen: deps.wsConnections,
  });
  const ctx: HttpEndpointContext = { acceptor: deps.acceptor, gate, originOk: () => originOk, logger: deps.logger };
  if (config.http_stream.enabled) router.add(config.http_stream.handler_prefix, new HttpStreamHandler(ctx, config.http_stream).handle);
  if (config.sse.enabled) router.add(config.sse.handler_prefix, new SseHandler(ctx, config.sse).handle);
  if (config.http_stream.enabled || config.sse.enabled) {
    const emulation = new EmulationHandler({
      acceptor: deps.acceptor,
      originOk: () => originOk,
      maxBodySize: config.emulation.max_request_body_size,
      logger: deps.logger,
    });
    router.add(config.emulation.handler_prefix, emulation.handle);
  }
  return {
    get open() {
      return gate.open;
    },
    reconfigure(client) {
      originOk = createOriginCheck(client.allowed_origins);
      gate.reconfigure(client);
    },
    close() {
      gate.close();
    },
  };
}
