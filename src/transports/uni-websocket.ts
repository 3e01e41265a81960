// Unidirectional WebSocket (docs/transports.md): the ConnectRequest comes in the `cf_connect` query parameter or as
// the first text message; then only the server writes: bare pushes, one per text message (or newline-joined with
// uni_websocket.join_push_messages), the connect push first; a disconnect push and a close frame with the same code
// and reason at the end (uni_websocket.disable_disconnect_push drops the push). Native ping frames every
// client.ping_interval (25 s when 0) keep the connection checked: no pong within client.pong_timeout (10 s when 0)
// drops it. Messages after the connect request are read and ignored. Upgrades arrive through the http.Server (the
// front hands requests on this path over, see transports/upgrade-router.ts).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { ClientConfig, UniWebSocketConfig } from '../config/types.js';
import { metrics } from '../metrics/registry.js';
import { countOutgoingClose } from '../metrics/observe.js';
import { Disconnects, type Disconnect } from '../protocol/errors.js';
import { splitUrl } from '../http/url.js';
import { queryParam } from './http-common.js';
import type { HttpGate } from './http-gate.js';
import type { OriginCheck } from './origin.js';
import type { SessionAcceptor, SessionPort, Transport, TransportInfo } from './types.js';
import { abortHandshake, rejectUpgrade } from './upgrade.js';
import { uniConnectFrame } from './uni-connect-request.js';
import { closeGraceMs } from './close-grace.js';
import { deflateOptions } from './deflate.js';

const DEFAULT_PING_MS = 25_000;
const DEFAULT_PONG_MS = 10_000;
const MAX_REASON_BYTES = 123;

export interface UniWebSocketOptions {
  config: UniWebSocketConfig;
  client: Pick<ClientConfig, 'ping_interval' | 'pong_timeout'>;
  acceptor: SessionAcceptor;
  gate: HttpGate;
  originOk: () => OriginCheck;
  logger: Logger;
}

class UniInfo implements TransportInfo {
  readonly name = 'uni_websocket' as const;
  readonly protocol = 'json' as const;
  readonly unidirectional = true;
  readonly disconnectPush: boolean;
  readonly remoteAddress: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  constructor(req: IncomingMessage, disconnectPush: boolean) {
    this.remoteAddress = req.socket.remoteAddress ?? '';
    this.headers = req.headers;
    this.disconnectPush = disconnectPush;
  }
}

function truncateReason(reason: string): string {
  let r = reason;
  while (Buffer.byteLength(r) > MAX_REASON_BYTES) r = r.slice(0, -1);
  return r;
}

class UniWebSocketTransport implements Transport {
  readonly info: UniInfo;
  private closed = false;
  private port: SessionPort | undefined = undefined;
  private readonly pingTimer: NodeJS.Timeout;
  private pongTimer: NodeJS.Timeout | undefined = undefined;
  private killTimer: NodeJS.Timeout | undefined = undefined;

  constructor(
    private readonly ws: WebSocket,
    req: IncomingMessage,
    private readonly opts: UniWebSocketOptions,
    private readonly onGone: (t: UniWebSocketTransport) => void,
  ) {
    this.info = new UniInfo(req, !opts.config.disable_disconnect_push);
    const pingMs = opts.client.ping_interval > 0 ? opts.client.ping_interval : DEFAULT_PING_MS;
    const pongMs = opts.client.pong_timeout > 0 ? opts.client.pong_timeout : DEFAULT_PONG_MS;
    this.pingTimer = setInterval(() => this.ping(pongMs), pingMs);
    this.pingTimer.unref();
    ws.on('pong', () => {
      if (this.pongTimer !== undefined) clearTimeout(this.pongTimer);
      this.pongTimer = undefined;
    });
    ws.on('error', (err) => opts.logger.debug({ err }, 'uni_websocket error'));
    ws.once('close', () => {
      this.dispose();
      this.port?.handleTransportClose();
    });
  }

  /** Starts the session with its connect command frame. */
  start(connect: Uint8Array): void {
    if (this.closed) return;
    try {
      this.port = this.opts.acceptor.accept(this);
      this.port.handleFrame(connect);
    } catch (err) {
      this.opts.logger.error({ err }, 'session accept failed');
      metrics.internalErrors.labels('uni_websocket').inc();
      this.close(Disconnects.internal());
    }
  }

  private ping(pongMs: number): void {
    if (this.closed) return;
    this.ws.ping();
    if (this.pongTimer === undefined) {
      this.pongTimer = setTimeout(() => this.ws.terminate(), pongMs);
      this.pongTimer.unref();
    }
  }

  write(frame: Uint8Array): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    if (this.opts.config.join_push_messages) {
      this.ws.send(frame, { binary: false });
      return;
    }
    let start = 0;
    while (start <= frame.length) {
      let end = frame.indexOf(0x0a, start);
      if (end === -1) end = frame.length;
      if (end > start) this.ws.send(frame.subarray(start, end), { binary: false });
      start = end + 1;
    }
  }

  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  onceDrained(cb: () => void): void {
    if (this.closed || this.ws.bufferedAmount === 0) {
      setImmediate(cb);
      return;
    }
    setTimeout(() => this.onceDrained(cb), 10).unref();
  }

  pauseReading(): void {}
  resumeReading(): void {}

  close(disconnect?: Disconnect): void {
    if (this.closed) return;
    this.closed = true;
    this.clearTimers();
    if (this.opts.config.disable_closing_handshake || disconnect === undefined || disconnect.code === 3000) {
      this.ws.terminate();
      return;
    }
    try {
      this.ws.close(disconnect.code, truncateReason(disconnect.reason));
    } catch {
      this.ws.terminate();
      return;
    }
    countOutgoingClose('uni_websocket', disconnect.code);
    this.killTimer = setTimeout(() => this.ws.terminate(), closeGraceMs(disconnect.code));
    this.killTimer.unref();
  }

  /** Drop the connection without a close handshake (shutdown). */
  terminate(): void {
    this.ws.terminate();
  }

  private clearTimers(): void {
    clearInterval(this.pingTimer);
    if (this.pongTimer !== undefined) clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
  }

  private dispose(): void {
    this.closed = true;
    this.clearTimers();
    if (this.killTimer !== undefined) clearTimeout(this.killTimer);
    this.killTimer = undefined;
    this.onGone(this);
  }
}

export class UniWebSocketHandler {
  private readonly wss: WebSocketServer;
  private readonly transports = new Set<UniWebSocketTransport>();
  private closed = false;

  constructor(private readonly opts: UniWebSocketOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: opts.config.message_size_limit,
      perMessageDeflate: deflateOptions(opts.config),
    });
  }

  get connections(): number {
    return this.transports.size;
  }

  matches(url: string | undefined): boolean {
    return splitUrl(url).path === this.opts.config.handler_prefix;
  }

  readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const remote = req.socket.remoteAddress;
    if (this.closed) return rejectUpgrade(socket, 404);
    if (!this.opts.originOk()(req.headers.origin)) {
      metrics.handshakeRejected.labels('origin').inc();
      return rejectUpgrade(socket, 403);
    }
    const param = queryParam(req.url, 'cf_connect');
    const fromParam = param === '' ? undefined : uniConnectFrame(param);
    if (param !== '' && fromParam === undefined) return abortHandshake(socket, 400, 'invalid connect request\n');
    if (!this.opts.gate.admitUpgrade(socket, remote, 'uni_websocket')) return;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req, fromParam));
  };

  private onConnection(ws: WebSocket, req: IncomingMessage, fromParam: Uint8Array | undefined): void {
    const transport = new UniWebSocketTransport(ws, req, this.opts, (t) => this.transports.delete(t));
    this.transports.add(transport);
    if (this.opts.acceptor.shuttingDown) return transport.close(Disconnects.shutdown());
    if (fromParam !== undefined) {
      transport.start(fromParam);
      return;
    }
    ws.once('message', (data: RawData, isBinary: boolean) => {
      const text = isBinary ? undefined : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8');
      const connect = text === undefined ? undefined : uniConnectFrame(text);
      if (connect === undefined) transport.close(Disconnects.badRequest());
      else transport.start(connect);
    });
  }

  /** Refuses new upgrades and drops what is left after the node's drain. */
  close(): void {
    this.closed = true;
    this.wss.close();
    for (const t of this.transports) t.terminate();
    this.transports.clear();
  }
}
