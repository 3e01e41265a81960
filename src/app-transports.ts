// The connection endpoints besides bidirectional WebSocket: HTTP-streaming and SSE emulation with `/emulation`, and
// the unidirectional uni_http_stream, uni_sse and uni_websocket (docs/transports.md). Mounted by app.ts on the main
// router (uni_websocket through the upgrade router); one admission gate and one Origin check for all of them, both following config reloads.
import type { Logger } from 'pino';
import type { ClientConfig, GyreConfig } from './config/types.js';
import type { FdWatch } from './metrics/fds.js';
import type { Router } from './http/router.js';
import { EmulationHandler } from './transports/emulation.js';
import { HttpGate } from './transports/http-gate.js';
import type { RateBucket } from './transports/rate-bucket.js';
import type { HttpEndpointContext } from './transports/http-endpoint.js';
import { HttpStreamHandler } from './transports/http-stream.js';
import { createOriginCheck, type OriginCheck } from './transports/origin.js';
import { SseHandler } from './transports/sse.js';
import type { SessionAcceptor } from './transports/types.js';
import { UniHttpStreamHandler } from './transports/uni-http-stream.js';
import { UniSseHandler } from './transports/uni-sse.js';
import { UniWebSocketHandler } from './transports/uni-websocket.js';

export interface HttpTransports {
  /** Open streaming and uni_websocket connections (for the WebSocket handler's node-wide limit). */
  readonly open: number;
  /** The uni_websocket handler when enabled (its upgrades are routed by transports/upgrade-router.ts). */
  readonly uniWebSocket: UniWebSocketHandler | undefined;
  reconfigure(client: ClientConfig): void;
  close(): void;
}

export function mountHttpTransports(
  router: Router,
  config: Readonly<GyreConfig>,
  deps: {
    acceptor: SessionAcceptor;
    logger: Logger;
    fds: FdWatch;
    wsConnections: () => number;
    processes?: number;
    rateBucket?: RateBucket;
  },
): HttpTransports {
  let originOk: OriginCheck = createOriginCheck(config.client.allowed_origins);
  const gate = new HttpGate({
    client: config.client,
    server: config.http_server,
    acceptor: deps.acceptor,
    logger: deps.logger,
    fds: deps.fds,
    otherOpen: deps.wsConnections,
    processes: deps.processes ?? 1,
    rateBucket: deps.rateBucket,
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
  if (config.uni_http_stream.enabled) {
    router.add(config.uni_http_stream.handler_prefix, new UniHttpStreamHandler(ctx, config.uni_http_stream).handle);
  }
  if (config.uni_sse.enabled) router.add(config.uni_sse.handler_prefix, new UniSseHandler(ctx, config.uni_sse).handle);
  let client = config.client;
  const uniWebSocket = config.uni_websocket.enabled
    ? new UniWebSocketHandler({
        config: config.uni_websocket,
        get client() {
          return client;
        },
        acceptor: deps.acceptor,
        gate,
        originOk: () => originOk,
        logger: deps.logger,
      })
    : undefined;
  return {
    get open() {
      return gate.open;
    },
    uniWebSocket,
    reconfigure(next) {
      client = next;
      originOk = createOriginCheck(next.allowed_origins);
      gate.reconfigure(next);
    },
    close() {
      gate.close();
      uniWebSocket?.close();
    },
  };
}
