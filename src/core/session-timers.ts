// The timers of one session: stale close, ping/pong, connection expiration and the periodic tick (presence
// refresh, subscription expiry, position check). No Node timer per session: the deadlines are plain numbers
// and the session sits in the shared TimerWheel under the earliest one; all disarmed on close.
import { mapTick } from './map/presence.js';
import { performance } from 'node:perf_hooks';
import { countAction, observePingPong } from '../metrics/observe.js';
import type { ProxyClient } from '../proxy/types.js';
import { Disconnects, Unsubscribe } from '../protocol/errors.js';
import { UnsubscribeCode } from '../protocol/codes.js';
import { SessionState } from './session-state.js';
import type { Session } from './session.js';
import { SubState } from './subscription.js';
import { sharedWheel, type TimerWheel, type WheelEntry } from './timer-wheel.js';
import { refreshConnection, refreshSubscription } from './commands/refresh-proxy.js';

/** Uniform in [ms/2, ms): spreads first pings/ticks of a connect burst. */
function halfJitter(ms: number): number {
  return Math.floor(ms / 2 + Math.random() * (ms / 2));
}

/** The earlier of two deadlines, 0 meaning "none". */
function earliest(a: number, b: number): number {
  return a === 0 || (b !== 0 && b < a) ? b : a;
}

/** setTimeout's cap, kept so that very long expirations re-check the clock the same way as before. */
const MAX_DELAY_MS = 2_147_483_647;

/** Wheel resolution for a client config: 1/8 of the shortest interval, at most 100 ms, at least 1 ms. */
export function wheelGranularity(c: {
  ping_interval: number;
  pong_timeout: number;
  stale_close_delay: number;
  presence_update_interval: number;
  expired_close_delay: number;
}): number {
  let min = 800;
  for (const v of [c.ping_interval, c.pong_timeout, c.stale_close_delay, c.presence_update_interval, c.expired_close_delay]) {
    if (v > 0 && v < min) min = v;
  }
  return Math.max(1, Math.min(100, Math.floor(min / 8)));
}

export class SessionTimers implements WheelEntry {
  wheelSlot = -1;
  wheelIndex = -1;
  /** Deadlines in epoch ms; 0 = not armed. */
  private staleAt = 0;
  private pingAt = 0;
  private pongAt = 0;
  private expireAt = 0;
  private tickAt = 0;
  private pongOutstanding = false;
  /** performance.now() when the outstanding ping went out (ping/pong duration metric). */
  private pingSentAt = 0;
  private tickRunning = false;
  /** A refresh proxy call for the connection is in flight. */
  private refreshing = false;
  /** Subscriptions whose sub_refresh proxy call is in flight (made at the first such call: most sessions have none). */
  private subRefreshing: Set<string> | null = null;
  private cleared = false;
  private readonly wheel: TimerWheel;

  constructor(private readonly s: Session) {
    this.wheel = sharedWheel(wheelGranularity(s.ctx.config.client));
  }

  startStale(): void {
    const delay = this.s.ctx.config.client.stale_close_delay;
    if (delay <= 0 || this.cleared) return;
    this.staleAt = Date.now() + delay;
    this.rearm();
  }

  /** After a successful connect reply: stop the stale timer, arm ping, expiration and the periodic tick. */
  onConnected(): void {
    if (this.cleared) return;
    this.staleAt = 0;
    const c = this.s.ctx.config.client;
    const now = Date.now();
    const pingMs = this.pingInterval;
    if (pingMs > 0) this.pingAt = now + halfJitter(pingMs);
    if (c.presence_update_interval > 0) this.tickAt = now + halfJitter(c.presence_update_interval);
    this.armExpire();
    this.rearm();
  }

  /** ms between server pings: the transport's own interval when it has one (uni_grpc), else client.ping_interval. */
  get pingInterval(): number {
    return this.s.transport.info.pingInterval ?? this.s.ctx.config.client.ping_interval;
  }

  /** Whether a pong is expected by the client (advertised in ConnectResult.pong). */
  get pongExpected(): boolean {
    return this.s.ctx.config.client.pong_timeout > 0 && !this.s.transport.info.unidirectional;
  }

  /** A pong arrived: true if a ping was outstanding (else the caller closes with 3501). */
  onPong(): boolean {
    if (!this.pongOutstanding) return false;
    this.pongOutstanding = false;
    this.pongAt = 0;
    observePingPong(this.s.transport.info.name, (performance.now() - this.pingSentAt) / 1000);
    // The wheel entry stays under the earlier deadline; it re-arms itself for the next one when it fires.
    return true;
  }

  /**
   * (Re)arms the connection expiration check at expireAt + client.expired_close_delay, or at expireAt itself when
   * a refresh proxy refreshes the connection server-side.
   */
  armExpire(): void {
    this.expireAt = 0;
    if (this.cleared) return;
    if (this.s.expireAt > 0) {
      const grace = this.s.ctx.proxies.refresh !== undefined ? 0 : this.s.ctx.config.client.expired_close_delay;
      const delay = Math.max(0, this.s.expireAt * 1000 - Date.now()) + grace;
      this.expireAt = Date.now() + Math.min(delay, MAX_DELAY_MS);
    }
    this.rearm();
  }

  /** Wheel callback: runs whatever is due, in the order stale, pong, ping, expiry, tick; then re-arms. */
  onWheel(now: number): void {
    if (this.cleared) return;
    const s = this.s;
    if (this.staleAt !== 0 && now >= this.staleAt) {
      this.staleAt = 0;
      if (s.state === SessionState.Connecting) s.close(Disconnects.stale());
    }
    if (!this.cleared && this.pongAt !== 0 && now >= this.pongAt) {
      this.pongAt = 0;
      if (this.pongOutstanding) s.close(Disconnects.noPong());
    }
    if (!this.cleared && this.pingAt !== 0 && now >= this.pingAt) this.sendPing(now);
    if (!this.cleared && this.expireAt !== 0 && now >= this.expireAt) this.checkExpired();
    if (!this.cleared && this.tickAt !== 0 && now >= this.tickAt) this.runTick(now);
    if (!this.cleared) this.rearm();
  }

  private rearm(): void {
    if (this.cleared) return;
    let next = this.staleAt;
    next = earliest(next, this.pongAt);
    next = earliest(next, this.pingAt);
    next = earliest(next, this.expireAt);
    next = earliest(next, this.tickAt);
    if (next === 0) this.wheel.disarm(this);
    else if (this.wheelSlot === -1 || Math.ceil(next / this.wheel.granularityMs) !== this.wheelSlot) this.wheel.arm(this, next);
  }

  private sendPing(now: number): void {
    this.pingAt = now + this.pingInterval;
    this.s.sendPing();
    if (this.pongExpected && !this.pongOutstanding) {
      this.pongOutstanding = true;
      this.pingSentAt = performance.now();
      this.pongAt = now + this.s.ctx.config.client.pong_timeout;
    }
  }

  private checkExpired(): void {
    this.expireAt = 0;
    if (this.s.expireAt <= 0) return;
    const proxy = this.s.ctx.proxies.refresh;
    if (proxy !== undefined) {
      if (this.refreshing || Date.now() < this.s.expireAt * 1000) {
        if (!this.refreshing) this.armExpire();
        return;
      }
      this.refreshing = true;
      refreshConnection(this.s, proxy)
        .catch((err: unknown) => this.s.internalError('refresh proxy', err))
        .finally(() => {
          this.refreshing = false;
        });
      return;
    }
    const deadline = this.s.expireAt * 1000 + this.s.ctx.config.client.expired_close_delay;
    if (Date.now() >= deadline) this.s.close(Disconnects.expired());
    else this.armExpire();
  }

  private runTick(now: number): void {
    this.tickAt = now + this.s.ctx.config.client.presence_update_interval;
    if (this.tickRunning) return;
    this.tickRunning = true;
    this.periodic()
      .catch((err: unknown) => this.s.engineError('periodic tick', err))
      .finally(() => {
        this.tickRunning = false;
      });
  }

  /** Presence refresh, subscription expiry (docs/protocol.md §3.5) and position check (§5.2) for every subscription. */
  private async periodic(): Promise<void> {
    const s = this.s;
    const ctx = s.ctx;
    const now = Date.now();
    const c = ctx.config.client;
    const tasks: Promise<void>[] = [];
    for (const sub of [...s.subs.values()]) {
      if (sub.map !== undefined && !s.closed) {
        const t = mapTick(s, sub, now);
        if (t !== undefined) tasks.push(t);
      }
      if (sub.state !== SubState.Subscribed || s.closed) continue;
      const subProxy = sub.expireAt > 0 ? this.subRefreshProxy(sub.channel) : undefined;
      if (subProxy !== undefined) {
        if (now >= sub.expireAt * 1000 && this.subRefreshing?.has(sub.channel) !== true) {
          const refreshing = (this.subRefreshing ??= new Set());
          refreshing.add(sub.channel);
          tasks.push(
            refreshSubscription(s, sub, subProxy).finally(() => {
              refreshing.delete(sub.channel);
            }),
          );
        }
      } else if (sub.expireAt > 0 && now > sub.expireAt * 1000 + c.expired_sub_close_delay) {
        if (sub.serverSide) {
          s.close(Disconnects.subExpired());
          return;
        }
        s.unsubscribeWith(sub, Unsubscribe.of(UnsubscribeCode.SubscriptionExpired));
        continue;
      }
      if (sub.presence) tasks.push(ctx.engine.presence.add(sub.channel, s.id, s.clientInfo(sub.chanInfo)));
      const history = ctx.engine.history;
      if (
        sub.positioned &&
        history !== undefined &&
        c.channel_position_check_delay > 0 &&
        now - sub.positionCheckedAt > c.channel_position_check_delay
      ) {
        tasks.push(
          (async () => {
            let r;
            try {
              r = ctx.resolver.resolve(sub.channel);
            } catch {
              return; // its namespace was removed by a config reload: nothing to check against
            }
            countAction('history_stream_top');
            const read = await history.read(sub.channel, { limit: 0, metaTtlMs: ctx.publisher.metaTtl(r.options) });
            if (sub.state !== SubState.Subscribed) return;
            sub.positionCheckedAt = Date.now();
            if (read.position.epoch !== sub.epoch || read.position.offset !== sub.offset) s.insufficientState(sub);
          })(),
        );
      }
    }
    await Promise.all(tasks);
  }

  /** The sub_refresh proxy of the channel's namespace, when it refreshes subscriptions server-side. */
  private subRefreshProxy(channel: string): ProxyClient | undefined {
    let o;
    try {
      o = this.s.ctx.resolver.resolve(channel).options;
    } catch {
      return undefined; // its namespace was removed by a config reload
    }
    return o.sub_refresh_proxy_enabled ? this.s.ctx.proxies.subRefresh(o.sub_refresh_proxy_name) : undefined;
  }

  clear(): void {
    this.cleared = true;
    this.staleAt = this.pingAt = this.pongAt = this.expireAt = this.tickAt = 0;
    this.wheel.disarm(this);
  }
}
