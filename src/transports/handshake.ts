// The WebSocket opening handshake without Node's http machinery (RFC 6455 §4.2): finding and parsing the
// request head, deciding whether it is an upgrade, validating it with Centrifugo's rules (docs/handshake.md:
// what its upgrader accepts, Gyre accepts) and building the 101 answer. Pure functions over strings and
// buffers, so they are unit-testable; transports/websocket.ts applies the same checks to requests that come
// through Node's http.Server.
import { createHash } from 'node:crypto';

/**
 * A head that does not end within this many bytes gets 431: 1 MiB, Go's `http.DefaultMaxHeaderBytes`, which
 * Centrifugo serves with (Node's own default, 16 KiB, refuses a large cookie jar that Centrifugo accepts).
 */
export const MAX_HEAD_BYTES = 1024 * 1024;
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const KEY_RE = /^[+/0-9A-Za-z]{22}==$/;
/** Headers Node keeps only the first of (http.IncomingMessage#headers); every other duplicate is joined. */
const FIRST_WINS = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host',
  'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards',
  'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent',
]);

export type HeaderMap = Record<string, string | string[] | undefined>;

/**
 * A parsed request head. The handshake headers are picked out in one pass; the full header map (needed only
 * by `user_id_http_header`) is built on first access.
 */
export class RequestHead {
  upgrade: string | undefined = undefined;
  connection: string | undefined = undefined;
  key: string | undefined = undefined;
  version: string | undefined = undefined;
  protocol: string | undefined = undefined;
  extensions: string | undefined = undefined;
  origin: string | undefined = undefined;
  private all: HeaderMap | undefined = undefined;

  constructor(
    readonly method: string,
    /** Request target as sent (`/path?query`). */
    readonly url: string,
    /** The header lines (without the request line), latin1-decoded like Node does. */
    private readonly lines: string,
  ) {}

  /** Every header, lower-cased names, duplicates merged like `http.IncomingMessage#headers`. */
  get headers(): HeaderMap {
    this.all ??= parseHeaderMap(this.lines);
    return this.all;
  }

  /** True for an HTTP upgrade request (Node emits 'upgrade' for these: `Connection: upgrade` + `Upgrade`). */
  get isUpgrade(): boolean {
    return this.upgrade !== undefined && this.connection !== undefined && hasToken(this.connection, 'upgrade');
  }
}

function appendValue(prev: string | undefined, value: string): string {
  return prev === undefined ? value : `${prev}, ${value}`;
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * Index just past the blank line ending the head in `buf`, or -1. Lines may end in CRLF or, as Go's server
 * (so Centrifugo) also reads them, in a bare LF. `from` lets a caller that receives the head in pieces skip
 * bytes it already searched.
 */
export function findHeadEnd(buf: Buffer, from = 0): number {
  const start = Math.max(0, from - 3);
  // "\n\r\n" ends a CRLF head (and an LF line followed by CRLF); "\n\n" a head whose last line ends in LF.
  const crlf = buf.indexOf('\n\r\n', start, 'latin1');
  const lf = buf.indexOf('\n\n', start, 'latin1');
  if (crlf === -1) return lf === -1 ? -1 : lf + 2;
  if (lf === -1 || crlf < lf) return crlf + 3;
  return lf + 2;
}

/**
 * The head text in CRLF form without its blank line, from `buf` up to `end` (from findHeadEnd), and whether
 * it had to be rewritten (some line ended in a bare LF).
 */
export function headText(buf: Buffer, end: number): { text: string; rewritten: boolean } {
  const raw = buf.toString('latin1', 0, end);
  let bare = false;
  for (let i = raw.indexOf('\n'); i !== -1; i = raw.indexOf('\n', i + 1)) {
    if (i === 0 || raw.charCodeAt(i - 1) !== 0x0d) {
      bare = true;
      break;
    }
  }
  if (!bare) return { text: raw.slice(0, -4), rewritten: false };
  const lines = raw.split(/\r?\n/);
  // The split leaves two empty entries for the terminating blank line.
  return { text: lines.slice(0, -2).join('\r\n'), rewritten: true };
}

/**
 * Parses `text` (the head up to, not including, the blank line). Returns null for a malformed request line or
 * header line (those go to Node's parser, which answers 400). Obsolete line folding is refused the same way.
 */
export function parseRequestHead(text: string): RequestHead | null {
  let eol = text.indexOf('\r\n');
  if (eol === -1) eol = text.length;
  const sp1 = text.indexOf(' ');
  if (sp1 <= 0 || sp1 > eol) return null;
  const sp2 = text.indexOf(' ', sp1 + 1);
  if (sp2 === -1 || sp2 > eol || sp2 === sp1 + 1) return null;
  const httpVersion = text.slice(sp2 + 1, eol);
  if (httpVersion !== 'HTTP/1.1' && httpVersion !== 'HTTP/1.0') return null;
  const head = new RequestHead(text.slice(0, sp1), text.slice(sp1 + 1, sp2), eol < text.length ? text.slice(eol + 2) : '');
  let pos = eol + 2;
  while (pos < text.length) {
    let end = text.indexOf('\r\n', pos);
    if (end === -1) end = text.length;
    const colon = text.indexOf(':', pos);
    if (colon <= pos || colon > end || isBlank(text.charCodeAt(pos)) || isBlank(text.charCodeAt(colon - 1))) return null;
    // Only names of the lengths we care about are lower-cased; the rest wait for the lazy full map.
    const n = colon - pos;
    if (n === 6 || n === 7 || n === 10 || n === 17 || n === 21 || n === 22 || n === 24) {
      const value = text.slice(colon + 1, end).trim();
      switch (text.slice(pos, colon).toLowerCase()) {
        case 'origin': head.origin = appendValue(head.origin, value); break;
        case 'upgrade': head.upgrade = appendValue(head.upgrade, value); break;
        case 'connection': head.connection = appendValue(head.connection, value); break;
        // Like Go's Header.Get in Centrifugo's upgrader: only the first key and subprotocol line count.
        case 'sec-websocket-key': head.key ??= value; break;
        case 'sec-websocket-version': head.version = appendValue(head.version, value); break;
        case 'sec-websocket-protocol': head.protocol ??= value; break;
        case 'sec-websocket-extensions': head.extensions = appendValue(head.extensions, value); break;
        default: break;
      }
    }
    pos = end + 2;
  }
  return head;
}

function parseHeaderMap(lines: string): HeaderMap {
  const out: HeaderMap = {};
  let pos = 0;
  while (pos < lines.length) {
    let end = lines.indexOf('\r\n', pos);
    if (end === -1) end = lines.length;
    const colon = lines.indexOf(':', pos);
    if (colon > pos && colon < end) {
      const name = lines.slice(pos, colon).toLowerCase();
      const value = lines.slice(colon + 1, end).trim();
      const prev = out[name];
      if (prev === undefined) out[name] = name === 'set-cookie' ? [value] : value;
      else if (Array.isArray(prev)) prev.push(value);
      else if (!FIRST_WINS.has(name)) out[name] = `${prev}, ${value}`;
    }
    pos = end + 2;
  }
  return out;
}

/** Splits a request target into pathname and query without allocating a URL object. */
export function splitTarget(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  return q === -1 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

/** A refused handshake: status, body text and extra headers. */
export interface HandshakeError {
  readonly status: number;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A valid handshake: the key to answer and the offered subprotocols, in the client's order. */
export interface HandshakeOk {
  readonly key: string;
  readonly protocols: readonly string[];
}

/** The request fields a handshake is judged on (a RequestHead, or an IncomingMessage's headers). */
export interface UpgradeFields {
  readonly method: string;
  /** Every Upgrade line, joined. */
  readonly upgrade: string | undefined;
  /** Every Sec-WebSocket-Version line, joined. */
  readonly version: string | undefined;
  /** The first Sec-WebSocket-Key line. */
  readonly key: string | undefined;
  /** The first Sec-WebSocket-Protocol line. */
  readonly protocol: string | undefined;
}

/** True when the comma-separated `list` holds `token` (case-insensitive), as Centrifugo's upgrader reads it. */
export function hasToken(list: string | undefined, token: string): boolean {
  if (list === undefined) return false;
  for (const part of list.split(',')) {
    if (part.trim().toLowerCase() === token) return true;
  }
  return false;
}

/**
 * Splits a Sec-WebSocket-Protocol value into its trimmed, non-empty entries, in order. Nothing is refused:
 * Centrifugo answers 101 to an empty value (the official Python client sends one), to repeated or malformed
 * entries, and simply negotiates no subprotocol when none of ours is offered.
 */
export function parseSubprotocols(value: string | undefined): string[] {
  if (value === undefined) return [];
  const out: string[] = [];
  for (const part of value.split(',')) {
    const t = part.trim();
    if (t !== '') out.push(t);
  }
  return out;
}

/**
 * The handshake fields of a request Node's http parser read, from its raw header list: the first key and
 * subprotocol line (Node would join duplicates), every Upgrade and version line.
 */
export function upgradeFieldsOf(method: string, rawHeaders: readonly string[]): UpgradeFields {
  let upgrade: string | undefined;
  let version: string | undefined;
  let key: string | undefined;
  let protocol: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const value = (rawHeaders[i + 1] as string).trim();
    switch ((rawHeaders[i] as string).toLowerCase()) {
      case 'upgrade': upgrade = appendValue(upgrade, value); break;
      case 'sec-websocket-version': version = appendValue(version, value); break;
      case 'sec-websocket-key': key ??= value; break;
      case 'sec-websocket-protocol': protocol ??= value; break;
      default: break;
    }
  }
  return { method, upgrade, version, key, protocol };
}

/**
 * Checks an upgrade request the way Centrifugo's upgrader does, in its order: an `Upgrade` list holding
 * `websocket` (400), GET (405), a `Sec-WebSocket-Version` list holding 13 (8 is accepted too, as `ws`
 * always did; 400 otherwise, with the versions we speak), and a key that is 16 base64-encoded bytes (400).
 * The `Connection: upgrade` token is what made the request an upgrade in the first place.
 */
export function validateUpgrade(req: UpgradeFields): HandshakeOk | HandshakeError {
  if (!hasToken(req.upgrade, 'websocket')) return { status: 400, message: 'Invalid Upgrade header' };
  if (req.method !== 'GET') return { status: 405, message: 'Invalid HTTP method' };
  if (!hasToken(req.version, '13') && !hasToken(req.version, '8')) {
    return {
      status: 400,
      message: 'Missing or invalid Sec-WebSocket-Version header',
      headers: { 'Sec-WebSocket-Version': '13, 8' },
    };
  }
  const key = req.key;
  if (key === undefined || !KEY_RE.test(key)) return { status: 400, message: 'Missing or invalid Sec-WebSocket-Key header' };
  return { key, protocols: parseSubprotocols(req.protocol) };
}

export function isHandshakeError(r: HandshakeOk | HandshakeError): r is HandshakeError {
  return 'status' in r;
}

/** Sec-WebSocket-Accept for a client key: base64(sha1(key + GUID)). */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/** The complete 101 response head. */
export function switchingProtocols(key: string, protocol: string | false): string {
  const proto = protocol === false ? '' : `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n${proto}\r\n`;
}

/** True when the client offers permessage-deflate (then the `ws` path negotiates it). */
export function offersDeflate(extensions: string | undefined): boolean {
  return extensions !== undefined && extensions.toLowerCase().includes('permessage-deflate');
}

/** True when `buf` is a whole request head (ends with CRLF CRLF) of `GET <prefix>` followed by a space or `?`. */
export function isWholeGetOf(buf: Buffer, getPrefix: Buffer): boolean {
  const n = getPrefix.length;
  if (buf.length < n + 5 || buf.compare(getPrefix, 0, n, 0, n) !== 0) return false;
  const next = buf[n];
  if (next !== 0x20 && next !== 0x3f) return false;
  const e = buf.length;
  return buf[e - 4] === 0x0d && buf[e - 3] === 0x0a && buf[e - 2] === 0x0d && buf[e - 1] === 0x0a;
}
