// Unidirectional HTTP-streaming (docs/transports.md): `POST /connection/uni_http_stream` with a JSON ConnectRequest
// body; the answer is a 200 stream of bare pushes, each followed by a newline, the connect push first and a
// disconnect push last. With connect_code_to_http_response the headers wait for the connect.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UniHttpTransportConfig } from '../config/types.js';
import { answerStatus, postEndpoint, readCappedBody, STREAM_HEADERS } from './http-common.js';
import { remoteOf, startSession, type HttpEndpointContext } from './http-endpoint.js';
import { newlineTerminated, ResponseTransport } from './response-transport.js';
import { uniConnectFrameFromBytes } from './uni-connect-request.js';

export class UniHttpStreamHandler {
  constructor(
    private readonly ctx: HttpEndpointContext,
    private readonly config: UniHttpTransportConfig,
  ) {}

  readonly handle = (req: IncomingMessage, res: ServerResponse): void =>
    postEndpoint(req, res, this.ctx.originOk(), (q, r) => void this.stream(q, r));

  private async stream(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readCappedBody(req, res, this.config.max_request_body_size);
    if (body === null) return;
    const connect = uniConnectFrameFromBytes(body);
    if (connect === undefined) return answerStatus(res, 400);
    if (!this.ctx.gate.admit(res, remoteOf(req), 'uni_http_stream')) return;
    const rejection = this.config.connect_code_to_http_response;
    if (!rejection.enabled) beginStream(res);
    const transport = new ResponseTransport(
      req,
      res,
      { name: 'uni_http_stream', protocol: 'json', unidirectional: true, emulation: false },
      newlineTerminated,
      rejection.enabled ? { begin: beginStream, rejection } : undefined,
    );
    startSession(this.ctx, transport, res, connect);
  }
}

function beginStream(res: ServerResponse): void {
  res.writeHead(200, { ...STREAM_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
}
