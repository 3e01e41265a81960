// What the HTTP-based connection endpoints share (docs/transports.md): Centrifugo's CORS answer, the preflight, bare
// status answers, the no-cache headers of a streaming response and the read of a capped request body.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, readBody } from '../http/body.js';
import type { OriginCheck } from './origin.js';

/** Headers of every streaming answer (HTTP/1.1: plus Connection: keep-alive, which Node adds itself). */
export const STREAM_HEADERS: Readonly<Record<string, string>> = {
  'X-Accel-Buffering': 'no',
  'Cache-Control': 'private, no-cache, no-store, must-revalidate, max-age=0',
  Pragma: 'no-cache',
  Expire: '0',
};

/**
 * Centrifugo's CORS middleware: when the Origin passes the check (a request without Origin always does), the answer
 * allows that origin (the empty string when there was none) with credentials and echoes the requested headers.
 * Otherwise nothing is added: the request still runs, the browser blocks the answer.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, originOk: OriginCheck): void {
  const origin = req.headers.origin;
  if (!originOk(origin)) return;
  res.setHeader('Access-Control-Allow-Origin', origin ?? '');
  res.setHeader('Access-Control-Allow-Credentials', 'true');
  const requested = req.headers['access-control-request-headers'];
  if (requested !== undefined && requested !== '') res.setHeader('Access-Control-Allow-Headers', requested);
}

/** The answer to a browser preflight (OPTIONS) on http_stream, uni_http_stream and emulation. */
export function answerPreflight(res: ServerResponse): void {
  res.setHeader('Access-Control-Max-Age', '300');
  res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
  answerStatus(res, 204);
}

/**
 * The method handling of the POST endpoints (http_stream, uni_http_stream, emulation): CORS first, OPTIONS is the
 * preflight, anything but POST is 405; a POST goes to `run`.
 */
export function postEndpoint(
  req: IncomingMessage,
  res: ServerResponse,
  originOk: OriginCheck,
  run: (req: IncomingMessage, res: ServerResponse) => void,
): void {
  applyCors(req, res, originOk);
  if (req.method === 'OPTIONS') return answerPreflight(res);
  if (req.method !== 'POST') {
    req.resume();
    return answerStatus(res, 405);
  }
  run(req, res);
}

/** A bodiless answer (Content-Length: 0 except on 204), as Go's WriteHeader without a body gives. */
export function answerStatus(res: ServerResponse, status: number): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  if (status !== 204) res.setHeader('Content-Length', '0');
  // A refused body is not read on: the connection goes (Go's MaxBytesReader does the same).
  if (status === 413) res.setHeader('Connection', 'close');
  res.writeHead(status);
  res.end();
}

/**
 * The request body, or the status already answered when it could not be read: 413 above `limit`, and for a
 * client that went away nothing (the socket is gone).
 */
export async function readCappedBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<Buffer | null> {
  try {
    return await readBody(req, limit);
  } catch (err) {
    if (err instanceof BodyTooLargeError) answerStatus(res, 413);
    else res.destroy();
    return null;
  }
}

/** Protobuf when the request says `Content-Type: application/octet-stream` (exactly, as Centrifugo compares it). */
export function isProtobufRequest(req: IncomingMessage): boolean {
  return req.headers['content-type'] === 'application/octet-stream';
}

/** The value of a query parameter ('' when absent), URL-decoded. */
export function queryParam(url: string | undefined, name: string): string {
  if (url === undefined) return '';
  const q = url.indexOf('?');
  if (q === -1) return '';
  return new URLSearchParams(url.slice(q + 1)).get(name) ?? '';
}
