// Bidirectional WebSocket transport (docs/protocol.md §7.1) on top of `ws` in noServer mode: the host keeps the
// listening server, this module owns the upgrade checks, the per-connection Transport and the inbound wiring.
// Two ways in: `tryUpgrade` (head parsed by http/front.ts, 101 written here, ws attached with
// setSocket) and `onUpgrade` (http.Server 'upgrade' + ws.handleUpgrade, kept for permessage-deflate offers
// and for non-GET upgrades, which Node's parser still sees).
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex, Writable } from 'node:stream';
import type { Logger } from 'pino';
import * as wsLib from 'ws';
import { WebSocket, WebSocketServer } from 'ws';
import type { RawData } from 'ws';
import type { ClientConfig, GyreConfig } from '../config/types.js';
import { BatchedCounter } from '../metrics/batched.js';
import { metrics, parity } from '../metrics/registry.js';
import { countOutgoingClose } from '../metrics/observe.js';
import { Disconnects } from '../protocol/errors.js';
import type { Disconnect } from '../protocol/errors.js';
import type { ProtocolFormat } from '../protocol/types.js';
import { rejectionLogFor } from '../util/rejection-log.js';
import type { RejectionLog } from '../util/rejection-log.js';
import { createOriginCheck } from './origin.js';
import type { OriginCheck } from './origin.js';
import type { UpgradeTarget } from '../http/front.js';
import {
  isHandshakeError,
  isWholeGetOf,
  offersDeflate,
  splitTarget,
  switchingProtocols,
  upgradeFieldsOf,
  validateUpgrade,
} from './handshake.js';
import type { HandshakeError, HeaderMap, RequestHead } from './handshake.js';
import type { SessionAcceptor, SessionPort, Transport, TransportInfo } from './types.js';
import { splitUrl } from '../http/url.js';
import { abortHandshake, chooseSubprotocol, formatOf, rejectUpgrade } from './upgrade.js';
import { Admission, admissionLimits, REFUSAL_REASONS, refusalLabels, refuseBusy, type RefusalReason } from './admission.js';
import type { RateBucket } from './rate-bucket.js';
import { readAcceptQueue } from '../metrics/accept-queue.js';
import type { FdWatch } from '../metrics/fds.js';
import { closeGraceMs } from './close-grace.js';
import { deflateOptions } from './deflate.js';

const MAX_REASON_BYTES = 123;

const WS_OPEN = 1;
// Connection and inbound counters live in the session (core/session.ts); the transport counts what it sends.
const sent = {
  text: metrics.transportMessagesSent.labels('websocket', 'text', ''),
  binary: metrics.transportMessagesSent.labels('websocket', 'binary', ''),
};
const sentSize = {
  text: metrics.transportMessagesSentSize.labels('websocket', 'text', ''),
  binary: metrics.transportMessagesSentSize.labels('websocket', 'binary', ''),
};
/**
 * Sent-message counters are added up here and handed to prom-client once per macrotask: a labelled
 * counter's inc() hashes its labels on every call, which a fan-out would otherwise pay twice per connection.
 */
const sentPending = { text: 0, textBytes: 0, binary: 0, binaryBytes: 0 };
let sentFlushScheduled = false;

function flushSentMetrics(): void {
  sentFlushScheduled = false;
  const p = sentPending;
  if (p.text > 0) sent.text.inc(p.text);
  if (p.textBytes > 0) sentSize.text.inc(p.textBytes);
  if (p.binary > 0) sent.binary.inc(p.binary);
  if (p.binaryBytes > 0) sentSize.binary.inc(p.binaryBytes);
  p.text = p.textBytes = p.binary = p.binaryBytes = 0;
}

function countSent(binary: boolean, bytes: number): void {
  if (binary) {
    sentPending.binary++;
    sentPending.binaryBytes += bytes;
  } else {
    sentPending.text++;
    sentPending.textBytes += bytes;
  }
  if (!sentFlushScheduled) {
    sentFlushScheduled = true;
    setImmediate(flushSentMetrics);
  }
}

/**
 * Uncompressed server frames are the same bytes for every connection (no masking), so a publication written
 * to N subscribers is framed once: the last payload and its frame are kept (encoders return a fresh array
 * per message and never change it afterwards, so identity is a safe key).
 */
let lastPayload: Uint8Array | null = null;
let lastBinary = false;
let lastFrame: Buffer = Buffer.alloc(0);

/** A complete unmasked, final WebSocket data frame (RFC 6455 §5.2) holding `payload`. */
export function frameOf(payload: Uint8Array, binary: boolean): Buffer {
  if (payload === lastPayload && binary === lastBinary) return lastFrame;
  const len = payload.byteLength;
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + len);
  out[0] = binary ? 0x82 : 0x81;
  if (len < 126) {
    out[1] = len;
  } else if (len < 65536) {
    out[1] = 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(len / 0x1_0000_0000), 2);
    out.writeUInt32BE(len >>> 0, 6);
  }
  out.set(payload, head);
  lastPayload = payload;
  lastBinary = binary;
  lastFrame = out;
  return out;
}

const SEND_TEXT = { binary: false } as const;
const SEND_BINARY = { binary: true } as const;
const SEND_TEXT_Z = { binary: false, compress: true } as const;
const SEND_BINARY_Z = { binary: true, compress: true } as const;

function truncateReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_REASON_BYTES) return reason;
  let r = reason;
  while (Buffer.byteLength(r) > MAX_REASON_BYTES) r = r.slice(0, -1);
  return r;
}

function toBytes(data: RawData): Uint8Array {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return new Uint8Array(data);
}

/**
 * The `ws` socket class this server creates: it carries its transport and session so that the event
 * listeners are shared functions instead of closures allocated per connection.
 */
export class GyreWebSocket extends WebSocket {
  gyreTransport: WebSocketTransport | undefined = undefined;
  gyrePort: SessionPort | undefined = undefined;
  gyreHandler: WebSocketHandler | undefined = undefined;
}

function onSocketMessage(this: WebSocket, data: RawData): void {
  (this as GyreWebSocket).gyrePort?.handleFrame(toBytes(data));
}

function onSocketError(this: WebSocket, err: Error): void {
  (this as GyreWebSocket).gyreHandler?.onSocketError(err);
}

function onSocketClose(this: WebSocket): void {
  const ws = this as GyreWebSocket;
  const transport = ws.gyreTransport;
  if (transport !== undefined) ws.gyreHandler?.forget(transport);
  transport?.dispose();
  ws.gyrePort?.handleTransportClose();
}

/**
 * `end()` that skips a repeated call with nothing to do. `ws` ends a connection's receiver (a Writable) when the close
 * frame arrives and again in the socket's 'end' and 'close' listeners, and ends the socket after its close frame
 * and again on 'end'. Node's `end()` on a stream that has already finished builds an ERR_STREAM_ALREADY_FINISHED
 * error (a captured stack and a formatted message) that goes nowhere when there is no callback: three per closed
 * connection. Installed on the receiver and the socket of each connection; anything else goes to the prototype's.
 */
function endOnce(this: Writable, ...args: unknown[]): Writable {
  if (args.length === 0 && this.writableEnded && this.writableCorked === 0) return this;
  const proto = Object.getPrototypeOf(this) as { readonly end: (this: Writable, ...a: unknown[]) => Writable };
  return proto.end.apply(this, args);
}

/** The receiver `ws` parses a connection's frames with (not in its typings). */
interface WithReceiver {
  _receiver?: Writable;
}

/** Where a connection's peer address comes from: a socket, whose `remoteAddress` getter calls getpeername. */
interface Peer {
  readonly remoteAddress?: string | undefined;
}

/**
 * TransportInfo of a WebSocket connection. The peer address (a getpeername call) and the full header map are
 * computed on first read: most connections never need either.
 */
class WebSocketInfo implements TransportInfo {
  readonly name = 'websocket' as const;
  readonly unidirectional = false;
  private address: string | undefined = undefined;

  constructor(
    readonly protocol: ProtocolFormat,
    private readonly socket: Peer,
    private readonly source: { readonly headers: HeaderMap },
  ) {}

  get remoteAddress(): string {
    this.address ??= this.socket.remoteAddress ?? '';
    return this.address;
  }

  get headers(): Readonly<HeaderMap> {
    return this.source.headers;
  }
}

/** The parts of ws's WebSocket that its server uses to adopt an upgraded socket (not in its typings). */
interface AdoptableWebSocket {
  _protocol: string;
  setSocket(
    socket: Duplex,
    head: Buffer,
    opts: {
      allowSynchronousEvents: boolean | undefined;
      maxPayload: number | undefined;
      skipUTF8Validation: boolean | undefined;
      maxBufferedChunks?: number | undefined;
      maxFragments?: number | undefined;
    },
  ): void;
}
type ServerSideCtor = new (address: null, protocols: undefined, options: object) => GyreWebSocket;

/** The parts of `ws` that negotiate extensions (exported, not in its typings). */
interface WsExtensions {
  extension: { parse(header: string): Record<string, unknown> };
  PerMessageDeflate: new (options: object) => { accept(offers: unknown): unknown };
}
const wsExt = wsLib as unknown as WsExtensions;

/** One live WebSocket connection as the core sees it. */
export class WebSocketTransport implements Transport {
  readonly info: TransportInfo;
  private closed = false;
  private killTimer: NodeJS.Timeout | undefined = undefined;
  private readonly sendOpts: { binary: boolean; compress?: boolean };
  private readonly binary: boolean;
  /**
   * The upgraded TCP socket, written directly when frames are not compressed. Without permessage-deflate `ws`
   * writes every frame synchronously to this same socket (its sender never queues), so order is kept.
   */
  private readonly raw: Duplex | null;
  /** The upgraded TCP socket (also when frames go through ws): its 'drain' is what onceDrained waits for. */
  private readonly socket: Duplex | null;
  private drainWaiters: (() => void)[] = [];

  constructor(
    private readonly ws: WebSocket,
    info: TransportInfo,
    compress: boolean,
    raw: Duplex | null = null,
  ) {
    this.info = info;
    const binary = info.protocol === 'protobuf';
    this.binary = binary;
    this.socket = raw;
    this.raw = compress ? null : raw;
    this.sendOpts = compress ? (binary ? SEND_BINARY_Z : SEND_TEXT_Z) : binary ? SEND_BINARY : SEND_TEXT;
  }

  write(frame: Uint8Array): void {
    if (this.closed || this.ws.readyState !== WS_OPEN) return;
    if (this.raw !== null) this.raw.write(frameOf(frame, this.binary));
    else this.ws.send(frame, this.sendOpts);
    countSent(this.binary, frame.byteLength);
  }

  cork(): void {
    this.socket?.cork();
  }

  uncork(): void {
    this.socket?.uncork();
  }

  /**
   * Uncompressed, the socket's own buffer is all there is (ws's sender queues only while compressing), read
   * without going through ws: the Writer reads this on every message it queues.
   */
  get bufferedBytes(): number {
    return this.raw !== null ? this.raw.writableLength : this.ws.bufferedAmount;
  }

  onceDrained(cb: () => void): void {
    const s = this.socket;
    if (this.closed || s === null || s.destroyed || !s.writableNeedDrain) {
      setImmediate(cb);
      return;
    }
    this.drainWaiters.push(cb);
    if (this.drainWaiters.length === 1) s.once('drain', this.onDrain);
  }

  private readonly onDrain = (): void => {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (let i = 0; i < waiters.length; i++) waiters[i]!();
  };

  pauseReading(): void {
    if (!this.closed) this.ws.pause();
  }

  resumeReading(): void {
    if (!this.closed) this.ws.resume();
  }

  close(disconnect?: Disconnect): void {
    if (this.closed) return;
    this.closed = true;
    // Reading may be paused for backpressure: the peer's close frame still has to be read.
    if (this.ws.isPaused) this.ws.resume();
    try {
      // 3000 is Centrifugo's plain close: no code goes on the wire.
      if (disconnect === undefined || disconnect.code === 3000) this.ws.close();
      else this.ws.close(disconnect.code, truncateReason(disconnect.reason));
    } catch {
      // Invalid close code or a socket in a bad state: drop it.
      this.ws.terminate();
      return;
    }
    countOutgoingClose('websocket', disconnect?.code ?? 3000);
    this.killTimer = setTimeout(() => this.ws.terminate(), closeGraceMs(disconnect?.code));
    this.killTimer.unref();
  }

  /** The socket is gone: stop the close-grace timer. */
  dispose(): void {
    this.closed = true;
    if (this.killTimer !== undefined) clearTimeout(this.killTimer);
    this.killTimer = undefined;
    if (this.drainWaiters.length > 0) {
      this.socket?.off('drain', this.onDrain);
      setImmediate(this.onDrain);
    }
  }

  /** Drop the connection without a close handshake (final step of shutdown). */
  terminate(): void {
    this.ws.terminate();
  }
}

type AdmissionClientKeys = 'allowed_origins' | 'connection_limit' | 'connection_rate_limit' | 'ip_connection_limit';
type AdmissionServerKeys = 'max_handshakes_in_flight' | 'handshake_wait_budget';

export interface WebSocketHandlerOptions {
  websocket: GyreConfig['websocket'];
  client: Pick<ClientConfig, AdmissionClientKeys>;
  /** Admission keys of http_server (absent: those checks are off). */
  server?: Pick<GyreConfig['http_server'], AdmissionServerKeys> | undefined;
  acceptor: SessionAcceptor;
  logger: Logger;
  /** File descriptor watch: admission refuses with reason "fds" near the limit. */
  fds?: FdWatch | undefined;
  /** Connections of the other transports (HTTP streams), counted in client.connection_limit too. */
  otherOpen?: () => number;
  /** Handshakes per second the admission guard assumes until it measured some (the warm-up's; admission.ts). */
  handshakeRate?: number | undefined;
  /** Worker processes accepting on the port (node.workers; default 1): they split client.connection_rate_limit. */
  processes?: number;
  /** client.connection_rate_limit's bucket, shared with the HTTP-based endpoints (an own one when absent). */
  rateBucket?: RateBucket | undefined;
}

/** What the admission guard reads of the connections a worker accepted and parked (cluster/listen-copies.ts). */
export interface ParkedCounts {
  readonly parkedCount: number;
  readonly accepted: number;
}

/**
 * Owns the `ws` server and every WebSocket connection of one node. Give it to the front as its
 * UpgradeTarget, and attach `onUpgrade` to the http.Server's 'upgrade' for what the front hands over.
 */
export class WebSocketHandler implements UpgradeTarget {
  private readonly wss: WebSocketServer;
  private readonly prefix: string;
  /** `GET <prefix>`, for the early refusal's match on raw bytes. */
  private readonly getPrefix: Buffer;
  private originOk: OriginCheck;
  private allowedOrigins: readonly string[];
  private server: Pick<GyreConfig['http_server'], AdmissionServerKeys> | undefined;
  private readonly admission: Admission;
  private readonly compress: boolean;
  private readonly transports = new Set<WebSocketTransport>();
  private readonly rejections: RejectionLog;
  private closed = false;
  private listenPort = 0;
  private listenFamily: 'IPv4' | 'IPv6' | 'any' = 'any';
  private acceptors = 1;
  /** The worker's parked connections (src/cluster/listen-copies.ts), counted by the admission guard. */
  private parking: ParkedCounts | undefined;
  /** The early refusal's answer per reason, built once (no closure per refused connection). */
  private readonly earlyRefusers = Object.fromEntries(
    REFUSAL_REASONS.map((r) => [r, (socket: Socket) => this.refuseEarly(socket, r)]),
  ) as Record<RefusalReason, (socket: Socket) => void>;

  constructor(private readonly opts: WebSocketHandlerOptions) {
    const ws = opts.websocket;
    this.prefix = ws.handler_prefix;
    this.getPrefix = Buffer.from(`GET ${ws.handler_prefix}`, 'latin1');
    this.rejections = rejectionLogFor(opts.logger);
    this.allowedOrigins = opts.client.allowed_origins;
    this.originOk = createOriginCheck(opts.client.allowed_origins);
    this.server = opts.server;
    const acceptor = opts.acceptor;
    const open = (): number => this.transports.size + (opts.otherOpen?.() ?? 0);
    this.admission = new Admission(
      admissionLimits(opts.client, opts.server, opts.processes),
      {
        open,
        inFlight: () => Math.max(0, open() - (acceptor.connectedClients ?? open())),
        shuttingDown: () => acceptor.shuttingDown,
        acceptQueue: () => (this.listenPort === 0 ? 0 : (readAcceptQueue(this.listenPort, this.listenFamily) ?? 0)),
        acceptors: () => this.acceptors,
        accepted: () => this.parking?.accepted ?? 0,
        parked: () => this.parking?.parkedCount ?? 0,
      },
      opts.fds,
      opts.handshakeRate,
      opts.rateBucket,
    );
    this.compress = ws.compression;
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: ws.message_size_limit,
      perMessageDeflate: deflateOptions(ws),
      handleProtocols: (protocols) => chooseSubprotocol(protocols),
      WebSocket: GyreWebSocket,
    });
  }

  /**
   * The main port once bound: the admission guard watches its accept queue. `acceptors`: the processes that
   * accept from that queue (the workers under `node.workers_scheduling: none`), each of which drains its part.
   * `parking`: the worker's copies of the port, which park what they accept (counted once: parked, not queued).
   */
  setListenPort(port: number, family?: string, acceptors = 1, parking?: ParkedCounts): void {
    this.parking = parking;
    this.listenPort = port;
    this.listenFamily = family === 'IPv4' || family === 'IPv6' ? family : 'any';
    this.acceptors = Math.max(1, acceptors);
  }

  /** Config reload: the Origin check and the client admission limits apply to the next handshake. */
  reconfigure(client: Pick<ClientConfig, AdmissionClientKeys>): void {
    this.originOk = createOriginCheck(client.allowed_origins);
    this.allowedOrigins = client.allowed_origins;
    this.admission.reconfigure(admissionLimits(client, this.server, this.opts.processes));
  }

  /** Open WebSocket connections. */
  get connections(): number {
    return this.transports.size;
  }

  /** True when this handler serves the request path. */
  matches(url: string | undefined): boolean {
    return splitUrl(url).path === this.prefix;
  }

  readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const { path, query } = splitUrl(req.url);
    if (!this.admit(path, req.headers.origin, socket, req.socket)) return;
    // The same checks as the fast path, then ws gets the request as Centrifugo reads it: a subprotocol list
    // ws would refuse (empty, repeated, malformed) becomes the one we chose, and an extension offer ws would
    // refuse (malformed or unacceptable parameters) is dropped, so that the answer is 101 without compression.
    const checked = validateUpgrade(upgradeFieldsOf(req.method ?? '', req.rawHeaders));
    if (isHandshakeError(checked)) {
      this.refuseInvalid(socket, checked, req.socket.remoteAddress);
      return;
    }
    const protocol = chooseSubprotocol(checked.protocols);
    const h = req.headers;
    h.upgrade = 'websocket';
    h['sec-websocket-version'] = '13';
    h['sec-websocket-key'] = checked.key;
    if (protocol === false) delete h['sec-websocket-protocol'];
    else h['sec-websocket-protocol'] = protocol;
    const ext = h['sec-websocket-extensions'];
    if (ext !== undefined && !this.deflateOfferUsable(ext)) delete h['sec-websocket-extensions'];
    const format = formatOf(protocol, query);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws as GyreWebSocket, req.socket, req, format));
  };

  /**
   * Path, Origin and connection limit, shared by both ways in. False: refused (answered, counted, and logged
   * through the rate-limited rejection log). The client's address (`peer.remoteAddress`, a getpeername system
   * call) is read only when the per-address limit is on or a refusal is logged at once, not for every upgrade.
   */
  private admit(path: string, origin: string | undefined, socket: Duplex, peer: Peer): boolean {
    if (path !== this.prefix || this.closed) {
      rejectUpgrade(socket, 404);
      return false;
    }
    if (!this.originOk(origin)) {
      metrics.handshakeRejected.labels('origin').inc();
      this.rejections.note('handshake', 'origin not allowed', () => ({
        status: 403,
        origin,
        allowed_origins: this.allowedOrigins,
        remote: peer.remoteAddress,
      }));
      rejectUpgrade(socket, 403);
      return false;
    }
    const remote = this.admission.perAddress ? peer.remoteAddress : undefined;
    const refused = this.admission.check(remote);
    if (refused !== null) {
      this.refuse(socket, refused, () => ({ status: 503, reason: refused, remote: peer.remoteAddress }));
      return false;
    }
    this.admission.admitted(socket, remote);
    return true;
  }

  /**
   * The early refusal: the client's address (a getpeername call) is looked up only when the refusal is logged
   * at once, not for the ones the rejection log just counts.
   */
  private refuseEarly(socket: Socket, reason: RefusalReason): void {
    this.refuse(socket, reason, () => ({ status: 503, reason, remote: socket.remoteAddress }));
  }

  private refuse(socket: Duplex, reason: RefusalReason, fields: Parameters<RejectionLog['note']>[2]): void {
    rejectedBatched.inc(reason, refusalLabels[reason]);
    this.rejections.note('handshake', busyMessages[reason], fields);
    refuseBusy(socket, reason);
  }

  /**
   * The front's early refusal (http/front.ts): when the node refuses every new client (shutdown, fds, limits,
   * the adaptive guard, an empty rate bucket), an upgrade to this path whose whole head came in the first chunk
   * is answered 503 from those bytes, without parsing it. Nothing is left unread, so closing never resets.
   */
  earlyRefusal(first: Buffer): ((socket: Socket) => void) | null {
    if (this.closed) return null;
    const reason = this.admission.shut();
    if (reason === null || !isWholeGetOf(first, this.getPrefix)) return null;
    return this.earlyRefusers[reason];
  }

  private refuseInvalid(socket: Duplex, e: HandshakeError, remote: string | undefined): void {
    metrics.handshakeRejected.labels('invalid').inc();
    this.rejections.note('handshake', 'invalid upgrade request', { status: e.status, detail: e.message, remote });
    abortHandshake(socket, e.status, e.message, e.headers);
  }

  /** True when ws would accept this extension offer (it answers 400 otherwise; Centrifugo does not). */
  private deflateOfferUsable(header: string): boolean {
    if (!this.compress) return true;
    try {
      const offers = wsExt.extension.parse(header);
      const deflate = offers['permessage-deflate'];
      if (deflate === undefined) return true;
      const o = this.wss.options;
      const options = typeof o.perMessageDeflate === 'object' ? o.perMessageDeflate : {};
      new wsExt.PerMessageDeflate({ ...options, isServer: true, maxPayload: o.maxPayload }).accept(deflate);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The fast path: same checks and answers as `onUpgrade` + ws.handleUpgrade, on a head the front parsed.
   * Returns false (the http.Server then takes the request) only for a permessage-deflate offer while
   * compression is on: ws negotiates that.
   */
  tryUpgrade(head: RequestHead, socket: Socket, rest: Buffer, startedAt: number): boolean {
    const { path, query } = splitTarget(head.url);
    if (!this.admit(path, head.origin, socket, socket)) return true;
    if (this.compress && offersDeflate(head.extensions)) return false;
    const checked = validateUpgrade(head);
    if (isHandshakeError(checked)) {
      this.refuseInvalid(socket, checked, socket.remoteAddress);
      return true;
    }
    // The peer already sent FIN (ws does the same).
    if (!socket.readable || !socket.writable) {
      socket.destroy();
      return true;
    }
    const protocol = chooseSubprotocol(checked.protocols);
    socket.write(switchingProtocols(checked.key, protocol));
    parity.handshakeDuration.observe((performance.now() - startedAt) / 1000);
    // The same options ws's own completeUpgrade passes (its merged server options, defaults included).
    const o = this.wss.options as typeof this.wss.options & { maxBufferedChunks?: number; maxFragments?: number };
    const ws = new (GyreWebSocket as unknown as ServerSideCtor)(null, undefined, o);
    const adopt = ws as unknown as AdoptableWebSocket;
    if (protocol !== false) adopt._protocol = protocol;
    adopt.setSocket(socket, rest, {
      allowSynchronousEvents: o.allowSynchronousEvents,
      maxPayload: o.maxPayload,
      skipUTF8Validation: o.skipUTF8Validation,
      maxBufferedChunks: o.maxBufferedChunks,
      maxFragments: o.maxFragments,
    });
    this.onConnection(ws, socket, head, formatOf(protocol, query));
    return true;
  }

  /** Socket-level errors (shared listener of every connection). */
  onSocketError(err: Error): void {
    this.opts.logger.debug({ err }, 'websocket error');
  }

  /** The connection is gone: stop tracking it. */
  forget(transport: WebSocketTransport): void {
    this.transports.delete(transport);
  }

  private onConnection(
    ws: GyreWebSocket,
    sock: Socket,
    source: { readonly headers: HeaderMap },
    format: ProtocolFormat,
  ): void {
    const transport = new WebSocketTransport(ws, new WebSocketInfo(format, sock, source), this.compress, sock);
    this.transports.add(transport);
    ws.gyreHandler = this;
    ws.gyreTransport = transport;
    ws.on('error', onSocketError);
    ws.once('close', onSocketClose);
    const receiver = (ws as unknown as WithReceiver)._receiver;
    if (receiver !== undefined) receiver.end = endOnce as Writable['end'];
    (sock as Writable).end = endOnce as Writable['end'];
    if (this.opts.acceptor.shuttingDown) {
      transport.close(Disconnects.shutdown());
      return;
    }
    try {
      ws.gyrePort = this.opts.acceptor.accept(transport);
    } catch (err) {
      this.opts.logger.error({ err }, 'session accept failed');
      metrics.internalErrors.labels('websocket').inc();
      transport.close(Disconnects.internal());
      return;
    }
    ws.on('message', onSocketMessage);
  }

  /**
   * Refuse new upgrades, give open connections up to `graceMs` to finish their close handshake (the node
   * already sent 3001), then drop whatever is left.
   */
  async close(graceMs = 2000): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.wss.close();
      this.admission.close();
    }
    if (this.transports.size > 0 && graceMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, graceMs);
        const poll = setInterval(() => {
          if (this.transports.size === 0) done();
        }, 20);
        function done(): void {
          clearTimeout(timer);
          clearInterval(poll);
          resolve();
        }
      });
    }
    for (const t of this.transports) t.terminate();
    this.transports.clear();
  }
}

/** handshakeRejected batched per reason (a storm of refusals does not hash prom-client labels per client). */
const rejectedBatched = new BatchedCounter(metrics.handshakeRejected);
/** The rejection log's reason for a 503, one string per refusal reason. */
const busyMessages = Object.fromEntries(
  REFUSAL_REASONS.map((r) => [r, r === 'connection_limit' ? 'connection limit reached' : `busy: ${r}`]),
) as Record<RefusalReason, string>;

