// One load-test connection: a raw WebSocket (raw-ws.ts: a net.Socket and a frame parser; a `ws` client cost
// so much CPU per connection that the generator paced the "burst") and a handful of fields, nothing else. It
// speaks just enough of the JSON client protocol (protocol.md §1): connect + subscribe in the first frame
// (built before the measured phase), answers server pings when the connect result asked for pongs, hands
// publications to its sink, and tracks its stream position (offset, epoch) so that a resubscribe can ask for
// recovery (§5.3).
// Frames go through src/protocol/client-codec-json.ts; pings (`{}`) take a byte-compare fast path.
import { decodeReplies, encodeCommands } from '../../src/protocol/client-codec-json.js';
import { RawWebSocket, ReadyState, targetFor } from './raw-ws.js';
import type { RawWsHandler, RawWsTarget } from './raw-ws.js';

/** What the subscribe reply said about recovery (only when the request had `recover:true`). */
export interface SubscribeOutcome {
  wasRecovering: boolean;
  recovered: boolean;
  /** Publications that came inside the reply (delivered to the sink right after onSubscribed). */
  publications: number;
  /** Reply offset and epoch (on failure: the stream top). */
  offset: number;
  epoch: string;
}

export interface ClientSink {
  /** Connect reply succeeded (the server accepted the connection): used for the connect-rate series. */
  onConnected(c: LeanClient): void;
  /** Subscribe reply arrived: `elapsedMs` since the socket was opened; `recovery` when recovery was asked. */
  onSubscribed(c: LeanClient, elapsedMs: number, recovery: SubscribeOutcome | null): void;
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

/** Subscribe request fields beyond the channel (protocol.md §1, SubscribeRequest). */
export interface SubscribeExtras {
  recoverable?: boolean;
  recover?: boolean;
  offset?: number;
  epoch?: string;
}

const PONG = Buffer.from('{}');
const PORT_TAKEN = new Set(['EADDRINUSE', 'EADDRNOTAVAIL']);
const BRACE_OPEN = 0x7b;
const BRACE_CLOSE = 0x7d;

/** The first frame: connect (with token) and, when `channel` is set, subscribe; ids 1 and 2. */
export function firstFrame(token: string | null, channel: string | null, extras: SubscribeExtras = {}): Uint8Array {
  const cmds: object[] = [{ connect: token === null ? {} : { token }, id: 1 }];
  if (channel !== null) {
    const sub: Record<string, unknown> = { channel };
    if (extras.recoverable === true) sub['recoverable'] = true;
    if (extras.recover === true) {
      sub['recover'] = true;
      if ((extras.offset ?? 0) > 0) sub['offset'] = extras.offset;
      if ((extras.epoch ?? '') !== '') sub['epoch'] = extras.epoch;
    }
    cmds.push({ subscribe: sub, id: 2 });
  }
  return encodeCommands(cmds);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class LeanClient {
  state: ClientState = ClientState.Idle;
  /** Sequence position of this client's channel (see sequence.ts). */
  lastSeq = -1;
  /** True once the client has been re-subscribed after a drop (its sequence baseline is unknown). */
  rejoined = false;
  /** performance.now() when the current attempt started, or when the connection was lost. */
  startedAt = 0;
  droppedAt = 0;
  reconnectAttempts = 0;
  /** Stream position of the channel (offset of the last publication seen, epoch from the subscribe reply). */
  offset = 0;
  epoch = '';
  /** Source port for the next attempt when binding to a source address (set by the pool); else kernel-chosen. */
  localPort: number | undefined = undefined;
  /** Position a recovering resubscribe asked from (set by the pool). */
  askOffset = 0;
  askEpoch = '';
  /** The current attempt asked for recovery. */
  private recovering = false;
  private ws: RawWebSocket<LeanClient> | null = null;
  /** The first frame of the current attempt, sent once the socket is open. */
  private frame: Uint8Array | null = null;
  /** Source port the current socket was bound to (undefined: kernel-chosen). */
  private boundPort: number | undefined = undefined;
  private readonly target: RawWsTarget;
  private pong = false;
  private timer: NodeJS.Timeout | null = null;
  private lastError: string | null = null;

  constructor(
    readonly index: number,
    readonly channel: string | null,
    private readonly opts: LeanClientOptions,
    private readonly sink: ClientSink,
  ) {
    this.target = targetFor(opts.url);
  }

  /** One handler for every client's sockets (no closures per connection); `ws.ctx` is the client. */
  private static readonly events: RawWsHandler<LeanClient> = {
    onOpen(ws) {
      const c = ws.ctx;
      if (c.ws !== ws) return;
      const frame = c.frame;
      c.frame = null;
      if (frame !== null) ws.send(frame);
    },
    onMessage(ws, data, isBinary) {
      if (!isBinary && ws.ctx.ws === ws) ws.ctx.handleFrame(data);
    },
    onError(ws, code) {
      ws.ctx.socketError(ws, code);
    },
    onClose(ws, code) {
      ws.ctx.closed(ws, code);
    },
  };

  /** Opens the socket and sends `frame` (see firstFrame) once it is open. */
  open(frame: Uint8Array, recovering = false): void {
    if (this.state !== ClientState.Idle) return;
    this.state = ClientState.Connecting;
    this.pong = false;
    this.lastError = null;
    this.recovering = recovering;
    this.startedAt = performance.now();
    this.timer = setTimeout(() => this.fail('timeout'), this.opts.connectTimeoutMs);
    this.frame = frame;
    this.connect(this.localPort);
  }

  private connect(localPort: number | undefined): void {
    const bindAddress = this.opts.localAddress;
    this.boundPort = bindAddress !== undefined ? localPort : undefined;
    this.ws = new RawWebSocket(this.target, LeanClient.events, this, { localAddress: bindAddress, localPort: this.boundPort });
  }

  /** Errors: a failure cause while connecting; later, the cause reported with the drop (close 1006). */
  private socketError(ws: RawWebSocket<LeanClient>, code: string): void {
    if (this.boundPort !== undefined && this.ws === ws && this.state === ClientState.Connecting && PORT_TAKEN.has(code)) {
      // The pre-assigned source port is taken (another socket, or TIME_WAIT of the same 4-tuple): let the
      // kernel choose one for this attempt instead.
      this.ws = null;
      ws.terminate();
      this.connect(undefined);
      return;
    }
    if (this.ws !== ws) return;
    this.lastError = code;
    if (this.state === ClientState.Connecting) this.fail(code);
  }

  /** Sends raw command text (already newline-joined). */
  send(text: string): boolean {
    if (this.ws === null || this.ws.readyState !== ReadyState.Open) return false;
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
    if (ws.readyState === ReadyState.Connecting) ws.terminate();
    else if (ws.readyState === ReadyState.Open) ws.close(1000);
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

  private closed(ws: RawWebSocket<LeanClient>, code: number): void {
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

  private ping(): void {
    if (this.pong) this.ws?.send(PONG);
    this.sink.onPing(this);
  }

  private handleFrame(bytes: Uint8Array): void {
    // Fast path: a server ping is the 2-byte frame `{}` (protocol.md §1.1); no decoding, no allocation.
    if (bytes.length === 2 && bytes[0] === BRACE_OPEN && bytes[1] === BRACE_CLOSE) return this.ping();
    let msgs: unknown[];
    try {
      msgs = decodeReplies(bytes);
    } catch {
      return;
    }
    for (let i = 0; i < msgs.length; i++) {
      const msg = msgs[i];
      if (isRecord(msg)) this.handleMessage(msg);
    }
  }

  private handleMessage(msg: Record<string, unknown>): void {
    const push = msg['push'];
    if (isRecord(push)) {
      const pub = push['pub'];
      if (isRecord(pub) && typeof push['channel'] === 'string') this.publication(push['channel'], pub);
      return;
    }
    const id = typeof msg['id'] === 'number' ? msg['id'] : 0;
    // Any reply without id and without push is a ping (protocol.md §1.1 rule 5).
    if (id === 0) return this.ping();
    const error = msg['error'];
    if (id === 1) {
      if (isRecord(error)) return this.fail(`error_${String(error['code'])}`);
      const result = msg['connect'];
      this.pong = isRecord(result) && result['pong'] === true;
      this.sink.onConnected(this);
      if (this.channel === null) this.subscribed(null);
      return;
    }
    if (id === 2) {
      if (isRecord(error)) return this.fail(`error_${String(error['code'])}`);
      const result = msg['subscribe'];
      this.subscribed(isRecord(result) ? result : null);
      return;
    }
    this.sink.onReply(this, id, msg);
  }

  private publication(channel: string, pub: Record<string, unknown>): void {
    const offset = typeof pub['offset'] === 'number' ? pub['offset'] : undefined;
    if (offset !== undefined) this.offset = offset;
    this.sink.onPublication(this, channel, pub['data'], offset);
  }

  private subscribed(result: Record<string, unknown> | null): void {
    if (this.state !== ClientState.Connecting) return;
    this.clearTimer();
    this.state = ClientState.Subscribed;
    const asked = this.recovering;
    this.recovering = false;
    let outcome: SubscribeOutcome | null = null;
    const pubs = result !== null && Array.isArray(result['publications']) ? (result['publications'] as unknown[]) : [];
    if (result !== null) {
      const epoch = typeof result['epoch'] === 'string' ? result['epoch'] : '';
      const offset = typeof result['offset'] === 'number' ? result['offset'] : 0;
      if (asked) {
        outcome = { wasRecovering: result['was_recovering'] === true, recovered: result['recovered'] === true, publications: pubs.length, offset, epoch };
      }
      if (epoch !== '') this.epoch = epoch;
      if (result['recoverable'] === true || result['positioned'] === true) this.offset = offset;
    }
    this.sink.onSubscribed(this, performance.now() - this.startedAt, outcome);
    const channel = this.channel ?? '';
    for (let i = 0; i < pubs.length; i++) {
      const p = pubs[i];
      if (isRecord(p)) this.publication(channel, p);
    }
  }
}
