// The refresh loop of one shared poll channel (docs/shared-poll.md). Two kinds of backend calls, one at a time per
// channel: a notification call for keys that were just tracked (batched up to refresh_batch_size) and the timer
// cycle every refresh_interval over all tracked keys, in batches spread over the interval. Every call holds a slot
// of the node-wide semaphore (shared_poll.concurrency_limit) and has the proxy's deadline, so a slow or dead
// backend delays only its own channel. The loop stops for good with stop(): no timer outlives the channel.
import type { Logger } from 'pino';
import { sharedPollMetrics, type PollTrigger } from '../../metrics/shared-poll.js';
import type { Semaphore } from '../../util/semaphore.js';
import type { PollChannel, PolledItem } from './channel.js';

/** What the application backend answered for some keys of a channel. */
export interface RefreshAnswer {
  items: PolledItem[];
  epoch: string;
}

/** Asks the backend (the namespace's shared_poll_refresh proxy) about `items` of `channel`; rejects when no answer came. */
export type Refresher = (channel: string, proxyName: string, items: Array<{ key: string; version?: number }>) => Promise<RefreshAnswer>;

export interface WorkerDeps {
  refresher: Refresher;
  semaphore: Semaphore;
  logger: Logger;
  /** Applies an answer (the manager: updates, epoch flips, then the shutdown check). */
  apply(channel: PollChannel, answer: RefreshAnswer, trigger: PollTrigger): void;
}

/** Notifications waiting for a call; more are dropped (and counted): the next timer cycle covers them. */
export const NOTIFY_CAPACITY = 4096;

export class PollWorker {
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined = undefined;
  private timerDue = false;
  private busy = false;
  private stopped = false;
  /** Wakes the spread delay of a timer cycle early when the worker stops. */
  private wake: (() => void) | undefined = undefined;

  constructor(
    private readonly channel: PollChannel,
    private readonly deps: WorkerDeps,
  ) {}

  start(): void {
    this.schedule(this.channel.opts.refreshIntervalMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
    this.wake?.();
  }

  /** Asks the backend about `key` soon (a newly tracked key, or a late joiner's re-broadcast). */
  notify(key: string): void {
    if (this.stopped) return;
    if (this.pending.size >= NOTIFY_CAPACITY && !this.pending.has(key)) {
      sharedPollMetrics.droppedNotify.inc({ channel_namespace: '' });
      return;
    }
    this.pending.add(key);
    sharedPollMetrics.notify.inc({ channel_namespace: '' });
    this.pump();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDue = true;
      this.pump();
    }, ms);
    this.timer.unref();
  }

  private pump(): void {
    if (this.busy || this.stopped) return;
    this.busy = true;
    void this.run().finally(() => {
      this.busy = false;
      // Work that arrived while the last call finished.
      if (!this.stopped && (this.pending.size > 0 || this.timerDue)) this.pump();
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.pending.size > 0) {
        const keys: string[] = [];
        for (const k of this.pending) {
          keys.push(k);
          if (keys.length >= this.channel.opts.batchSize) break;
        }
        for (const k of keys) this.pending.delete(k);
        const tracked = keys.filter((k) => this.channel.entries.has(k));
        if (tracked.length > 0) await this.call(tracked, 'notification');
        continue;
      }
      if (this.timerDue) {
        this.timerDue = false;
        const started = performance.now();
        const spread = await this.timerCycle();
        const took = performance.now() - started;
        sharedPollMetrics.cycleDuration.observe({ channel_namespace: '' }, took / 1000);
        sharedPollMetrics.cycleWorkDuration.observe({ channel_namespace: '' }, Math.max(0, took - spread) / 1000);
        this.schedule(Math.max(0, this.channel.opts.refreshIntervalMs - took));
        continue;
      }
      return;
    }
  }

  /** All tracked keys but those a publish just refreshed, sorted, in batches spread over the interval. */
  private async timerCycle(): Promise<number> {
    const keys: string[] = [];
    for (const [k, e] of this.channel.entries) {
      if (e.freshFromPublish) e.freshFromPublish = false;
      else keys.push(k);
    }
    if (keys.length === 0) return 0;
    keys.sort();
    const size = this.channel.opts.batchSize;
    const calls: Array<Promise<void>> = [];
    const n = Math.ceil(keys.length / size);
    const delay = n > 1 ? this.channel.opts.refreshIntervalMs / n : 0;
    let spread = 0;
    for (let i = 0; i < n && !this.stopped; i++) {
      if (i > 0) {
        await this.sleep(delay);
        spread += delay;
        if (this.stopped) break;
      }
      calls.push(this.call(keys.slice(i * size, (i + 1) * size), 'timer'));
    }
    await Promise.all(calls);
    return spread;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    }).finally(() => {
      this.wake = undefined;
    });
  }

  /** One backend call for `keys`; a failure is counted and logged, and nobody is told (the next cycle retries). */
  private async call(keys: string[], trigger: PollTrigger): Promise<void> {
    const labels = { trigger, channel_namespace: '' };
    const waitStarted = performance.now();
    const release = await this.deps.semaphore.acquire();
    try {
      sharedPollMetrics.semWaitDuration.observe(labels, (performance.now() - waitStarted) / 1000);
      if (this.stopped) return;
      const versioned = this.channel.opts.versioned;
      const items = keys.map((key) => {
        const e = this.channel.entries.get(key);
        const version = versioned && e !== undefined && !e.needsBroadcast ? e.version : 0;
        return version > 0 ? { key, version } : { key };
      });
      sharedPollMetrics.items.inc({ ...labels, result: 'polled' }, items.length);
      const started = performance.now();
      let answer: RefreshAnswer;
      try {
        answer = await this.deps.refresher(this.channel.channel, this.channel.opts.proxyName, items);
      } catch (err) {
        sharedPollMetrics.handlerErrors.inc(labels);
        this.deps.logger.warn({ err, channel: this.channel.channel, trigger }, 'shared poll refresh error');
        return;
      } finally {
        sharedPollMetrics.handlerDuration.observe(labels, (performance.now() - started) / 1000);
      }
      if (!this.stopped) this.deps.apply(this.channel, answer, trigger);
    } finally {
      release();
    }
  }
}
