// Bidirectional emulation over Server-Sent Events (docs/transports.md), JSON only: `GET /connection/sse?cf_connect=`
// (or a POST body) carries the first commands; the answer is a `text/event-stream` that starts with `\r\n` and holds
// one `data: <reply>` event per message. Later commands arrive through `/emulation`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulationTransportConfig } from '../config/types.js';
import { answerStatus, applyCors, queryParam, readCappedBody, STREAM_HEADERS } from './http-common.js';
import { remoteOf, startSession, type HttpEndpointContext } from './http-endpoint.js';
import { ResponseTransport, sseEvents } from './response-transport.js';
import type { DeferredStart } from './connect-http-response.js';
import type { TransportName } from './types.js';

const PREAMBLE = Buffer.from('\r\n');

/** Starts an SSE answer: 200, event-stream headers, the preamble flushed at once. */
export function beginEventStream(res: ServerResponse): void {
  res.writeHead(200, { ...STREAM_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8' });
  res.write(PREAMBLE);
}

/** A transport writing SSE events on `res`. */
export function eventStreamTransport(
  req: IncomingMessage,
  res: ServerResponse,
  name: TransportName,
  uni: boolean,
  deferred?: DeferredStart,
): ResponseTransport {
  return new ResponseTransport(req, res, { name, protocol: 'json', unidirectional: uni, emulation: !uni }, sseEvents, deferred);
}

export class SseHandler {
  constructor(
    private readonly ctx: HttpEndpointContext,
    private readonly config: EmulationTransportConfig,
  ) {}

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    applyCors(req, res, this.ctx.originOk());
    if (req.method === 'GET') {
      const commands = queryParam(req.url, 'cf_connect');
      if (commands === '') return answerStatus(res, 400);
      this.stream(req, res, Buffer.from(commands));
      return;
    }
    if (req.method !== 'POST') {
      req.resume();
      return answerStatus(res, 405);
    }
    void readCappedBody(req, res, this.config.max_request_body_size).then((body) => {
      if (body !== null) this.stream(req, res, body);
    });
  };

  private stream(req: IncomingMessage, res: ServerResponse, first: Uint8Array): void {
    if (!this.ctx.gate.admit(res, remoteOf(req), 'sse')) return;
    beginEventStream(res);
    startSession(this.ctx, eventStreamTransport(req, res, 'sse', false), res, first);
  }
}
