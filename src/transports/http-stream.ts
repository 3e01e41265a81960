// Bidirectional emulation over HTTP-streaming (docs/transports.md): `POST /connection/http_stream` carries the first
// commands (the connect) in its body; the answer is an endless 200 stream of replies and pushes, JSON each followed
// by a newline, protobuf varint-delimited. Later commands arrive through `/emulation` (transports/emulation.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulationTransportConfig } from '../config/types.js';
import { isProtobufRequest, postEndpoint, readCappedBody, STREAM_HEADERS } from './http-common.js';
import { remoteOf, startSession, type HttpEndpointContext } from './http-endpoint.js';
import { newlineTerminated, rawFrames, ResponseTransport } from './response-transport.js';

export class HttpStreamHandler {
  constructor(
    private readonly ctx: HttpEndpointContext,
    private readonly config: EmulationTransportConfig,
  ) {}

  readonly handle = (req: IncomingMessage, res: ServerResponse): void =>
    postEndpoint(req, res, this.ctx.originOk(), (q, r) => void this.stream(q, r));

  private async stream(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readCappedBody(req, res, this.config.max_request_body_size);
    if (body === null) return;
    if (!this.ctx.gate.admit(res, remoteOf(req), 'http_stream')) return;
    const protobuf = isProtobufRequest(req);
    // Go sniffs the first bytes written: text for JSON lines, octet-stream for protobuf.
    res.writeHead(200, {
      ...STREAM_HEADERS,
      'Content-Type': protobuf ? 'application/octet-stream' : 'text/plain; charset=utf-8',
    });
    const transport = new ResponseTransport(
      req,
      res,
      { name: 'http_stream', protocol: protobuf ? 'protobuf' : 'json', unidirectional: false, emulation: true },
      protobuf ? rawFrames : newlineTerminated,
    );
    startSession(this.ctx, transport, res, body);
  }
}
