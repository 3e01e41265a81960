// One dedicated PUB/SUB connection of a shard, kept alive by Gyre rather than by ioredis: after a drop it
// reconnects with jittered, capped backoff, subscribes the fixed channels (shard, control, node) and then every
// wanted channel again in batches of 512, and only then reports the restore, so the caller can tell the
// affected subscribers that they may have missed publications. A PING every interval on this very connection
// is the liveness probe: a reply that does not come within the timeout means the subscription is wedged
// (e.g. left on a demoted master after a failover), and the connection is dropped and rebuilt.
import type { Redis } from 'ioredis';
import { countRedisPubSubError } from '../../metrics/observe.js';
import { redisMetrics } from '../../metrics/registry.js';

export const SUBSCRIBE_BATCH = 512;

export class PubSubUnavailableError extends Error {
  override readonly name = 'PubSubUnavailableError';
  constructor(label: string) {
    super(`redis: PUB/SUB connection to ${label} temporarily unavailable`);
  }
}

export interface PubSubOptions {
  /** Returns a new, not yet connected connection (lazyConnect, no retry strategy of its own). */
  connect: () => Redis;
  label: string;
  onMessage: (channel: Buffer, payload: Buffer) => void;
  /** After a reconnect, once the wanted channels are subscribed again (Redis channel names). */
  onRestored: (channels: readonly string[]) => void;
  onError?: (err: unknown, what: string) => void;
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

const enum State {
  Idle,
  Connecting,
  Resubscribing,
  Up,
  Closed,
}

export class PubSubConnection {
  private conn: Redis | undefined = undefined;
  private state = State.Idle;
  private readonly wanted = new Set<string>();
  /** Subscribed first on every connection, never unsubscribed (shard, control and node channels). */
  private readonly fixed = new Set<string>();
  private attempt = 0;
  private everUp = false;
  private retryTimer: NodeJS.Timeout | undefined = undefined;
  private pingTimer: NodeJS.Timeout | undefined = undefined;
  private pingSentAt = 0;
  private readonly pingIntervalMs: number;
  private readonly pingTimeoutMs: number;
  private firstStart: { resolve: () => void; reject: (e: unknown) => void } | undefined = undefined;

  constructor(private readonly opts: PubSubOptions) {
    this.pingIntervalMs = opts.pingIntervalMs ?? 1000;
    this.pingTimeoutMs = opts.pingTimeoutMs ?? 4000;
  }

  /** Resolves once the first connection is subscribed; rejects when that first attempt fails. */
  start(): Promise<void> {
    if (this.state !== State.Idle) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.firstStart = { resolve, reject };
      this.open();
      this.pingTimer = setInterval(() => this.probe(), this.pingIntervalMs);
      this.pingTimer.unref();
    });
  }

  /** True while the connection is subscribed and answered its last probe in time. */
  get up(): boolean {
    if (this.state !== State.Up) return false;
    return this.pingSentAt === 0 || Date.now() - this.pingSentAt < this.pingTimeoutMs;
  }

  get channelCount(): number {
    return this.wanted.size;
  }

  /** Adds always-subscribed channels; subscribes them now when connected. */
  async subscribeFixed(channels: readonly string[]): Promise<void> {
    for (const c of channels) this.fixed.add(c);
    const conn = this.conn;
    if (conn !== undefined && (this.state === State.Up || this.state === State.Resubscribing)) await conn.subscribe(...channels);
  }

  async subscribe(channels: readonly string[]): Promise<void> {
    const conn = this.conn;
    if (conn === undefined || (this.state !== State.Up && this.state !== State.Resubscribing)) {
      throw new PubSubUnavailableError(this.opts.label);
    }
    for (const c of channels) this.wanted.add(c);
    try {
      for (let i = 0; i < channels.length; i += SUBSCRIBE_BATCH) {
        await conn.subscribe(...channels.slice(i, i + SUBSCRIBE_BATCH));
      }
    } catch (err) {
      for (const c of channels) this.wanted.delete(c);
      redisMetrics.commandErrors.inc({ op: 'subscribe' });
      countRedisPubSubError('subscribe_channel');
      throw err;
    }
  }

  async unsubscribe(channels: readonly string[]): Promise<void> {
    for (const c of channels) this.wanted.delete(c);
    const conn = this.conn;
    if (conn === undefined || (this.state !== State.Up && this.state !== State.Resubscribing)) return;
    try {
      for (let i = 0; i < channels.length; i += SUBSCRIBE_BATCH) {
        await conn.unsubscribe(...channels.slice(i, i + SUBSCRIBE_BATCH));
      }
    } catch (err) {
      // The connection is going away: the next one will not subscribe these channels.
      redisMetrics.commandErrors.inc({ op: 'unsubscribe' });
      this.opts.onError?.(err, 'unsubscribe');
    }
  }

  /** Drops the current connection and rebuilds it (the liveness probe and tests use it). */
  restart(): void {
    if (this.state === State.Closed || this.conn === undefined) return;
    this.drop(this.conn);
  }

  close(): void {
    if (this.state === State.Closed) return;
    this.state = State.Closed;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
    const conn = this.conn;
    this.conn = undefined;
    if (conn !== undefined) {
      conn.removeAllListeners();
      conn.on('error', () => undefined);
      conn.disconnect();
    }
    this.firstStart?.reject(new Error('closed'));
    this.firstStart = undefined;
  }

  private open(): void {
    if (this.state === State.Closed) return;
    this.state = State.Connecting;
    this.pingSentAt = 0;
    const conn = this.opts.connect();
    this.conn = conn;
    conn.on('messageBuffer', (channel: Buffer, payload: Buffer) => {
      if (this.conn === conn) this.opts.onMessage(channel, payload);
    });
    conn.on('error', (err: unknown) => this.opts.onError?.(err, 'connection'));
    conn.on('close', () => this.lost(conn));
    conn.connect().then(
      () => this.resubscribe(conn),
      (err: unknown) => {
        this.opts.onError?.(err, 'connect');
        this.lost(conn);
      },
    );
  }

  private async resubscribe(conn: Redis): Promise<void> {
    if (this.conn !== conn) return;
    this.state = State.Resubscribing;
    const started = process.hrtime.bigint();
    const channels = [...this.wanted];
    let fixedDone = this.fixed.size === 0;
    try {
      if (!fixedDone) await conn.subscribe(...this.fixed);
      fixedDone = true;
      for (let i = 0; i < channels.length; i += SUBSCRIBE_BATCH) {
        await conn.subscribe(...channels.slice(i, i + SUBSCRIBE_BATCH));
      }
    } catch (err) {
      redisMetrics.commandErrors.inc({ op: 'resubscribe' });
      // A connection closed under the subscribe is counted once, as lost, by its close handler.
      if (this.conn === conn) countRedisPubSubError(fixedDone ? 'subscribe_channel' : 'subscribe_control_channel');
      this.opts.onError?.(err, 'resubscribe');
      this.drop(conn);
      return;
    }
    if (this.conn !== conn) return;
    this.state = State.Up;
    this.attempt = 0;
    const wasUp = this.everUp;
    this.everUp = true;
    if (this.firstStart !== undefined) {
      this.firstStart.resolve();
      this.firstStart = undefined;
    }
    if (wasUp) {
      redisMetrics.resubscribeSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
      // Channels subscribed while we were resubscribing are in `wanted` too; report the ones that were down.
      this.opts.onRestored(channels);
    }
  }

  /** The connection closed or could not be made (Centrifugo's `connection` PUB/SUB error), unless we closed it. */
  private lost(conn: Redis): void {
    if (this.conn === conn && this.state !== State.Closed) countRedisPubSubError('connection');
    this.drop(conn);
  }

  private drop(conn: Redis): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    conn.removeAllListeners();
    conn.on('error', () => undefined);
    conn.disconnect();
    if (this.state === State.Closed) return;
    if (this.firstStart !== undefined) {
      this.state = State.Idle;
      if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
      this.firstStart.reject(new Error(`redis: cannot subscribe on ${this.opts.label}`));
      this.firstStart = undefined;
      return;
    }
    this.state = State.Connecting;
    if (this.everUp && this.attempt === 0) redisMetrics.pubsubReconnects.inc({ shard: this.opts.label });
    const base = this.opts.backoffBaseMs ?? 50;
    const max = this.opts.backoffMaxMs ?? 1000;
    const delay = Math.min(max, base * 2 ** Math.min(this.attempt, 16)) * (0.5 + Math.random() / 2);
    this.attempt++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.open();
    }, delay);
  }

  private probe(): void {
    const conn = this.conn;
    if (conn === undefined || this.state !== State.Up) return;
    if (this.pingSentAt !== 0) {
      if (Date.now() - this.pingSentAt >= this.pingTimeoutMs) {
        redisMetrics.commandErrors.inc({ op: 'pubsub_ping' });
        countRedisPubSubError('probe_timeout');
        this.opts.onError?.(new Error('PUB/SUB liveness probe timed out'), 'ping');
        this.drop(conn);
      }
      return;
    }
    this.pingSentAt = Date.now();
    conn.ping().then(
      () => {
        if (this.conn === conn) this.pingSentAt = 0;
      },
      () => undefined, // the close handler rebuilds the connection
    );
  }
}
