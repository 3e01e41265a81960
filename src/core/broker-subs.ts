// The broker's channel subscriptions of this node, kept in line with local interest in batches: changes made in
// one macrotask (a burst of connects, a client's many subscribes) are coalesced into a few multi-channel
// broker.subscribe / broker.unsubscribe calls. Per channel at most one call is in flight; when it settles the
// channel is checked again, so races (subscribe, leave, subscribe again) always end in the state local interest
// asks for. A waiter resolves only after the broker confirmed the channel, and a failure rejects the waiters of
// the failed channels only.
import { PartialSubscribeError, type Broker } from '../engines/types.js';

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

export interface BrokerSubscriptionsOptions {
  /** Most channels per broker call (default 512). */
  maxBatch?: number;
  /** How a flush is deferred (default setImmediate: after the current macrotask's I/O callbacks). */
  schedule?: (fn: () => void) => void;
}

export class BrokerSubscriptions {
  /** Channels the broker holds a subscription for, as last confirmed. */
  private readonly confirmed = new Set<string>();
  private readonly inflight = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly waiters = new Map<string, Waiter[]>();
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly schedule: (fn: () => void) => void;

  constructor(
    private readonly broker: Broker,
    /** Whether this node has local subscribers for the channel now. */
    private readonly wanted: (channel: string) => boolean,
    private readonly onError: (err: unknown, channel: string) => void,
    opts: BrokerSubscriptionsOptions = {},
  ) {
    this.maxBatch = Math.max(1, opts.maxBatch ?? 512);
    this.schedule = opts.schedule ?? ((fn) => void setImmediate(fn));
  }

  /** True when the broker is subscribed and nothing about the channel is pending (no need to wait). */
  settled(channel: string): boolean {
    return this.confirmed.has(channel) && !this.inflight.has(channel) && !this.dirty.has(channel);
  }

  /** Resolves once the broker confirmed a subscription to `channel`; rejects with the broker's error. */
  ensure(channel: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let list = this.waiters.get(channel);
      if (list === undefined) {
        list = [];
        this.waiters.set(channel, list);
      }
      list.push({ resolve, reject });
      this.mark(channel);
    });
  }

  /** Local interest in `channel` changed (its last subscriber left). */
  changed(channel: string): void {
    this.mark(channel);
  }

  /** Number of channels the broker is subscribed to (as confirmed). */
  get size(): number {
    return this.confirmed.size;
  }

  private mark(channel: string): void {
    this.dirty.add(channel);
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const sub: string[] = [];
    const unsub: string[] = [];
    for (const ch of this.dirty) {
      if (this.inflight.has(ch)) continue; // checked again when its call settles
      this.dirty.delete(ch);
      const want = this.wanted(ch);
      const have = this.confirmed.has(ch);
      // Only for waiters: after a failure nobody retries in a loop for a channel no one waits for.
      if (want && !have && this.waiters.has(ch)) sub.push(ch);
      else if (!want && have) unsub.push(ch);
      else if (have || !want) this.settle(this.takeWaiters(ch), true, undefined);
    }
    for (let i = 0; i < sub.length; i += this.maxBatch) this.run(true, sub.slice(i, i + this.maxBatch));
    for (let i = 0; i < unsub.length; i += this.maxBatch) this.run(false, unsub.slice(i, i + this.maxBatch));
  }

  private run(subscribe: boolean, channels: string[]): void {
    // Waiters that arrive while the call is in flight wait for the check after it.
    const waiting = new Map<string, Waiter[]>();
    for (const ch of channels) {
      this.inflight.add(ch);
      if (!subscribe) this.confirmed.delete(ch); // unknown until confirmed: treat as gone
      const w = this.takeWaiters(ch);
      if (w.length > 0) waiting.set(ch, w);
    }
    const call = subscribe ? this.broker.subscribe(channels) : this.broker.unsubscribe(channels);
    call.then(
      () => this.done(subscribe, channels, waiting, undefined, undefined),
      (err: unknown) => {
        const failed = err instanceof PartialSubscribeError ? new Set(err.failed) : undefined;
        const reason = err instanceof PartialSubscribeError ? err.reason : err;
        this.done(subscribe, channels, waiting, failed ?? new Set(channels), reason);
      },
    );
  }

  private done(
    subscribe: boolean,
    channels: readonly string[],
    waiting: Map<string, Waiter[]>,
    failed: ReadonlySet<string> | undefined,
    reason: unknown,
  ): void {
    for (const ch of channels) {
      this.inflight.delete(ch);
      const bad = failed?.has(ch) === true;
      if (bad) this.onError(reason, ch);
      else if (subscribe) this.confirmed.add(ch);
      const w = waiting.get(ch);
      if (w !== undefined) this.settle(w, !bad, reason);
      this.mark(ch);
    }
  }

  private takeWaiters(channel: string): Waiter[] {
    const w = this.waiters.get(channel);
    if (w === undefined) return [];
    this.waiters.delete(channel);
    return w;
  }

  private settle(list: readonly Waiter[], ok: boolean, err: unknown): void {
    for (const w of list) {
      if (ok) w.resolve();
      else w.reject(err);
    }
  }
}
