// `uni_sse.connect_code_to_http_response` / `uni_http_stream.connect_code_to_http_response` (docs/transports.md):
// the stream's headers wait for the connect; a connect refused before them is answered as an HTTP status and body
// instead of a 200 stream ending with a disconnect push.
import type { ServerResponse } from 'node:http';
import type { ConnectCodeToHttpResponse } from '../config/types.js';

/** How a deferred stream starts (its status and headers) and how a refused connect is answered. */
export interface DeferredStart {
  readonly begin: (res: ServerResponse) => void;
  readonly rejection: ConnectCodeToHttpResponse;
}

/** The first transform for `code` (an empty body is `text`), else 500 `Internal Server Error` as Centrifugo does. */
export function connectHttpResponse(cfg: ConnectCodeToHttpResponse, code: number, text: string): { status: number; body: string } {
  const t = cfg.transforms.find((x) => x.code === code);
  if (t === undefined) return { status: 500, body: 'Internal Server Error' };
  return { status: t.to.status_code, body: t.to.body === '' ? text : t.to.body };
}

/** Writes the answer to a refused connect and ends the response. */
export function answerRejectedConnect(res: ServerResponse, cfg: ConnectCodeToHttpResponse, code: number, text: string): void {
  const { status, body } = connectHttpResponse(cfg, code, text);
  const bytes = Buffer.from(body);
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(bytes.length) });
  res.end(bytes);
}
