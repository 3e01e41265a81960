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
    /** The head, latin1-decoded like Node does, and where its header lines start (after the request line). */
    private readonly text: string,
    private readonly linesFrom: number,
  ) {}

  /** Every header, lower-cased names, duplicates merged like `http.IncomingMessage#headers`. */
  get headers(): HeaderMap {
    this.all ??= parseHeaderMap(this.text, this.linesFrom);
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

/** True for the characters String.prototype.trim removes that a latin1-decoded head can hold. */
function isTrimmed(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;
}

/** The header value between `from` and `to`, trimmed as String.prototype.trim would: one slice, no other string. */
function valueAt(text: string, from: number, to: number): string {
  while (from < to && isTrimmed(text.charCodeAt(from))) from++;
  while (to > from && isTrimmed(text.charCodeAt(to - 1))) to--;
  return text.slice(from, to);
}

/** True when text[pos, pos + lower.length) is `lower` (lower-case ASCII) with its letters in any case. */
function nameIs(text: string, pos: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const want = lower.charCodeAt(i);
    const c = text.charCodeAt(pos + i);
    if (c !== want && (want < 0x61 || want > 0x7a || c !== want - 0x20)) return false;
  }
  return true;
}

/** The request headers the handshake reads (lower-case); each has a length no other of them has. */
type HandshakeHeader =
  | 'origin' | 'upgrade' | 'connection' | 'sec-websocket-key' | 'sec-websocket-version' | 'sec-websocket-protocol'
  | 'sec-websocket-extensions';

/** The handshake header named by the `n` characters at `pos` (in any letter case), or undefined. */
function handshakeHeader(text: string, pos: number, n: number): HandshakeHeader | undefined {
  let name: HandshakeHeader;
  switch (n) {
    case 6: name = 'origin'; break;
    case 7: name = 'upgrade'; break;
    case 10: name = 'connection'; break;
    case 17: name = 'sec-websocket-key'; break;
    case 21: name = 'sec-websocket-version'; break;
    case 22: name = 'sec-websocket-protocol'; break;
    case 24: name = 'sec-websocket-extensions'; break;
    default: return undefined;
  }
  return nameIs(text, pos, name) ? name : undefined;
}

/**
 * Parses `text` (the head up to, not including, the blank line). Returns null for a malformed request line or
 * header line (those go to Node's parser, which answers 400). Obsolete line folding is refused the same way.
 * Only the handshake headers' values become strings here; the rest wait for the lazy full map.
 */
export function parseRequestHead(text: string): RequestHead | null {
  let eol = text.indexOf('\r\n');
  if (eol === -1) eol = text.length;
  const sp1 = text.indexOf(' ');
  if (sp1 <= 0 || sp1 > eol) return null;
  const sp2 = text.indexOf(' ', sp1 + 1);
  if (sp2 === -1 || sp2 > eol || sp2 === sp1 + 1) return null;
  // "HTTP/1.1" or "HTTP/1.0", and nothing else up to the line's end.
  if (eol - sp2 - 1 !== 8 || !text.startsWith('HTTP/1.', sp2 + 1)) return null;
  const minor = text.charCodeAt(eol - 1);
  if (minor !== 0x31 && minor !== 0x30) return null;
  const head = new RequestHead(text.slice(0, sp1), text.slice(sp1 + 1, sp2), text, Math.min(eol + 2, text.length));
  let pos = eol + 2;
  while (pos < text.length) {
    let end = text.indexOf('\r\n', pos);
    if (end === -1) end = text.length;
    const colon = text.indexOf(':', pos);
    if (colon <= pos || colon > end || isBlank(text.charCodeAt(pos)) || isBlank(text.charCodeAt(colon - 1))) return null;
    switch (handshakeHeader(text, pos, colon - pos)) {
      case 'origin': head.origin = appendValue(head.origin, valueAt(text, colon + 1, end)); break;
      case 'upgrade': head.upgrade = appendValue(head.upgrade, valueAt(text, colon + 1, end)); break;
      case 'connection': head.connection = appendValue(head.connection, valueAt(text, colon + 1, end)); break;
      // Like Go's Header.Get in Centrifugo's upgrader: only the first key and subprotocol line count.
      case 'sec-websocket-key': head.key ??= valueAt(text, colon + 1, end); break;
      case 'sec-websocket-version': head.version = appendValue(head.version, valueAt(text, colon + 1, end)); break;
      case 'sec-websocket-protocol': head.protocol ??= valueAt(text, colon + 1, end); break;
      case 'sec-websocket-extensions': head.extensions = appendValue(head.extensions, valueAt(text, colon + 1, end)); break;
      case undefined: break;
    }
    pos = end + 2;
  }
  return head;
}

function parseHeaderMap(lines: string, from: number): HeaderMap {
  const out: HeaderMap = {};
  let pos = from;
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

/**
 * True when the comma-separated `list` holds `token` (case-insensitive), as Centrifugo's upgrader reads it.
 * `token` is lower-case ASCII. Each part is compared where it lies, trimmed as String.prototype.trim would,
 * without splitting the list into strings (every handshake asks this three times).
 */
export function hasToken(list: string | undefined, token: string): boolean {
  if (list === undefined) return false;
  let from = 0;
  while (from <= list.length) {
    let to = list.indexOf(',', from);
    if (to === -1) to = list.length;
    let a = from;
    let b = to;
    while (a < b && isTrimmed(list.charCodeAt(a))) a++;
    while (b > a && isTrimmed(list.charCodeAt(b - 1))) b--;
    if (b - a === token.length && nameIs(list, a, token)) return true;
    from = to + 1;
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
