// Unidirectional SSE (docs/transports.md): `GET /connection/uni_sse` with an optional `cf_connect` ConnectRequest, or
// a POST with it as the body; the answer is an event stream of bare pushes (`\r\n`, then `data: <push>` events), the
// connect push first and a disconnect push last. With connect_code_to_http_response the headers wait for the connect.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UniHttpTransportConfig } from '../config/types.js';
import { answerStatus, applyCors, queryParam, readCappedBody } from './http-common.js';
import { remoteOf, startSession, type HttpEndpointContext } from './http-endpoint.js';
import { beginEventStream, eventStreamTransport } from './sse.js';
import { uniConnectFrame, uniConnectFrameFromBytes } from './uni-connect-request.js';

export class UniSseHandler {
  constructor(
    private readonly ctx: HttpEndpointContext,
    private readonly config: UniHttpTransportConfig,
  ) {}

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    applyCors(req, res, this.ctx.originOk());
    if (req.method === 'GET') {
      const param = queryParam(req.url, 'cf_connect');
      const connect = uniConnectFrame(param === '' ? '{}' : param);
      if (connect === undefined) return answerStatus(res, 400);
      this.stream(req, res, connect);
      return;
    }
    if (req.method !== 'POST') {
      req.resume();
      return answerStatus(res, 405);
    }
    void readCappedBody(req, res, this.config.max_request_body_size).then((body) => {
      if (body === null) return;
      const connect = uniConnectFrameFromBytes(body);
      if (connect === undefined) answerStatus(res, 400);
      else this.stream(req, res, connect);
    });
  };

  private stream(req: IncomingMessage, res: ServerResponse, connect: Uint8Array): void {
    if (!this.ctx.gate.admit(res, remoteOf(req), 'uni_sse')) return;
    const rejection = this.config.connect_code_to_http_response;
    if (!rejection.enabled) {
      beginEventStream(res);
      startSession(this.ctx, eventStreamTransport(req, res, 'uni_sse', true), res, connect);
      return;
    }
    const deferred = { begin: beginEventStream, rejection };
    startSession(this.ctx, eventStreamTransport(req, res, 'uni_sse', true, deferred), res, connect);
  }
}
