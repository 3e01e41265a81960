// Shared poll on this node (docs/shared-poll.md): one PollChannel + PollWorker per channel somebody tracks keys
// in, created on the first track and dropped channel_shutdown_delay after the last key is untracked (the worker
// stops with it). Connections register and unregister their keys here; backend answers and direct publishes come
// back as updates to the connections that track the key.
import type { Logger } from 'pino';
import { sharedPollMetrics, type PollTrigger } from '../../metrics/shared-poll.js';
import { randomLetters } from '../../util/random.js';
import { Semaphore } from '../../util/semaphore.js';
import { PollChannel } from './channel.js';
import type { SharedPollSub } from './connection.js';
import type { PollOptions } from './options.js';
import { PollWorker, type RefreshAnswer, type Refresher } from './worker.js';

interface ChannelState {
  readonly poll: PollChannel;
  readonly worker: PollWorker;
  shutdownTimer: NodeJS.Timeout | undefined;
}

/** How a freshly tracked key is served: a backend call now (cold), a re-broadcast (warm), or nothing. */
export interface TrackOutcome {
  cold: string[];
  warm: string[];
}

export interface SharedPollManagerDeps {
  refresher: Refresher;
  concurrencyLimit: number;
  logger: Logger;
  /** Unsubscribes connections whose channel's epoch changed (2500 insufficient state: they track again). */
  insufficientState(subs: SharedPollSub[]): void;
  /** How often connections are checked for keys whose track signature expired (default 5 s). */
  expirySweepMs?: number;
}

/** How often connections are checked for keys whose track signature expired. */
const EXPIRY_SWEEP_MS = 5000;

export class SharedPollManager {
  private readonly channels = new Map<string, ChannelState>();
  private readonly semaphore: Semaphore;
  /** Versionless channels without poll state yet answer subscribes with this node-wide epoch. */
  private readonly nodeEpoch = randomLetters(8);
  private readonly subs = new Set<SharedPollSub>();
  private sweepTimer: NodeJS.Timeout | undefined = undefined;
  private closed = false;

  constructor(private readonly deps: SharedPollManagerDeps) {
    this.semaphore = new Semaphore(deps.concurrencyLimit);
  }

  /** The epoch a subscribe reply carries: the channel's, or for a channel not polled yet the node's ("" versioned). */
  epoch(channel: string, opts: PollOptions): string {
    const st = this.channels.get(channel);
    if (st !== undefined) return st.poll.epoch;
    return opts.versioned ? '' : this.nodeEpoch;
  }

  /** A connection subscribed: it is swept for expired keys while it lives. */
  attach(sub: SharedPollSub): void {
    this.subs.add(sub);
    if (this.sweepTimer === undefined && !this.closed) {
      this.sweepTimer = setInterval(() => this.sweepExpired(), this.deps.expirySweepMs ?? EXPIRY_SWEEP_MS);
      this.sweepTimer.unref();
    }
  }

  /**
   * Registers `keys` (with the versions the connection holds) for `sub`. The connection joins each key at once;
   * the caller then asks for data with serve() once its reply is written.
   */
  track(sub: SharedPollSub, opts: PollOptions, items: ReadonlyArray<{ key: string; version: number }>): TrackOutcome {
    const st = this.state(sub.channel, opts);
    const out: TrackOutcome = { cold: [], warm: [] };
    for (const { key, version } of items) {
      const { entry, isNew } = st.poll.entry(key);
      if (isNew && version === 0) out.cold.push(key);
      else if (!isNew && (version === 0 || entry.version > version)) out.warm.push(key);
      entry.subs.add(sub);
    }
    return out;
  }

  /** Cold keys are polled now; warm ones are re-sent with the next answer (polled now when the node has data). */
  serve(channel: string, outcome: TrackOutcome): void {
    const st = this.channels.get(channel);
    if (st === undefined) return;
    for (const key of outcome.cold) st.worker.notify(key);
    for (const key of outcome.warm) {
      const e = st.poll.entries.get(key);
      if (e === undefined || e.needsBroadcast) continue;
      e.needsBroadcast = true;
      if (e.version > 0) st.worker.notify(key);
    }
  }

  /** The connection stops tracking `keys`. */
  untrack(sub: SharedPollSub, keys: Iterable<string>): void {
    const st = this.channels.get(sub.channel);
    if (st === undefined) return;
    for (const key of keys) st.poll.removeSubscriber(key, sub);
    this.maybeShutdown(sub.channel, st);
  }

  /** The subscription ended (unsubscribe, disconnect): all its keys go. Idempotent. */
  detach(sub: SharedPollSub): void {
    if (sub.closed) return;
    sub.closed = true;
    this.subs.delete(sub);
    this.untrack(sub, sub.tracked.keys());
    sub.tracked.clear();
  }

  /**
   * shared_poll_publish: new data for `key` at `version` from the application. Only keys tracked on this node are
   * affected; false when nothing was delivered because of that or because the version is not newer.
   */
  publish(channel: string, key: string, version: number, epoch: string, data: Uint8Array): boolean {
    const st = this.channels.get(channel);
    if (st === undefined) return false;
    const applied = st.poll.publish(key, version, epoch, data, (subs) => this.deps.insufficientState(subs));
    this.maybeShutdown(channel, st);
    return applied;
  }

  /** Channels with poll state and their tracked keys (the gauges). */
  stats(): { channels: number; keys: number } {
    let keys = 0;
    for (const st of this.channels.values()) keys += st.poll.entries.size;
    return { channels: this.channels.size, keys };
  }

  /** Stops every worker and timer. */
  close(): void {
    this.closed = true;
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const st of this.channels.values()) this.drop(st);
    this.channels.clear();
  }

  private state(channel: string, opts: PollOptions): ChannelState {
    let st = this.channels.get(channel);
    if (st === undefined) {
      const poll = new PollChannel(channel, opts);
      const worker = new PollWorker(poll, {
        refresher: this.deps.refresher,
        semaphore: this.semaphore,
        logger: this.deps.logger,
        apply: (p, answer, trigger) => this.apply(p, answer, trigger),
      });
      st = { poll, worker, shutdownTimer: undefined };
      this.channels.set(channel, st);
      if (!this.closed) worker.start();
    } else if (st.shutdownTimer !== undefined) {
      clearTimeout(st.shutdownTimer);
      st.shutdownTimer = undefined;
    }
    this.updateGauges();
    return st;
  }

  private apply(poll: PollChannel, answer: RefreshAnswer, trigger: PollTrigger): void {
    const st = this.channels.get(poll.channel);
    if (st === undefined || st.poll !== poll) return;
    poll.apply(answer.items, answer.epoch, trigger, (subs) => this.deps.insufficientState(subs));
    this.maybeShutdown(poll.channel, st);
  }

  private maybeShutdown(channel: string, st: ChannelState): void {
    this.updateGauges();
    if (st.poll.entries.size > 0 || st.shutdownTimer !== undefined || this.closed) return;
    st.shutdownTimer = setTimeout(() => {
      st.shutdownTimer = undefined;
      if (st.poll.entries.size > 0 || this.channels.get(channel) !== st) return;
      this.channels.delete(channel);
      this.drop(st);
      this.updateGauges();
    }, st.poll.opts.shutdownDelayMs);
    st.shutdownTimer.unref();
  }

  private drop(st: ChannelState): void {
    if (st.shutdownTimer !== undefined) clearTimeout(st.shutdownTimer);
    st.shutdownTimer = undefined;
    st.poll.removed = true;
    st.worker.stop();
  }

  private updateGauges(): void {
    const s = this.stats();
    sharedPollMetrics.numChannels.set(s.channels);
    sharedPollMetrics.numKeys.set(s.keys);
  }

  /** Keys whose signature expired more than track_expired_extra_delay ago stop being tracked, silently. */
  private sweepExpired(): void {
    const now = Math.floor(Date.now() / 1000);
    for (const sub of this.subs) {
      if (sub.minExpireAt === 0) continue;
      const st = this.channels.get(sub.channel);
      const extra = Math.floor((st?.poll.opts.trackExpiredExtraDelayMs ?? 0) / 1000);
      if (now <= sub.minExpireAt + extra) continue;
      const expired: string[] = [];
      let min = 0;
      for (const [key, t] of sub.tracked) {
        if (t.expireAt > 0 && now > t.expireAt + extra) expired.push(key);
        else if (t.expireAt > 0 && (min === 0 || t.expireAt < min)) min = t.expireAt;
      }
      sub.minExpireAt = min;
      for (const key of expired) sub.tracked.delete(key);
      if (expired.length > 0) this.untrack(sub, expired);
    }
  }
}
