// The listening front of the main server: a plain net.Server that reads each connection's request head
// itself. A WebSocket upgrade is answered here without Node's http machinery (no HTTPParser, IncomingMessage
// or per-request objects: the cheapest handshake under connection bursts); every other request, with the
// bytes read so far pushed back, goes to the regular http.Server, as documented for Duplex 'connection'.
// Plain keep-alive POSTs to the server API's method endpoints are answered here too (./direct.ts); such a
// connection stays with the front for its next request.
import { createServer } from 'node:net';
import type { Server as NetServer, Socket } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { createServer as createTlsServer } from 'node:tls';
import type { TlsOptions } from 'node:tls';
import { findHeadEnd, headText, MAX_HEAD_BYTES, parseRequestHead } from '../transports/handshake.js';
import type { HeaderMap, RequestHead } from '../transports/handshake.js';
import { performance } from 'node:perf_hooks';
import { BatchedGauge } from '../metrics/batched.js';
import { metrics, parity } from '../metrics/registry.js';
import type { RejectionLog } from '../util/rejection-log.js';
import { directBodyLength, serializeReply } from './direct.js';
import type { DirectTarget } from './direct.js';

/** Takes over a parsed upgrade request. Returns false to let the http.Server handle it instead. */
export interface UpgradeTarget {
  /** `startedAt`: performance.now() when the connection was accepted (handshake duration metric). */
  tryUpgrade(head: RequestHead, socket: Socket, rest: Buffer, startedAt: number): boolean;
  /**
   * Asked with the first bytes of a new connection, before any parsing: a refusal that answers it at once
   * (an upgrade to this target while the node refuses every new client), or null for the normal path.
   */
  earlyRefusal?(first: Buffer): ((socket: Socket) => void) | null;
}

/**
 * TCP keep-alive idle time of accepted connections: Go's listener default (15 s), which Centrifugo serves with.
 * Node's `setKeepAlive(true)` without a delay asks the kernel for an idle time of 0, which Linux refuses (EINVAL),
 * leaving the kernel's 2 h default.
 */
export const TCP_KEEPALIVE_IDLE_MS = 15_000;

export interface FrontOptions {
  /** Receives every connection that is not taken by `upgrade`. */
  http: HttpServer;
  upgrade?: UpgradeTarget | undefined;
  /** Requests answered without the http.Server (the server API's method endpoints on this port). */
  direct?: DirectTarget | undefined;
  /** A head not complete after this long gets 408 (default: the http.Server's `headersTimeout`). */
  headersTimeoutMs?: number;
  maxHeadBytes?: number;
  /** Serve HTTPS/WSS: a tls.Server accepts and hands each secured socket to the same head-reading logic. */
  tls?: TlsOptions | undefined;
  /** Where failed TLS handshakes are logged (rate-limited) and counted. */
  rejections?: RejectionLog | undefined;
}

const GET = Buffer.from('GET ', 'latin1');
const POST = Buffer.from('POST ', 'latin1');
const TOO_LARGE = 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n';
const TIMEOUT = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n';
/** Bytes read and kept (the request being answered and what is pipelined behind it) before reading pauses. */
const PIPELINED_BYTES = 64 * 1024;

/** Per-connection read state while the head is incomplete, kept on the socket by a symbol. */
interface Pending {
  front: HttpFront;
  buf: Buffer | null;
  deadline: number;
  /** performance.now() at accept (or at the first byte of a request after a direct one). */
  started: number;
  /** Still counted in handshakesInflight (only until its first request is taken). */
  counted: boolean;
  /** A direct request is being answered: bytes read meanwhile (a pipelined request) wait in `buf`. */
  busy: boolean;
  /** Reading was paused while busy because `buf` passed the pipelining bound. */
  paused: boolean;
  /** Between keep-alive requests with nothing read yet: at `deadline` the connection closes without a reply. */
  idle: boolean;
  /** Close once the request being answered is answered (the front stops accepting). */
  closeAfter: boolean;
  /** Where the head of a direct request whose body is still coming ends; -1 otherwise. */
  headEnd: number;
}
const kPending = Symbol('gyre.front.pending');
type FrontSocket = Socket & { [kPending]?: Pending | undefined };

function ignore(): void {}

/** gyre_handshakes_inflight, batched: its +1 at accept and −1 when the head is taken net out within a turn. */
const inflight = new BatchedGauge(parity.handshakesInflight);
const NO_LABELS = {};

export class HttpFront {
  readonly server: NetServer;
  private readonly http: HttpServer;
  private readonly upgrade: UpgradeTarget | undefined;
  private readonly direct: DirectTarget | undefined;
  private readonly timeoutMs: number;
  private readonly maxHead: number;
  /** Sockets still reading their head; one sweep timer for all of them instead of a timer per connection. */
  private readonly pending = new Set<FrontSocket>();
  private sweepTimer: NodeJS.Timeout | undefined = undefined;
  private readonly sockOptsLater: boolean;

  constructor(opts: FrontOptions) {
    this.http = opts.http;
    this.upgrade = opts.upgrade;
    this.direct = opts.direct;
    this.timeoutMs = opts.headersTimeoutMs ?? (opts.http.headersTimeout > 0 ? opts.http.headersTimeout : 60_000);
    this.maxHead = opts.maxHeadBytes ?? MAX_HEAD_BYTES;
    // Plain TCP: no-delay and keep-alive are set on a connection once it is kept (its first chunk was not an
    // early refusal), so a refused one costs two setsockopt calls less (BENCHMARKS.md §11.3).
    this.sockOptsLater = opts.tls === undefined;
    this.server =
      opts.tls === undefined
        ? createServer(this.onConnection)
        : createTlsServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: TCP_KEEPALIVE_IDLE_MS, ...opts.tls }, this.onConnection);
    const rejections = opts.rejections;
    if (opts.tls !== undefined) {
      this.server.on('tlsClientError', (err: Error, socket: Socket) => {
        metrics.handshakeRejected.labels('tls').inc();
        rejections?.note('tls', 'handshake failed', { detail: err.message, remote: socket.remoteAddress });
      });
    }
    // Node's http.Server tracks connections (closeIdleConnections, request timeouts) only once it has emitted
    // 'listening'; it never listens itself here, so forward the front's event.
    this.server.on('listening', () => this.http.emit('listening'));
  }

  private readonly onConnection = (socket: FrontSocket): void => {
    socket.on('error', ignore);
    socket[kPending] = {
      front: this,
      buf: null,
      deadline: Date.now() + this.timeoutMs,
      started: performance.now(),
      counted: true,
      busy: false,
      paused: false,
      idle: false,
      closeAfter: false,
      headEnd: -1,
    };
    inflight.inc('', NO_LABELS);
    this.pending.add(socket);
    this.sweepTimer ??= setInterval(this.sweep, Math.min(1000, Math.max(10, this.timeoutMs / 4))).unref();
    socket.on('data', onData);
  };

  /** One chunk of a connection still in its head. */
  read(socket: FrontSocket, chunk: Buffer): void {
    const p = socket[kPending];
    if (p === undefined) return;
    if (p.buf === null && p.counted) {
      // The cheapest refusal in a storm: a WebSocket upgrade while the node is shut gets its 503 from the first
      // chunk, before the head is parsed (never /health, /metrics or the API: those are not the target's path).
      const refuse = this.upgrade?.earlyRefusal?.(chunk);
      if (refuse !== undefined && refuse !== null) {
        this.release(socket);
        refuse(socket);
        return;
      }
      if (this.sockOptsLater) {
        socket.setNoDelay(true);
        socket.setKeepAlive(true, TCP_KEEPALIVE_IDLE_MS);
      }
    }
    const prevLen = p.buf === null ? 0 : p.buf.length;
    p.buf = p.buf === null ? chunk : Buffer.concat([p.buf, chunk]);
    if (p.idle) {
      p.idle = false;
      p.deadline = Date.now() + this.timeoutMs;
      p.started = performance.now();
    }
    if (!p.busy) {
      this.advance(socket, p, prevLen);
    } else if (!p.paused && p.buf.length > PIPELINED_BYTES) {
      // A client pipelining ahead of the replies: stop reading until this request is answered.
      p.paused = true;
      socket.pause();
    }
  }

  /** Acts on the bytes read so far: waits for more, refuses, upgrades, answers directly or hands over. */
  private advance(socket: FrontSocket, p: Pending, prevLen: number): void {
    const buf = p.buf;
    if (buf === null) return;
    // Anything that does not start like a GET (or a POST when there is a direct target) is not ours: hand it
    // over without waiting for the head.
    const n = Math.min(buf.length, 4);
    const get = buf.compare(GET, 0, n, 0, n) === 0;
    if (!get && (this.direct === undefined || buf.compare(POST, 0, Math.min(buf.length, 5), 0, Math.min(buf.length, 5)) !== 0)) {
      return this.handOff(socket, buf);
    }
    if (buf.length < (get ? 4 : 5)) return;
    if (!get && !this.postForDirect(buf)) {
      if (buf.indexOf(0x0a) === -1 && buf.length <= this.maxHead) return; // the request line is still coming
      return this.handOff(socket, buf);
    }
    const end = p.headEnd >= 0 ? p.headEnd : findHeadEnd(buf, prevLen);
    if (end === -1) {
      if (buf.length > this.maxHead) this.refuse(socket, TOO_LARGE);
      return;
    }
    if (end > this.maxHead) return this.refuse(socket, TOO_LARGE);
    const { text, rewritten } = headText(buf, end);
    // Node's parser refuses bare-LF line ends that Centrifugo reads: it gets the same head in CRLF form.
    const forHttp = rewritten ? Buffer.concat([Buffer.from(`${text}\r\n\r\n`, 'latin1'), buf.subarray(end)]) : buf;
    const head = parseRequestHead(text);
    if (head !== null && !rewritten && !head.isUpgrade && this.direct !== undefined) {
      const len = directBodyLength(head, text, this.direct);
      if (len >= 0) {
        if (buf.length < end + len) {
          p.headEnd = end; // the body is still coming
          return;
        }
        return this.answer(socket, p, this.direct, head.url, head.headers, buf, end, len);
      }
    }
    // A POST the front does not answer goes over as read (Node refuses a bare-LF one, as before the front read POSTs).
    if (!get) return this.handOff(socket, buf);
    if (head === null || !head.isUpgrade || this.upgrade === undefined) return this.handOff(socket, forHttp);
    this.release(socket);
    if (!this.upgrade.tryUpgrade(head, socket, buf.subarray(end), p.started)) this.giveToHttp(socket, forHttp);
  }

  /** True when `buf` starts with a complete `POST <target> ` whose path the direct target takes. */
  private postForDirect(buf: Buffer): boolean {
    const eol = buf.indexOf(0x0a);
    const line = buf.toString('latin1', 5, eol === -1 ? Math.min(buf.length, 5 + 2048) : eol);
    const sp = line.indexOf(' ');
    if (sp <= 0) return false;
    const q = line.indexOf('?');
    return this.direct?.accepts(line.slice(0, q !== -1 && q < sp ? q : sp)) === true;
  }

  /** Answers one direct request; then the connection waits for its next request here. */
  private answer(
    socket: FrontSocket,
    p: Pending,
    target: DirectTarget,
    url: string,
    headers: HeaderMap,
    buf: Buffer,
    end: number,
    len: number,
  ): void {
    if (p.counted) {
      p.counted = false;
      inflight.dec('', NO_LABELS);
    }
    p.busy = true;
    p.headEnd = -1;
    // Reading goes on (read() keeps what comes in `buf` and pauses only past a bound): a pause and resume per
    // request cost a Readable state change and a deferred flow restart each time.
    const body = buf.subarray(end, end + len);
    void target.serve({ path: splitPath(url), url, headers, body }).then((reply) => {
      p.busy = false;
      if (socket.destroyed || socket[kPending] !== p) return;
      socket.write(serializeReply(reply, this.http.keepAliveTimeout));
      if (p.closeAfter) {
        this.release(socket);
        socket.end();
        return;
      }
      // Bytes read meanwhile (a pipelined request) follow this request's body.
      const all = p.buf ?? buf;
      const rest = all.length > end + len ? all.subarray(end + len) : null;
      p.buf = rest;
      p.idle = rest === null;
      p.deadline = Date.now() + (rest === null ? this.http.keepAliveTimeout : this.timeoutMs);
      p.started = performance.now();
      if (p.paused) {
        p.paused = false;
        socket.resume();
      }
      if (rest !== null) this.advance(socket, p, 0);
    });
  }

  private release(socket: FrontSocket): void {
    if (socket[kPending]?.counted === true) inflight.dec('', NO_LABELS);
    socket.removeListener('data', onData);
    socket.removeListener('error', ignore);
    socket[kPending] = undefined;
    this.pending.delete(socket);
  }

  private handOff(socket: FrontSocket, buf: Buffer): void {
    this.release(socket);
    this.giveToHttp(socket, buf);
  }

  /** Pushes the bytes read back and lets the http.Server take the socket as if it had accepted it. */
  private giveToHttp(socket: Socket, buf: Buffer): void {
    socket.pause();
    if (buf.length > 0) socket.unshift(buf);
    // Back to "no mode chosen" so the http.Server's 'data' listener starts the flow again (as Node itself
    // does before emitting 'upgrade').
    (socket as unknown as { readableFlowing: boolean | null }).readableFlowing = null;
    this.http.emit('connection', socket);
  }

  private refuse(socket: FrontSocket, response: string): void {
    this.release(socket);
    socket.on('error', ignore);
    if (socket.writable) socket.end(response);
    socket.destroySoon();
  }

  private readonly sweep = (): void => {
    const now = Date.now();
    for (const s of this.pending) {
      const p = s[kPending];
      if (s.destroyed || p === undefined) {
        this.release(s);
      } else if (p.busy || p.deadline > now) {
        continue;
      } else if (p.buf === null && !p.idle && s.readableFlowing === false) {
        // Parked (accepted while the queue had a backlog, not reading yet: cluster/listen-copies.ts): its wait is
        // the node's, not a slow client's. The head's time runs from when it starts reading (give or take a sweep).
        p.deadline = now + this.timeoutMs;
      } else if (p.idle) {
        // An idle keep-alive connection past its timeout: closed without a reply, as the http.Server does.
        this.release(s);
        s.destroy();
      } else {
        this.refuse(s, TIMEOUT);
      }
    }
    if (this.pending.size === 0 && this.sweepTimer !== undefined) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  };

  /** How long a connection may take to send its head before it gets 408. */
  get headTimeoutMs(): number {
    return this.timeoutMs;
  }

  /** Connections still reading their head (for tests and shutdown). */
  get pendingHeads(): number {
    return this.pending.size;
  }

  /** Stops accepting and drops connections still in their head; the http.Server's idle ones are closed. */
  stopAccepting(onClosed?: () => void): void {
    if (this.server.listening) this.server.close(() => onClosed?.());
    else if (onClosed !== undefined) whenDrained(this.server, onClosed);
    for (const s of this.pending) {
      const p = s[kPending];
      if (p?.busy === true) {
        p.closeAfter = true;
        continue;
      }
      this.release(s);
      s.destroy();
    }
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    // Clears the http.Server's connection-check timer and closes its idle keep-alive connections.
    this.http.close();
  }
}

/**
 * `done` once a server that no longer listens (the share cap paused it, docs/workers.md) has no connection
 * left, as close()'s callback is for a listening one: net.Server emits 'close' when its last connection ends.
 */
function whenDrained(server: NetServer, done: () => void): void {
  server.getConnections((err, n) => {
    if (err !== null || n === 0) done();
    else server.once('close', () => done());
  });
}

function splitPath(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** Shared 'data' listener (no closure per connection). */
function onData(this: FrontSocket, chunk: Buffer): void {
  this[kPending]?.front.read(this, chunk);
}
