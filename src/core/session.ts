// One connection's state machine (connecting → connected → closed) and command dispatch. Commands are
// processed strictly sequentially in arrival order, in bounded slices per event-loop turn; the replies (and
// pushes) produced while one inbound frame (or one slice of a large frame) is processed leave together.
import { removeMapPresence } from './map/presence.js';
import { performance } from 'node:perf_hooks';
import type { Codec, FrameCursor } from '../protocol/codec.js';
import { Disconnect, Disconnects, ProtocolError, Unsubscribe } from '../protocol/errors.js';
import { rejectionLogFor } from '../util/rejection-log.js';
import { DisconnectCode, ErrorCode, UnsubscribeCode } from '../protocol/codes.js';
import type { ClientInfo, Command, Push, Reply } from '../protocol/types.js';
import type { SessionPort, Transport } from '../transports/types.js';
import { hot, metrics } from '../metrics/registry.js';
import { observeCommand, subscriptionsInflight } from '../metrics/observe.js';
import { countDeliveries } from '../metrics/messages.js';
import { METRIC_ACCEPT_PROTOCOL, metricClientName, metricClientVersion } from '../metrics/client-labels.js';
import { Children2, Children3 } from '../metrics/children.js';
import type { CoreContext } from './context.js';
import { SessionState } from './session-state.js';
import { SessionTimers } from './session-timers.js';
import { SubState, type Subscription } from './subscription.js';
import { Writer } from './writer.js';
import { uniConnectDisconnect } from './uni-connect.js';
import { randomUuid } from '../util/uuid.js';

export interface ConnectionLabels {
  key: string;
  labels: { transport: string; accept_protocol: string; client_name: string; client_version: string };
}

/** Label objects shared by every session with the same transport and format (they never change). */
const recvLabelCache = new Children2((transport, frameType) => ({
  key: transport + frameType,
  labels: { transport, frame_type: frameType, channel_namespace: '' },
}));
/** The client-label sets, shared by every session with the same ones (a few: the values are bounded). */
const connectionLabelCache = new Children3<ConnectionLabels>((transport, name, version) => ({
  key: `${transport}\u0000${name}\u0000${version}`,
  labels: { transport, accept_protocol: METRIC_ACCEPT_PROTOCOL, client_name: name, client_version: version },
}));

export { SessionState } from './session-state.js';

/** The token channels of a connection that has none (shared; never changed). */
const NO_TOKEN_CHANNELS: readonly string[] = Object.freeze([]);
/** The commands of a frame before its first batch is decoded. */
const NO_COMMANDS: readonly Command[] = Object.freeze([]);

/**
 * Fair work (one connection must not stall the others): a connection's commands are run in slices of at most
 * SLICE_COMMANDS commands or SLICE_MS of loop time, or until its replies of the slice reach a quarter of
 * `client.queue_max_size`; then the session yields to the event loop (setImmediate) and, before the next
 * slice, waits until its outbound queue is back under that quarter (the client reads its replies at its own
 * pace; a client that does not read stops being answered, it is not cut off for its own replies).
 */
const SLICE_COMMANDS = 256;
const SLICE_MS = 1;
/** Commands decoded from a frame at a time (a 100,000-command frame is decoded slice by slice too). */
const DECODE_BATCH = 64;
/** Inbound backpressure: reading from the socket pauses while this many frames or bytes wait. */
const PAUSE_FRAMES = 32;
const PAUSE_BYTES = 1 << 20;
/** Hard bound on waiting frames (frames already read when reading paused still arrive). */
const MAX_PENDING_FRAMES = 16384;

interface PendingFrame {
  readonly bytes: Uint8Array;
  readonly cursor: FrameCursor;
  /** At least one command was decoded (a frame with none is a bad request). */
  decoded: boolean;
  error: string | undefined;
  /** The batch of commands being run, and the index of the next one to run. */
  cmds: readonly Command[];
  next: number;
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class Session implements SessionPort {
  readonly id: string = randomUuid();
  /**
   * The session id of emulation and unidirectional transports (Centrifugo's: a second UUID, sent in the connect
   * result; `/emulation` requests and API `session` targets name it). '' on WebSocket.
   */
  readonly sessionId: string;
  /** Unidirectional transport: pushes go out bare and connect errors become disconnects. */
  readonly uni: boolean;
  /** A `disconnect` push is written before the transport closes (emulation and unidirectional transports). */
  private disconnectPush: boolean;
  state: SessionState = SessionState.Connecting;
  /** After a connect error reply the connection is unusable: any further command ⇒ 3501. */
  unusable = false;
  user = '';
  connInfo: Uint8Array | undefined = undefined;
  /** Unix seconds; 0 = no expiration. */
  expireAt = 0;
  clientName = '';
  clientVersion = '';
  /** Channels of token-based server-side subscriptions (compared on refresh). */
  tokenChannels: readonly string[] = NO_TOKEN_CHANNELS;
  readonly json: boolean;
  readonly codec: Codec;
  readonly writer: Writer;
  readonly subs = new Map<string, Subscription>();
  readonly timers: SessionTimers;
  readonly transportName: string;
  private held: Uint8Array[] | null = null;
  private heldBytes = 0;
  private readonly pending: PendingFrame[] = [];
  private pendingBytes = 0;
  private processing = false;
  private readingPaused = false;
  /** Current slice: commands run and when it started (performance.now()). */
  private sliceCount = 0;
  private sliceStart = 0;
  /** A slice ends once its held replies reach this; the next one starts once the queue is under it. */
  private readonly lowWater: number;
  /** Label key and labels of this connection's received-frame counters (metrics are batched by key). */
  private readonly recvKey: string;
  private readonly recvLabels: { transport: string; frame_type: string; channel_namespace: string };
  private clientLabels: ConnectionLabels | undefined = undefined;

  constructor(
    readonly ctx: CoreContext,
    readonly transport: Transport,
  ) {
    const info = transport.info;
    this.transportName = info.name;
    this.uni = info.unidirectional;
    const emulation = info.emulation === true;
    this.sessionId = this.uni || emulation ? randomUuid() : '';
    this.disconnectPush = info.disconnectPush ?? (this.uni || emulation);
    this.json = info.protocol === 'json';
    this.codec = this.json ? ctx.codecs.json : ctx.codecs.protobuf;
    this.writer = new Writer({
      transport,
      codec: this.codec,
      maxQueueBytes: ctx.config.client.queue_max_size,
      onOverflow: () => this.onOverflow(),
    });
    this.lowWater = Math.max(1, Math.floor(ctx.config.client.queue_max_size / 4));
    const frameType = this.json ? 'text' : 'binary';
    const recv = recvLabelCache.get(info.name, frameType);
    this.recvKey = recv.key;
    this.recvLabels = recv.labels;
    this.timers = new SessionTimers(this);
    this.timers.startStale();
  }

  get closed(): boolean {
    return this.state === SessionState.Closed;
  }

  // ---- inbound

  handleFrame(frame: Uint8Array): void {
    if (this.state === SessionState.Closed) return;
    try {
      hot.transportMessagesReceived.inc(this.recvKey, this.recvLabels);
      hot.transportMessagesReceivedSize.inc(this.recvKey, this.recvLabels, frame.byteLength);
      if (this.pending.length >= MAX_PENDING_FRAMES) {
        this.close(Disconnect.of(DisconnectCode.TooManyRequests));
        return;
      }
      // Decoded lazily, a batch at a time, by the pump.
      this.pending.push({ bytes: frame, cursor: { pos: 0 }, decoded: false, error: undefined, cmds: NO_COMMANDS, next: 0 });
      this.pendingBytes += frame.byteLength;
      if (!this.readingPaused && (this.pending.length >= PAUSE_FRAMES || this.pendingBytes >= PAUSE_BYTES)) {
        this.readingPaused = true;
        this.transport.pauseReading();
      }
      if (!this.processing) this.pump();
    } catch (err) {
      this.internalError('frame', err);
      this.close(Disconnects.internal());
    }
  }

  handleTransportClose(): void {
    this.close(undefined);
  }

  /**
   * Runs the waiting frames in order. Commands that complete at once (a connect with an HMAC token, a subscribe to
   * a channel the broker already holds) run synchronously, without a Promise per command; the pump goes on from a
   * Promise only when a command (or the slice's yield) has to wait.
   */
  private pump(): void {
    this.processing = true;
    this.sliceCount = 0;
    this.sliceStart = performance.now();
    this.runPending();
  }

  private runPending(): void {
    try {
      while (this.pending.length > 0 && !this.closed) {
        const frame = this.pending[0]!;
        const wait = this.processFrame(frame);
        if (wait !== undefined) {
          wait.then(
            () => this.frameDone(frame, true),
            (err: unknown) => this.pumpFailed(err),
          );
          return;
        }
        this.frameDone(frame, false);
      }
    } catch (err) {
      this.pumpFailed(err);
      return;
    }
    this.processing = false;
  }

  /** The first waiting frame was run: drop it, resume reading if it paused, and (after a wait) go on. */
  private frameDone(frame: PendingFrame, resume: boolean): void {
    try {
      this.pending.shift();
      this.pendingBytes -= frame.bytes.byteLength;
      if (this.readingPaused && this.pending.length < PAUSE_FRAMES / 2 && this.pendingBytes < PAUSE_BYTES / 2) {
        this.readingPaused = false;
        if (!this.closed) this.transport.resumeReading();
      }
    } catch (err) {
      this.pumpFailed(err);
      return;
    }
    if (resume) this.runPending();
  }

  private pumpFailed(err: unknown): void {
    this.processing = false;
    this.internalError('pump', err);
    this.close(Disconnects.internal());
  }

  /** Runs one frame's commands; undefined when it is done, else a Promise of its end. */
  private processFrame(frame: PendingFrame): Promise<void> | undefined {
    this.held = [];
    this.heldBytes = 0;
    let wait: Promise<void> | undefined;
    try {
      wait = this.step(frame);
    } catch (err) {
      this.releaseHeld();
      throw err;
    }
    if (wait !== undefined) return this.finishFrame(frame, wait);
    this.releaseHeld();
    this.endFrame(frame);
    return undefined;
  }

  private async finishFrame(frame: PendingFrame, first: Promise<void>): Promise<void> {
    try {
      let wait: Promise<void> | undefined = first;
      while (wait !== undefined) {
        await wait;
        wait = this.step(frame);
      }
    } finally {
      this.releaseHeld();
    }
    this.endFrame(frame);
  }

  private endFrame(frame: PendingFrame): void {
    if (!this.closed && (frame.error !== undefined || !frame.decoded)) this.close(Disconnects.badRequest());
  }

  /**
   * Runs the frame's next commands, decoding a batch at a time, until the frame ends (undefined) or a command or
   * the slice's yield has to wait (returned: call again once it settled).
   */
  private step(frame: PendingFrame): Promise<void> | undefined {
    const bytes = frame.bytes;
    while (!this.closed) {
      if (frame.next >= frame.cmds.length) {
        if (frame.cursor.pos >= bytes.byteLength) return undefined;
        const res = this.codec.decodeSome(bytes, frame.cursor, DECODE_BATCH);
        if (res.error !== undefined) {
          metrics.malformedFrames.inc({ transport: this.transportName });
          frame.error = res.error;
        }
        frame.cmds = res.commands;
        frame.next = 0;
        if (res.commands.length > 0) frame.decoded = true;
        continue;
      }
      const wait = this.dispatch(frame.cmds[frame.next++]!);
      if (wait !== undefined) return this.afterCommand(wait);
      if (this.sliceSpent()) return this.yieldTurn();
    }
    return undefined;
  }

  private async afterCommand(wait: Promise<void>): Promise<void> {
    await wait;
    if (this.sliceSpent()) await this.yieldTurn();
  }

  /** True when the current slice has used its share of the loop. */
  private sliceSpent(): boolean {
    const n = ++this.sliceCount;
    if (n >= SLICE_COMMANDS || this.heldBytes >= this.lowWater) return true;
    return (n & 7) === 0 && performance.now() - this.sliceStart >= SLICE_MS;
  }

  /**
   * Ends a slice: the replies held so far go out, the loop gets a turn, and the next slice waits until the
   * client has taken its replies (outbound queue under lowWater). Pushes are delivered meanwhile.
   */
  private async yieldTurn(): Promise<void> {
    this.releaseHeld();
    await nextTurn();
    while (!this.closed && this.writer.queuedBytes > this.lowWater) {
      await new Promise<void>((resolve) => this.transport.onceDrained(resolve));
    }
    if (!this.closed) {
      this.held = [];
      this.heldBytes = 0;
    }
    this.sliceCount = 0;
    this.sliceStart = performance.now();
  }

  private releaseHeld(): void {
    const held = this.held;
    this.held = null;
    this.heldBytes = 0;
    if (held === null || this.state === SessionState.Closed) return;
    for (let i = 0; i < held.length; i++) this.writer.enqueue(held[i]!);
    // Replies (and the pushes held with them) one per frame, in one write: see Writer.flushEach.
    this.writer.flushEach();
  }

  /** Runs one command: undefined when it completed at once, else a Promise of its end (errors handled either way). */
  private dispatch(cmd: Command): Promise<void> | undefined {
    // Protocol rules of docs/protocol.md §1.1 and §1.10, checked before any handler runs.
    if (cmd.kind === 'pong') {
      if (!this.timers.onPong()) this.close(Disconnects.badRequest());
      return undefined;
    }
    if (this.unusable || cmd.kind === 'unknown') {
      this.close(Disconnects.badRequest());
      return undefined;
    }
    if (cmd.id === 0 && cmd.kind !== 'send') {
      this.close(Disconnects.badRequest());
      return undefined;
    }
    if (this.state === SessionState.Connecting ? cmd.kind !== 'connect' : cmd.kind === 'connect') {
      this.close(Disconnects.badRequest());
      return undefined;
    }
    const started = performance.now();
    let wait: Promise<void> | undefined;
    try {
      wait = this.ctx.dispatch(this, cmd);
    } catch (err) {
      this.handleCommandError(cmd, err);
    }
    if (wait !== undefined) return this.settle(cmd, started, wait);
    observeCommand(cmd.kind, (performance.now() - started) / 1000);
    return undefined;
  }

  private async settle(cmd: Command, started: number, wait: Promise<void>): Promise<void> {
    try {
      await wait;
    } catch (err) {
      this.handleCommandError(cmd, err);
    }
    observeCommand(cmd.kind, (performance.now() - started) / 1000);
  }

  private handleCommandError(cmd: Command, err: unknown): void {
    if (this.uni && cmd.kind === 'connect' && err instanceof ProtocolError) {
      // No reply channel on a unidirectional transport: the error becomes a disconnect (docs/transports.md).
      this.noteConnectRejected(err.message, err.code);
      metrics.replyErrors.inc({ method: cmd.kind, code: String(err.code), channel_namespace: '' });
      if (this.transport.rejectConnect?.(err.code, err.message) === true) this.disconnectPush = false;
      this.close(uniConnectDisconnect(err.code, this.ctx.config.client.connect_code_to_unidirectional_disconnect));
      return;
    }
    if (err instanceof Disconnect) {
      if (cmd.kind === 'connect' && err.code !== DisconnectCode.Shutdown) this.noteConnectRejected(err.reason, err.code);
      if (this.uni && cmd.kind === 'connect' && this.transport.rejectConnect?.(err.code, err.reason) === true) {
        this.disconnectPush = false;
      }
      this.close(err);
      return;
    }
    let pe: ProtocolError;
    if (err instanceof ProtocolError) {
      pe = err;
      if (cmd.kind === 'connect') this.noteConnectRejected(pe.message, pe.code);
    } else {
      this.internalError(cmd.kind, err);
      pe = ProtocolError.of(ErrorCode.Internal);
    }
    metrics.replyErrors.inc({ method: cmd.kind, code: String(pe.code), channel_namespace: '' });
    if (this.state === SessionState.Closed) return;
    this.sendReply({ id: cmd.id, error: pe.toBody() });
    if (cmd.kind === 'connect') this.unusable = true;
  }

  /** A refused connect, for the rate-limited rejection log (one line per reason per window). */
  private noteConnectRejected(reason: string, code: number): void {
    rejectionLogFor(this.ctx.logger).note('connect', reason, {
      code,
      user: this.user,
      remote: this.transport.info.remoteAddress,
      transport: this.transport.info.name,
    });
  }

  internalError(where: string, err: unknown): void {
    metrics.internalErrors.inc({ entry: 'session' });
    this.ctx.logger.error({ err, client: this.id, user: this.user, where }, 'internal error in client session');
  }

  // ---- outbound

  /** Hot path: one encoded message for this connection (batched into one frame per macrotask / inbound frame). */
  deliver(message: Uint8Array): void {
    if (this.state === SessionState.Closed) return;
    const bytes = this.uni ? this.codec.barePush(message) : message;
    const held = this.held;
    if (held !== null) {
      held.push(bytes);
      this.heldBytes += bytes.byteLength;
      if (this.heldBytes > this.ctx.config.client.queue_max_size) this.onOverflow();
      return;
    }
    this.writer.enqueue(bytes);
  }

  /**
   * The labels of this connection's centrifugo_client_connections_* series, as Centrifugo sets them once the
   * connect command named the client (bounded values, src/metrics/client-labels.ts), with their batching key.
   */
  connectionLabels(): ConnectionLabels {
    if (this.clientLabels === undefined) {
      this.clientLabels = connectionLabelCache.get(this.transportName, metricClientName(this.clientName), metricClientVersion(this.clientVersion));
    }
    return this.clientLabels;
  }

  /** This client's client_name label value (src/metrics/client-labels.ts). */
  get metricName(): string {
    return metricClientName(this.clientName);
  }

  sendReply(reply: Reply): void {
    if (this.state === SessionState.Closed) return;
    this.deliver(this.codec.encodeReply(reply));
  }

  sendPush(push: Push, type: string): void {
    if (this.state === SessionState.Closed) return;
    this.deliver(this.codec.encodePush(push));
    countDeliveries(type, '');
  }

  sendPing(): void {
    this.deliver(this.codec.pingMessage);
  }

  clientInfo(chanInfo?: Uint8Array): ClientInfo {
    const info: ClientInfo = { user: this.user, client: this.id };
    if (this.connInfo !== undefined) info.conn_info = this.connInfo;
    if (chanInfo !== undefined) info.chan_info = chanInfo;
    return info;
  }

  // ---- subscriptions

  /** Positioned subscription lost continuity (§5.6). */
  insufficientState(sub: Subscription): void {
    if (sub.state === SubState.Removed || this.state === SessionState.Closed) return;
    if (sub.serverSide) this.close(Disconnects.insufficientState());
    else this.unsubscribeWith(sub, Unsubscribe.of(UnsubscribeCode.InsufficientState));
  }

  /** Server-initiated unsubscribe: push to the client, then clean up. */
  unsubscribeWith(sub: Subscription, u: Unsubscribe): void {
    if (sub.state === SubState.Removed) return;
    this.removeSubscription(sub);
    metrics.serverUnsubscribes.inc({ code: String(u.code), channel_namespace: '' });
    this.sendPush({ channel: sub.channel, unsubscribe: { code: u.code, reason: u.reason } }, 'unsubscribe');
  }

  /** Removes a subscription: hub, presence, leave. Synchronous bookkeeping; engine calls run in background. */
  removeSubscription(sub: Subscription): void {
    const wasSubscribed = sub.state === SubState.Subscribed;
    if (wasSubscribed) subscriptionsInflight(this.metricName, sub.namespace, -1);
    if (this.subs.get(sub.channel) === sub) this.subs.delete(sub.channel);
    this.ctx.hub.removeSub(sub);
    sub.buffer = null;
    const onRemoved = sub.onRemoved;
    sub.onRemoved = undefined;
    if (onRemoved !== undefined) onRemoved();
    const engine = this.ctx.engine;
    if (sub.presence) {
      engine.presence.remove(sub.channel, this.id, this.user).catch((err: unknown) => this.engineError('presence remove', err));
    }
    if (sub.map !== undefined && wasSubscribed) removeMapPresence(this, sub);
    if (sub.joinLeave && wasSubscribed) {
      engine.broker
        .publishLeave(sub.channel, this.clientInfo(sub.chanInfo))
        .catch((err: unknown) => this.engineError('leave', err));
    }
  }

  engineError(what: string, err: unknown): void {
    metrics.internalErrors.inc({ entry: 'engine' });
    this.ctx.logger.warn({ err, client: this.id, what }, 'engine call failed');
  }

  // ---- close

  private onOverflow(): void {
    if (this.state === SessionState.Closed) return;
    metrics.slowClientBytes.observe(this.writer.queuedBytes + this.heldBytes);
    this.close(Disconnects.slow());
  }

  /**
   * Closes the connection (idempotent). `d` undefined ⇒ plain close (transport already gone or 3000).
   * Queued messages are flushed first except for 3000 and 3008.
   */
  close(d: Disconnect | undefined): void {
    if (this.state === SessionState.Closed) return;
    const held = this.held;
    this.held = null;
    this.state = SessionState.Closed;
    this.timers.clear();
    const flush = d !== undefined && d.code !== DisconnectCode.Slow;
    try {
      if (flush) {
        if (held !== null) for (let i = 0; i < held.length; i++) this.writer.enqueue(held[i]!);
        if (this.disconnectPush && d.code !== DisconnectCode.ConnectionClosed) {
          const push = this.codec.encodePush({ disconnect: { code: d.code, reason: d.reason } });
          this.writer.enqueue(this.uni ? this.codec.barePush(push) : push);
        }
        this.writer.flush();
      }
    } catch (err) {
      this.internalError('close flush', err);
    }
    if (d !== undefined) metrics.serverDisconnects.inc({ code: String(d.code) });
    try {
      this.transport.close(d);
    } catch (err) {
      this.internalError('transport close', err);
    }
    this.writer.close();
    for (const sub of [...this.subs.values()]) this.removeSubscription(sub);
    this.ctx.hub.removeSession(this);
  }
}
