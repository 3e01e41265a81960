// Server creation and listening with an explicit backlog (bursts of connects must not hit SYN drops). The
// main server listens through a front (http/front.ts) that answers WebSocket upgrades itself and hands
// every other connection to the http.Server created here.
import { createServer } from 'node:http';
import type { Server, ServerOptions } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TlsOptions } from 'node:tls';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { TCP_KEEPALIVE_IDLE_MS } from './front.js';
import type { HttpFront } from './front.js';
import { MAX_HEAD_BYTES } from '../transports/handshake.js';
import type { HttpHandler } from './router.js';

/** Centrifugo's http.Server limits: ReadHeaderTimeout 10 s, ReadTimeout 30 s, Go's 1 MiB of headers. */
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * An http.Server with Centrifugo's limits. With `tls` it is an https.Server (used for a separate internal port;
 * the main port's TLS is terminated by its front, which hands secured sockets to a plain http.Server).
 */
export function createHttpServer(handler: HttpHandler, tls?: TlsOptions): Server {
  const opts: ServerOptions = {
    noDelay: true,
    keepAlive: true,
    keepAliveInitialDelay: TCP_KEEPALIVE_IDLE_MS,
    maxHeaderSize: MAX_HEAD_BYTES,
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
  };
  const server = tls === undefined ? createServer(opts, handler) : createHttpsServer({ ...opts, ...tls }, handler);
  // A stray client error must never take the process down; answer 400 where a response is still possible.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    socket.destroy();
  });
  return server;
}

/** Listens and resolves with the bound port (the real one when `port` is 0). */
export function listen(server: NetServer, host: string, port: number, backlog: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    // Port 0 is a private port (the warm-up's): in a worker process it must not become a port shared with the
    // other workers through the cluster primary.
    const opts: { port: number; host?: string; backlog?: number; exclusive?: boolean } = { port, exclusive: port === 0 };
    if (host !== '') opts.host = host;
    if (backlog > 0) opts.backlog = backlog;
    server.listen(opts, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** The address family of a bound server's socket ('IPv4' or 'IPv6'; undefined when it is not bound). */
export function listenFamily(server: NetServer): string | undefined {
  const a = server.address();
  return a !== null && typeof a === 'object' ? a.family : undefined;
}

/** Stops accepting, then resolves when every connection is gone (idle ones are closed at once). */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      server.closeAllConnections();
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

/**
 * The same for a front and its http.Server: stop accepting, drop heads still being read, close idle http
 * connections; resolves when every connection the front accepted (WebSocket ones included) is gone.
 */
export function closeFront(front: HttpFront): Promise<void> {
  return new Promise((resolve) => front.stopAccepting(resolve));
}
