// One load-test connection: a `ws` socket and a handful of fields, nothing else. It speaks just enough of
// the JSON client protocol (protocol.md §1): connect + subscribe in the first frame, answers server pings
// when the connect result asked for pongs, and hands publications to its sink.
//
// The JSON codec is a tiny local one (newline-joined JSON.stringify / split + JSON.parse) because
// src/protocol/client-codec-json.ts was not available when this was written.
import WebSocket from 'ws';
import type { RawData } from 'ws';

export interface ClientSink {
  /** Connect reply succeeded (the server accepted the connection): used for the connect-rate series. */
  onConnected(c: LeanClient): void;
  /** Subscribe reply arrived: `elapsedMs` since the socket was opened. */
  onSubscribed(c: LeanClient, elapsedMs: number): void;
  /** The attempt ended before being subscribed. */
  onFailure(c: LeanClient, cause: string): void;
  /** A subscribed connection was lost without us closing it. */
  onDrop(c: LeanClient, cause: string): void;
  onPublication(c: LeanClient, channel: string, data: unknown, offset: number | undefined): void;
  /** A reply to a command with id >= 3 (e.g. publish commands of a publisher client). */
  onReply(c: LeanClient, id: number, reply: Record<string, unknown>): void;
  onPing(c: LeanClient): void;
}

export interface LeanClientOptions {
  url: string;
  localAddress?: string | undefined;
  connectTimeoutMs: number;
}

export const ClientState = { Idle: 0, Connecting: 1, Subscribed: 2, Closing: 3 } as const;
export type ClientState = (typeof ClientState)[keyof typeof ClientState];

const PING_TEXT = '{}';
const PONG_FRAME = '{}';

function describeError(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return 'error';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class LeanClient {
  state: ClientState = ClientState.Idle as ClientState;
  /** Sequence position of this client's channel (see sequence.ts). */
  lastSeq = -1;
  /** True once the client has been re-subscribed after a drop (its sequence baseline is unknown). */
  rejoined = false;
  /** performance.now() when the current attempt started, or when the connection was lost. */
  startedAt = 0;
  droppedAt = 0;
  reconnectAttempts = 0;
  private ws: WebSocket | null = null;
  private pong = false;
  private timer: NodeJS.Timeout | null = null;
  private lastError: string | null = null;

  constructor(
    readonly index: number,
    readonly channel: string | null,
    private readonly opts: LeanClientOptions,
    private readonly sink: ClientSink,
  ) {}

  /** Opens the socket and sends connect (+ subscribe) in the first frame. */
  open(token: string | null): void {
    if (this.state !== ClientState.Idle) return;
    this.state = ClientState.Connecting;
    this.pong = false;
    this.lastError = null;
    this.startedAt = performance.now();
    const connect = token === null ? {} : { token };
    let first = JSON.stringify({ connect, id: 1 });
    if (this.channel !== null) first += '\n' + JSON.stringify({ subscribe: { channel: this.channel }, id: 2 });
    const ws = new WebSocket(this.opts.url, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      handshakeTimeout: this.opts.connectTimeoutMs,
      ...(this.opts.localAddress !== undefined ? { localAddress: this.opts.localAddress } : {}),
    });
    this.ws = ws;
    this.timer = setTimeout(() => this.fail('timeout'), this.opts.connectTimeoutMs);
    ws.on('open', () => ws.send(first));
    ws.on('unexpected-response', (req, res) => {
      this.fail(`http_${res.statusCode ?? 0}`);
      req.destroy();
      res.destroy();
    });
    ws.on('error', (err) => {
      this.lastError = describeError(err);
      if (this.state === ClientState.Connecting) this.fail(this.lastError);
    });
    ws.on('close', (code) => this.closed(ws, code));
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.handleFrame(data);
    });
  }

  /** Sends raw command text (already newline-joined). */
  send(text: string): boolean {
    if (this.ws === null || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(text);
    return true;
  }

  /** Closes on purpose (no drop is reported). */
  close(): void {
    this.clearTimer();
    const ws = this.ws;
    this.state = ClientState.Closing;
    if (ws === null) {
      this.state = ClientState.Idle;
      return;
    }
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else if (ws.readyState === WebSocket.OPEN) ws.close(1000);
  }

  terminate(): void {
    this.clearTimer();
    if (this.ws !== null) {
      this.state = ClientState.Closing;
      this.ws.terminate();
    }
  }

  get isOpen(): boolean {
    return this.ws !== null;
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private fail(cause: string): void {
    if (this.state !== ClientState.Connecting) return;
    this.clearTimer();
    this.state = ClientState.Closing;
    this.ws?.terminate();
    this.sink.onFailure(this, cause);
  }

  private closed(ws: WebSocket, code: number): void {
    if (this.ws !== ws) return;
    this.ws = null;
    this.clearTimer();
    const prev = this.state;
    this.state = ClientState.Idle;
    if (prev === ClientState.Connecting) {
      this.sink.onFailure(this, code === 1006 && this.lastError !== null ? this.lastError : `close_${code}`);
    } else if (prev === ClientState.Subscribed) {
      this.droppedAt = performance.now();
      this.sink.onDrop(this, code === 1006 && this.lastError !== null ? this.lastError : `close_${code}`);
    }
  }

  private handleFrame(data: RawData): void {
    const text = Buffer.isBuffer(data)
      ? data.toString()
      : Array.isArray(data)
        ? Buffer.concat(data).toString()
        : Buffer.from(data).toString();
    let start = 0;
    while (start <= text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      if (end > start) this.handleLine(text.slice(start, end));
      start = end + 1;
    }
  }

  private handleLine(line: string): void {
    if (line === PING_TEXT) {
      if (this.pong) this.ws?.send(PONG_FRAME);
      this.sink.onPing(this);
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (!isRecord(msg)) return;
    const push = msg['push'];
    if (isRecord(push)) {
      const pub = push['pub'];
      if (isRecord(pub) && typeof push['channel'] === 'string') {
        const offset = typeof pub['offset'] === 'number' ? pub['offset'] : undefined;
        this.sink.onPublication(this, push['channel'], pub['data'], offset);
      }
      return;
    }
    const id = typeof msg['id'] === 'number' ? msg['id'] : 0;
    if (id === 0) {
      // Any reply without id and without push is a ping (protocol.md §1.1 rule 5).
      if (this.pong) this.ws?.send(PONG_FRAME);
      this.sink.onPing(this);
      return;
    }
    const error = msg['error'];
    if (id === 1) {
      if (isRecord(error)) return this.fail(`error_${String(error['code'])}`);
      const result = msg['connect'];
      this.pong = isRecord(result) && result['pong'] === true;
      this.sink.onConnected(this);
      if (this.channel === null) this.subscribed();
      return;
    }
    if (id === 2) {
      if (isRecord(error)) return this.fail(`error_${String(error['code'])}`);
      this.subscribed();
      return;
    }
    this.sink.onReply(this, id, msg);
  }

  private subscribed(): void {
    if (this.state !== ClientState.Connecting) return;
    this.clearTimer();
    this.state = ClientState.Subscribed;
    this.sink.onSubscribed(this, performance.now() - this.startedAt);
  }
}
