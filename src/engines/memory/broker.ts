// Single-node broker + history store. Append and delivery happen in one synchronous step, so the order of
// publications per channel is total and equals the offset order (centrifuge broker.go atomicity rule).
import type {
  Broker,
  BrokerEventHandler,
  EngineCapabilities,
  HistoryReadOptions,
  HistoryReadResult,
  HistoryStore,
  PublishOptions,
  PublishResult,
} from '../types.js';
import type { ClientInfo, Publication, StreamPosition } from '../../protocol/types.js';
import { IdempotencyCache } from './idempotency.js';
import { MemoryHistory } from './history.js';

export interface MemoryBrokerOptions {
  /** Clock (ms); tests inject a fake one. */
  now?: () => number;
  /** How long an idempotency key suppresses duplicates (default 5 minutes). */
  idempotencyTtlMs?: number;
  /** Period of the expiry sweep (default 1 s); the timer is unref'd. */
  sweepIntervalMs?: number;
  /** Epoch generator (default 8 random ASCII letters). */
  newEpoch?: () => string;
}

const FIVE_MINUTES = 5 * 60_000;

export class MemoryBroker implements Broker, HistoryStore {
  readonly capabilities: EngineCapabilities = { history: true, atomicHistory: true, presence: true };
  private handler: BrokerEventHandler | undefined = undefined;
  private readonly subscribed = new Set<string>();
  private readonly history: MemoryHistory;
  private readonly idempotency: IdempotencyCache<StreamPosition | undefined>;
  private readonly now: () => number;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(opts: MemoryBrokerOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.history = new MemoryHistory(this.now, opts.newEpoch);
    this.idempotency = new IdempotencyCache(opts.idempotencyTtlMs ?? FIVE_MINUTES);
    this.sweepTimer = setInterval(() => this.sweep(), opts.sweepIntervalMs ?? 1000);
    this.sweepTimer.unref();
  }

  start(handler: BrokerEventHandler): Promise<void> {
    this.handler = handler;
    return Promise.resolve();
  }

  subscribe(channels: readonly string[]): Promise<void> {
    for (let i = 0; i < channels.length; i++) this.subscribed.add(channels[i] as string);
    return Promise.resolve();
  }

  unsubscribe(channels: readonly string[]): Promise<void> {
    for (let i = 0; i < channels.length; i++) this.subscribed.delete(channels[i] as string);
    return Promise.resolve();
  }

  /**
   * Appends (when the channel has history) and delivers synchronously. The handler must not throw: if it
   * does, the error rejects this call (the publication is already stored).
   */
  publish(channel: string, data: Uint8Array, opts: PublishOptions): Promise<PublishResult> {
    const now = this.now();
    const key = opts.idempotencyKey;
    if (key !== undefined && key !== '') {
      const hit = this.idempotency.get(channel, key, now);
      if (hit !== undefined) {
        return Promise.resolve(result(hit.result === undefined ? undefined : { ...hit.result }, true));
      }
    }
    const pub: Publication = { data };
    if (opts.clientInfo !== undefined) pub.info = opts.clientInfo;
    if (opts.tags !== undefined) pub.tags = opts.tags;
    let position: StreamPosition | undefined;
    let prev: Publication | undefined;
    if (opts.historySize > 0 && opts.historyTtlMs > 0 && opts.skipHistory !== true) {
      if (opts.useDelta === true) prev = this.history.latest(channel);
      position = this.history.append(channel, pub, {
        size: opts.historySize,
        ttlMs: opts.historyTtlMs,
        metaTtlMs: opts.historyMetaTtlMs,
      });
    }
    if (key !== undefined && key !== '') this.idempotency.set(channel, key, position, now);
    try {
      const h = this.handler;
      if (h !== undefined && this.subscribed.has(channel)) {
        h.onPublication(channel, pub, position === undefined ? undefined : { ...position }, Date.now(), prev);
      } else h?.onUnsubscribed?.('publication', channel);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return Promise.resolve(result(position, false));
  }

  publishJoin(channel: string, info: ClientInfo): Promise<void> {
    const h = this.handler;
    if (h !== undefined && this.subscribed.has(channel)) h.onJoin(channel, info);
    else h?.onUnsubscribed?.('join', channel);
    return Promise.resolve();
  }

  publishLeave(channel: string, info: ClientInfo): Promise<void> {
    const h = this.handler;
    if (h !== undefined && this.subscribed.has(channel)) h.onLeave(channel, info);
    else h?.onUnsubscribed?.('leave', channel);
    return Promise.resolve();
  }

  // ---- HistoryStore

  append(
    channel: string,
    pub: Publication,
    opts: { size: number; ttlMs: number; metaTtlMs: number; idempotencyKey?: string },
  ): Promise<{ position: StreamPosition; suppressed: boolean }> {
    const now = this.now();
    const key = opts.idempotencyKey;
    if (key !== undefined && key !== '') {
      const hit = this.idempotency.get(channel, key, now)?.result;
      if (hit !== undefined) return Promise.resolve({ position: { ...hit }, suppressed: true });
    }
    const stored: Publication = { ...pub };
    const position = this.history.append(channel, stored, opts);
    if (key !== undefined && key !== '') this.idempotency.set(channel, key, position, now);
    return Promise.resolve({ position: { ...position }, suppressed: false });
  }

  read(channel: string, opts: HistoryReadOptions): Promise<HistoryReadResult> {
    try {
      return Promise.resolve(this.history.read(channel, opts));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  remove(channel: string): Promise<void> {
    this.history.remove(channel);
    return Promise.resolve();
  }

  // ----

  /** Applies history/meta TTLs and idempotency expiry now (the timer calls it; tests may too). */
  sweep(): void {
    this.history.sweep();
    this.idempotency.sweep(this.now());
  }

  /** Number of live streams (tests, metrics). */
  get streamCount(): number {
    return this.history.size;
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
      this.handler = undefined;
      this.subscribed.clear();
      this.history.clear();
      this.idempotency.clear();
    }
    return Promise.resolve();
  }
}

function result(position: StreamPosition | undefined, suppressed: boolean): PublishResult {
  return position === undefined ? { suppressed } : { position, suppressed };
}
