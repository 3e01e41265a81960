// What every HTTP-based connection endpoint is given: the node, the admission gate, the current Origin check (it
// follows config reloads) and a logger; and the start of a streaming connection they all share.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { metrics } from '../metrics/registry.js';
import { Disconnects } from '../protocol/errors.js';
import type { HttpGate } from './http-gate.js';
import type { OriginCheck } from './origin.js';
import type { ResponseTransport } from './response-transport.js';
import type { SessionAcceptor } from './types.js';

export interface HttpEndpointContext {
  readonly acceptor: SessionAcceptor;
  readonly gate: HttpGate;
  readonly originOk: () => OriginCheck;
  readonly logger: Logger;
}

/**
 * Creates the session of a streaming response whose headers are set, and hands it the first inbound frame.
 * A failure to create it ends the response with a disconnect 3004 in the transport's framing.
 */
export function startSession(ctx: HttpEndpointContext, transport: ResponseTransport, res: ServerResponse, first: Uint8Array): void {
  try {
    const port = ctx.acceptor.accept(transport);
    transport.attach(port);
    port.handleFrame(first);
  } catch (err) {
    ctx.logger.error({ err, transport: transport.info.name }, 'session accept failed');
    metrics.internalErrors.labels(transport.info.name).inc();
    transport.close(Disconnects.internal());
    if (!res.writableEnded) res.end();
  }
}

/** The remote address of a request (for per-IP limits and logs). */
export function remoteOf(req: IncomingMessage): string | undefined {
  return req.socket.remoteAddress;
}
