// Requests the listening front (./front.ts) answers itself, without Node's http machinery: a plain keep-alive
// HTTP/1.1 `POST` with a Content-Length body to a path a DirectTarget accepts (the server API's method
// endpoints). Node's HTTPParser, IncomingMessage, ServerResponse and their timers cost about as much CPU as
// the whole publish behind a paced API request (measured: a bare Node http.Server answering a constant
// spends ~140 µs of CPU per request at 400 requests/s, a net.Server answering the same ~65 µs). Anything
// else, and any request whose framing is not the plain case below, goes to the http.Server as before.
import { STATUS_CODES } from 'node:http';
import type { HeaderMap, RequestHead } from '../transports/handshake.js';
import { hasToken } from '../transports/handshake.js';
import { splitUrl } from './url.js';

export interface DirectRequest {
  /** Path without the query. */
  path: string;
  /** Request target as sent. */
  url: string;
  headers: HeaderMap;
  body: Buffer;
}

export interface DirectReply {
  status: number;
  /** Absent: an empty body without Content-Type (as `sendEmpty` answers). */
  contentType?: string;
  body: string;
}

export interface DirectTarget {
  /** True when POSTs to `path` are answered by `serve`. */
  accepts(path: string): boolean;
  /** Bodies above this many bytes go to the http.Server (which answers 413). */
  maxBody(): number;
  /** Never rejects: failures are replies (500). */
  serve(req: DirectRequest): Promise<DirectReply>;
}

/** Larger bodies go to the http.Server, which streams them (the front gathers a body in one buffer). */
const DIRECT_MAX_BODY = 64 * 1024;
const CONTENT_LENGTH = /\r\ncontent-length[ \t]*:/gi;

/**
 * Body length of a request `target` takes directly, or -1 when the http.Server must handle it (HTTP/1.0,
 * chunked, Expect, Connection other than keep-alive, a missing, repeated or malformed Content-Length, a body
 * above the limit). `text` is the head as parsed into `head`.
 */
export function directBodyLength(head: RequestHead, text: string, target: DirectTarget): number {
  if (head.method !== 'POST' || !target.accepts(splitUrl(head.url).path)) return -1;
  const eol = text.indexOf('\r\n');
  if (!(eol === -1 ? text : text.slice(0, eol)).endsWith(' HTTP/1.1')) return -1;
  if ((text.match(CONTENT_LENGTH) ?? []).length !== 1) return -1;
  const h = head.headers;
  if (h['transfer-encoding'] !== undefined || h['expect'] !== undefined || h['upgrade'] !== undefined) return -1;
  const conn = h['connection'];
  if (conn !== undefined && (typeof conn !== 'string' || hasToken(conn, 'close') || hasToken(conn, 'upgrade'))) return -1;
  const cl = h['content-length'];
  if (typeof cl !== 'string' || !/^\d{1,15}$/.test(cl)) return -1;
  const n = Number(cl);
  return n <= Math.min(target.maxBody(), DIRECT_MAX_BODY) ? n : -1;
}

let dateSecond = -1;
let dateText = '';

/** The Date header value, computed once per second (as Node's http.Server caches it). */
function httpDate(): string {
  const now = Date.now();
  const sec = Math.floor(now / 1000);
  if (sec !== dateSecond) {
    dateSecond = sec;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** The response bytes, header for header what the http.Server sends for the same reply on a keep-alive request. */
export function serializeReply(r: DirectReply, keepAliveTimeoutMs: number): string {
  const type = r.contentType !== undefined ? `Content-Type: ${r.contentType}\r\n` : '';
  const keepAlive = keepAliveTimeoutMs > 0 ? `Keep-Alive: timeout=${Math.floor(keepAliveTimeoutMs / 1000)}\r\n` : '';
  return (
    `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? 'unknown'}\r\n${type}Content-Length: ${Buffer.byteLength(r.body)}\r\n` +
    `Date: ${httpDate()}\r\nConnection: keep-alive\r\n${keepAlive}\r\n${r.body}`
  );
}
