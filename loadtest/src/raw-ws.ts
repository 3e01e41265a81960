// A minimal client-side WebSocket (RFC 6455) straight over a `node:net` socket, for the load generator only.
// A `ws` client costs an http.ClientRequest, an IncomingMessage, a Receiver/Sender stream pair and several
// EventEmitters per connection (~0.7 ms of CPU each on our 2 cores), so a 10,000-client "burst" became a ramp
// paced by the generator. Here a connection is one net.Socket plus one small object: the upgrade request is
// built once per URL, the Sec-WebSocket-Key is fixed per process (so the expected Accept value is hashed once;
// the server's answer is still checked), socket events go to shared functions, and frames are parsed by a
// small state machine. No extensions (no permessage-deflate), no TLS, no UTF-8 validation of text frames (the
// load tester decodes JSON and would notice garbage anyway).
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** Events of one socket. One handler object serves every socket; `ws.ctx` says whose socket it is. */
export interface RawWsHandler<C> {
  /** The 101 response was verified; `send` works from now on. */
  onOpen(ws: RawWebSocket<C>): void;
  /** A complete (reassembled) text or binary message. `data` may be a view into a socket chunk. */
  onMessage(ws: RawWebSocket<C>, data: Buffer, isBinary: boolean): void;
  /**
   * Always the last event, exactly once per socket, when the TCP connection is gone: the code of the close
   * frame received (1005 when it had none), 1002/1009 when we closed for a protocol violation, else 1006.
   */
  onClose(ws: RawWebSocket<C>, code: number, reason: string): void;
  /**
   * A failure, followed by onClose: an errno code (ECONNREFUSED, ECONNRESET, EADDRINUSE…), `http_<status>`
   * for a non-101 answer, or a handshake problem (bad_handshake, handshake_too_large, bad_accept, bad_upgrade,
   * bad_subprotocol, bad_extensions).
   */
  onError(ws: RawWebSocket<C>, code: string): void;
}

export interface RawWsOptions {
  localAddress?: string | undefined;
  localPort?: number | undefined;
  /** Largest message accepted (a bigger one closes with 1009). Default 64 MiB. */
  maxPayload?: number;
  /** After we send a close frame, how long to wait for the server before destroying the socket. */
  closeTimeoutMs?: number;
}

/** Where to connect and the exact upgrade request bytes; built once per URL (see targetFor). */
export interface RawWsTarget {
  readonly host: string;
  readonly port: number;
  readonly request: Buffer;
  readonly protocols: readonly string[];
}

export const ReadyState = { Connecting: 0, Open: 1, Closing: 2, Closed: 3 } as const;
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** One key per process: the handshake only proves the server speaks WebSocket, it is not a secret. */
const KEY = randomBytes(16).toString('base64');
const EXPECTED_ACCEPT = createHash('sha1').update(KEY + GUID).digest('base64');
const MAX_HEAD = 16 * 1024;
const DEFAULT_MAX_PAYLOAD = 64 * 1024 * 1024;
const DEFAULT_CLOSE_TIMEOUT_MS = 5000;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

const OP_CONT = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** Parser states: waiting for the 2-byte frame header, an extended length, or the payload. */
const S_HEADER = 0;
const S_LEN16 = 1;
const S_LEN64 = 2;
const S_DATA = 3;

/**
 * Mask keys come from a random pool refilled 8 KiB at a time: one crypto call per 2,048 frames instead of one
 * per frame. Masks only stop intermediaries from mistaking frames for other protocols (RFC 6455 §10.3).
 */
const maskPool = Buffer.allocUnsafe(8192);
let maskPos = maskPool.length;

function writeMask(dst: Buffer, at: number): void {
  if (maskPos + 4 > maskPool.length) {
    randomFillSync(maskPool);
    maskPos = 0;
  }
  dst[at] = maskPool[maskPos] ?? 0;
  dst[at + 1] = maskPool[maskPos + 1] ?? 0;
  dst[at + 2] = maskPool[maskPos + 2] ?? 0;
  dst[at + 3] = maskPool[maskPos + 3] ?? 0;
  maskPos += 4;
}

/** XORs buf[start..] with the 4-byte mask stored at buf[maskAt..maskAt+4]. */
function applyMask(buf: Buffer, maskAt: number, start: number): void {
  const m0 = buf[maskAt] ?? 0;
  const m1 = buf[maskAt + 1] ?? 0;
  const m2 = buf[maskAt + 2] ?? 0;
  const m3 = buf[maskAt + 3] ?? 0;
  const end = buf.length;
  let i = start;
  for (; i + 3 < end; i += 4) {
    buf[i] = (buf[i] ?? 0) ^ m0;
    buf[i + 1] = (buf[i + 1] ?? 0) ^ m1;
    buf[i + 2] = (buf[i + 2] ?? 0) ^ m2;
    buf[i + 3] = (buf[i + 3] ?? 0) ^ m3;
  }
  // At most 3 bytes left; they line up with m0, m1, m2.
  if (i < end) buf[i] = (buf[i] ?? 0) ^ m0;
  if (i + 1 < end) buf[i + 1] = (buf[i + 1] ?? 0) ^ m1;
  if (i + 2 < end) buf[i + 2] = (buf[i + 2] ?? 0) ^ m2;
}

/**
 * One masked client frame (header, mask and payload in a single buffer, so a single socket write). The payload
 * has to be copied anyway to be masked, so a string is encoded straight into the frame.
 */
export function buildFrame(opcode: number, payload: string | Uint8Array): Buffer {
  const len = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + 4 + len);
  frame[0] = 0x80 | opcode;
  if (len < 126) {
    frame[1] = 0x80 | len;
  } else if (len < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(Math.floor(len / 0x100000000), 2);
    frame.writeUInt32BE(len >>> 0, 6);
  }
  const maskAt = head;
  writeMask(frame, maskAt);
  const start = maskAt + 4;
  if (typeof payload === 'string') frame.write(payload, start, 'utf8');
  else frame.set(payload, start);
  applyMask(frame, maskAt, start);
  return frame;
}

function closePayload(code: number, reason: string): Buffer {
  const r = Buffer.from(reason, 'utf8');
  // A close frame is a control frame: 125 bytes at most, 2 of them the code.
  const p = Buffer.allocUnsafe(2 + Math.min(r.length, 123));
  p.writeUInt16BE(code, 0);
  r.copy(p, 2, 0, Math.min(r.length, 123));
  return p;
}

/** Codes a peer may put in a close frame (RFC 6455 §7.4.1; 1004–1006 and 1015 are reserved, never sent). */
function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

const targets = new Map<string, RawWsTarget>();

/** The target of `url` (ws:// only), cached: every client of a run shares one request buffer. */
export function targetFor(url: string, protocols: readonly string[] = []): RawWsTarget {
  const cacheKey = protocols.length === 0 ? url : `${url}\n${protocols.join(',')}`;
  const cached = targets.get(cacheKey);
  if (cached !== undefined) return cached;
  const u = new URL(url);
  if (u.protocol !== 'ws:') throw new TypeError(`raw-ws supports ws:// URLs only, got ${u.protocol}`);
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === '' ? 80 : Number(u.port);
  const lines = [
    `GET ${u.pathname}${u.search} HTTP/1.1`,
    `Host: ${u.host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${KEY}`,
    'Sec-WebSocket-Version: 13',
  ];
  if (protocols.length > 0) lines.push(`Sec-WebSocket-Protocol: ${protocols.join(', ')}`);
  const target: RawWsTarget = { host, port, request: Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), protocols: [...protocols] };
  targets.set(cacheKey, target);
  return target;
}

/** Checks the response head (without the blank line); returns an error code, or null when it is a valid 101. */
function checkHead(head: string, protocols: readonly string[]): string | null {
  const lines = head.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0] ?? '');
  if (status === null) return 'bad_handshake';
  if (status[1] !== '101') return `http_${Number(status[1])}`;
  let upgrade = '';
  let connection = '';
  let accept: string | null = null;
  let protocol: string | null = null;
  let extensions = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const colon = line.indexOf(':');
    if (colon <= 0) return 'bad_handshake';
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'upgrade') upgrade = value.toLowerCase();
    else if (name === 'connection') connection = value.toLowerCase();
    else if (name === 'sec-websocket-accept') accept = accept === null ? value : '';
    else if (name === 'sec-websocket-protocol') protocol = value;
    else if (name === 'sec-websocket-extensions') extensions = true;
  }
  if (upgrade !== 'websocket' || !connection.split(',').some((t) => t.trim() === 'upgrade')) return 'bad_upgrade';
  if (accept !== EXPECTED_ACCEPT) return 'bad_accept';
  // We offer no extension, so the server may not pick one (RFC 6455 §4.1, client step 5).
  if (extensions) return 'bad_extensions';
  if (protocol !== null ? !protocols.includes(protocol) : protocols.length > 0) return 'bad_subprotocol';
  return null;
}

/** The socket's owner, stored on the socket so that the listeners are shared functions, not closures. */
const OWNER = Symbol('rawWs');
interface OwnedSocket extends Socket {
  [OWNER]: RawWebSocket<unknown>;
}

function ownerOf(s: Socket): RawWebSocket<unknown> {
  return (s as OwnedSocket)[OWNER];
}

function onSocketConnect(this: Socket): void {
  ownerOf(this).connected();
}
function onSocketData(this: Socket, chunk: Buffer): void {
  ownerOf(this).received(chunk);
}
function onSocketError(this: Socket, err: Error): void {
  ownerOf(this).socketError(err);
}
function onSocketClose(this: Socket): void {
  ownerOf(this).socketClosed();
}

function errorCode(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : 'error';
}

export class RawWebSocket<C> {
  readyState: ReadyState = ReadyState.Connecting;
  private readonly socket: Socket;
  private readonly maxPayload: number;
  private readonly closeTimeoutMs: number;
  /** Response head bytes while the 101 is incomplete (usually it arrives in one chunk and this stays null). */
  private head: Buffer | null = null;
  /** Unparsed frame bytes: a list of chunks, consumed from the front (no concatenation of whole chunks). */
  private chunks: Buffer[] = [];
  private buffered = 0;
  private state = S_HEADER;
  private fin = false;
  private opcode = 0;
  private payloadLen = 0;
  /** Fragments of a message in progress (opcode of its first frame in `fragOpcode`, 0 = none). */
  private fragments: Buffer[] = [];
  private fragBytes = 0;
  private fragOpcode = 0;
  /** Frames are parsed and delivered only while this is set: from the 101 until a close frame or terminate. */
  private reading = false;
  private closeSent = false;
  private closeCode = 1006;
  private closeReason = '';
  private errored = false;
  private closeTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly target: RawWsTarget,
    private readonly handler: RawWsHandler<C>,
    readonly ctx: C,
    opts: RawWsOptions = {},
  ) {
    this.maxPayload = opts.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.closeTimeoutMs = opts.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    const s = connect({
      host: target.host,
      port: target.port,
      noDelay: true,
      ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}),
      ...(opts.localPort !== undefined ? { localPort: opts.localPort } : {}),
    });
    (s as OwnedSocket)[OWNER] = this;
    s.on('connect', onSocketConnect);
    s.on('data', onSocketData);
    s.on('error', onSocketError);
    s.on('close', onSocketClose);
    this.socket = s;
  }

  /** Sends a text message (string, or bytes that are already UTF-8) or, with `binary`, a binary one. */
  send(data: string | Uint8Array, binary = false): boolean {
    if (this.readyState !== ReadyState.Open) return false;
    this.socket.write(buildFrame(binary ? OP_BINARY : OP_TEXT, data));
    return true;
  }

  /** Starts the close handshake (a socket still connecting is simply destroyed). */
  close(code = 1000, reason = ''): void {
    if (this.readyState === ReadyState.Connecting) return this.terminate();
    if (this.readyState !== ReadyState.Open) return;
    this.sendClose(closePayload(code, reason));
  }

  /** Drops the TCP connection at once; onClose follows with 1006 (unless a close frame already came). */
  terminate(): void {
    this.reading = false;
    if (this.readyState === ReadyState.Closed) return;
    this.readyState = ReadyState.Closing;
    this.socket.destroy();
  }

  /** Bytes accepted by send() but not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  // ---- socket events (called by the shared listeners) ---------------------------------------------

  /** @internal */
  connected(): void {
    this.socket.write(this.target.request);
  }

  /** @internal */
  socketError(err: Error): void {
    this.fail(errorCode(err));
  }

  /** @internal */
  socketClosed(): void {
    if (this.closeTimer !== null) {
      clearTimeout(this.closeTimer);
      this.closeTimer = null;
    }
    const wasConnecting = this.readyState === ReadyState.Connecting;
    this.readyState = ReadyState.Closed;
    // The server hung up before answering the upgrade: the same cause `http` gives (“socket hang up”).
    if (wasConnecting && !this.errored) this.fail('ECONNRESET');
    this.chunks = [];
    this.fragments = [];
    this.handler.onClose(this, this.closeCode, this.closeReason);
  }

  /** @internal */
  received(chunk: Buffer): void {
    if (this.readyState === ReadyState.Connecting) {
      const rest = this.handshake(chunk);
      if (rest === null || rest.length === 0) return;
      chunk = rest;
    }
    if (!this.reading) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.parse();
  }

  // ---- handshake ----------------------------------------------------------------------------------

  /** Consumes response-head bytes; returns the bytes after the head (frames) once it is complete, else null. */
  private handshake(chunk: Buffer): Buffer | null {
    let buf = chunk;
    let from = 0;
    if (this.head !== null) {
      from = Math.max(0, this.head.length - 3);
      buf = Buffer.concat([this.head, chunk]);
    }
    const end = buf.indexOf(HEAD_END, from);
    if (end < 0) {
      if (buf.length > MAX_HEAD) this.fail('handshake_too_large');
      else this.head = buf;
      return null;
    }
    this.head = null;
    if (end > MAX_HEAD) {
      this.fail('handshake_too_large');
      return null;
    }
    const problem = checkHead(buf.toString('latin1', 0, end), this.target.protocols);
    if (problem !== null) {
      this.fail(problem);
      return null;
    }
    this.readyState = ReadyState.Open;
    this.reading = true;
    this.handler.onOpen(this);
    // onOpen may have closed the socket; frames that came with the head are then dropped with it.
    if (this.readyState !== ReadyState.Open) return null;
    return buf.subarray(end + 4);
  }

  /** Reports `code` once (onError) and destroys the socket; onClose follows from the socket's close event. */
  private fail(code: string): void {
    if (this.errored) return;
    this.errored = true;
    this.handler.onError(this, code);
    this.terminate();
  }

  // ---- frames -------------------------------------------------------------------------------------

  /** Takes `n` bytes (n <= buffered) from the front of the chunk list; copies only when n spans chunks. */
  private consume(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first === undefined) return Buffer.alloc(0);
    if (n === first.length) {
      this.chunks.shift();
      return first;
    }
    if (n < first.length) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0];
      if (c === undefined) break;
      const take = Math.min(c.length, n - off);
      c.copy(out, off, 0, take);
      off += take;
      if (take === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(take);
    }
    return out;
  }

  /** Runs the state machine over the buffered bytes until it needs more, or the socket stops reading. */
  private parse(): void {
    while (this.reading) {
      if (this.state === S_HEADER) {
        if (this.buffered < 2) return;
        const h = this.consume(2);
        if (!this.readHeader(h[0] ?? 0, h[1] ?? 0)) return;
      } else if (this.state === S_LEN16) {
        if (this.buffered < 2) return;
        this.payloadLen = this.consume(2).readUInt16BE(0);
        if (!this.checkLength()) return;
      } else if (this.state === S_LEN64) {
        if (this.buffered < 8) return;
        const b = this.consume(8);
        const high = b.readUInt32BE(0);
        // Above 2^53 a JS number loses precision; anything that large is over maxPayload anyway.
        if (high > 0x1fffff) {
          this.protocolError(1009, 'frame too large');
          return;
        }
        this.payloadLen = high * 0x100000000 + b.readUInt32BE(4);
        if (!this.checkLength()) return;
      } else {
        if (this.buffered < this.payloadLen) return;
        const payload = this.payloadLen === 0 ? Buffer.alloc(0) : this.consume(this.payloadLen);
        this.state = S_HEADER;
        this.frame(payload);
      }
    }
  }

  /** Checks the first two header bytes; returns false after closing for a protocol violation. */
  private readHeader(b0: number, b1: number): boolean {
    this.fin = (b0 & 0x80) !== 0;
    this.opcode = b0 & 0x0f;
    // RSV bits need a negotiated extension, and we negotiate none.
    if ((b0 & 0x70) !== 0) return this.protocolError(1002, 'reserved bits set');
    // Server-to-client frames are never masked (RFC 6455 §5.1).
    if ((b1 & 0x80) !== 0) return this.protocolError(1002, 'masked server frame');
    const len = b1 & 0x7f;
    const op = this.opcode;
    if (op >= OP_CLOSE) {
      if (op !== OP_CLOSE && op !== OP_PING && op !== OP_PONG) return this.protocolError(1002, 'bad opcode');
      if (!this.fin || len > 125) return this.protocolError(1002, 'bad control frame');
    } else if (op === OP_CONT) {
      if (this.fragOpcode === 0) return this.protocolError(1002, 'unexpected continuation');
    } else if (op === OP_TEXT || op === OP_BINARY) {
      if (this.fragOpcode !== 0) return this.protocolError(1002, 'expected continuation');
    } else {
      return this.protocolError(1002, 'bad opcode');
    }
    if (len === 126) {
      this.state = S_LEN16;
    } else if (len === 127) {
      this.state = S_LEN64;
    } else {
      this.payloadLen = len;
      return this.checkLength();
    }
    return true;
  }

  private checkLength(): boolean {
    if (this.opcode < OP_CLOSE && this.fragBytes + this.payloadLen > this.maxPayload) {
      return this.protocolError(1009, 'message too big');
    }
    this.state = S_DATA;
    return true;
  }

  private frame(payload: Buffer): void {
    const op = this.opcode;
    if (op === OP_PING) {
      if (this.readyState === ReadyState.Open) this.socket.write(buildFrame(OP_PONG, payload));
      return;
    }
    if (op === OP_PONG) return;
    if (op === OP_CLOSE) return this.closeFrame(payload);
    if (op !== OP_CONT && this.fin) {
      this.handler.onMessage(this, payload, op === OP_BINARY);
      return;
    }
    if (op !== OP_CONT) this.fragOpcode = op;
    this.fragments.push(payload);
    this.fragBytes += payload.length;
    if (!this.fin) return;
    const data = this.fragments.length === 1 ? (this.fragments[0] ?? Buffer.alloc(0)) : Buffer.concat(this.fragments, this.fragBytes);
    const binary = this.fragOpcode === OP_BINARY;
    this.fragments = [];
    this.fragBytes = 0;
    this.fragOpcode = 0;
    this.handler.onMessage(this, data, binary);
  }

  private closeFrame(payload: Buffer): void {
    if (payload.length === 1) {
      this.protocolError(1002, 'bad close payload');
      return;
    }
    let code = 1005;
    let reason = '';
    if (payload.length >= 2) {
      code = payload.readUInt16BE(0);
      if (!isValidCloseCode(code)) {
        this.protocolError(1002, 'bad close code');
        return;
      }
      reason = payload.toString('utf8', 2);
    }
    this.reading = false;
    this.closeCode = code;
    this.closeReason = reason;
    this.chunks = [];
    this.buffered = 0;
    // Echo the code (RFC 6455 §5.5.1), then end our side; the server closes TCP and onClose follows.
    if (!this.closeSent) this.sendClose(code === 1005 ? Buffer.alloc(0) : closePayload(code, ''));
    this.socket.end();
  }

  /** Closes with `code` after a protocol violation; returns false so callers can `return` it. */
  private protocolError(code: number, reason: string): boolean {
    if (this.closeSent) {
      this.terminate();
    } else {
      this.sendClose(closePayload(code, reason));
      this.socket.end();
    }
    this.closeCode = code;
    this.closeReason = reason;
    this.reading = false;
    this.chunks = [];
    this.buffered = 0;
    return false;
  }

  private sendClose(payload: Buffer): void {
    this.closeSent = true;
    this.readyState = ReadyState.Closing;
    this.socket.write(buildFrame(OP_CLOSE, payload));
    // Our half of the handshake is done; a server that never answers must not keep the socket forever.
    this.closeTimer = setTimeout(() => {
      this.closeTimer = null;
      this.socket.destroy();
    }, this.closeTimeoutMs);
  }
}
