// The timers of one session: stale close, ping/pong, connection expiration and the periodic tick (presence
// refresh, subscription expiry, position check). One timer of each kind per session, never one per channel;
// all cleared on close.
import { Disconnects, Unsubscribe } from '../protocol/errors.js';
import { UnsubscribeCode } from '../protocol/codes.js';
import type { Session } from './session.js';
import { SubState } from './subscription.js';

/** Uniform in [ms/2, ms): spreads first pings/ticks of a connect burst. */
function halfJitter(ms: number): number {
  return Math.floor(ms / 2 + Math.random() * (ms / 2));
}

function unrefTimer(t: NodeJS.Timeout): NodeJS.Timeout {
  t.unref();
  return t;
}

export class SessionTimers {
  private stale: NodeJS.Timeout | undefined = undefined;
  private ping: NodeJS.Timeout | undefined = undefined;
  private pong: NodeJS.Timeout | undefined = undefined;
  private expire: NodeJS.Timeout | undefined = undefined;
  private tick: NodeJS.Timeout | undefined = undefined;
  private pongOutstanding = false;
  private tickRunning = false;
  private cleared = false;

  constructor(private readonly s: Session) {}

  startStale(): void {
    const delay = this.s.ctx.config.client.stale_close_delay;
    if (delay <= 0) return;
    this.stale = unrefTimer(
      setTimeout(() => {
        this.stale = undefined;
        if (this.s.state === 0 /* Connecting */) this.s.close(Disconnects.stale());
      }, delay),
    );
  }

  /** After a successful connect reply: stop the stale timer, arm ping, expiration and the periodic tick. */
  onConnected(): void {
    if (this.cleared) return;
    if (this.stale !== undefined) clearTimeout(this.stale);
    this.stale = undefined;
    const c = this.s.ctx.config.client;
    if (c.ping_interval > 0) {
      this.ping = unrefTimer(setTimeout(() => this.sendPing(), halfJitter(c.ping_interval)));
    }
    if (c.presence_update_interval > 0) {
      this.tick = unrefTimer(setTimeout(() => this.runTick(), halfJitter(c.presence_update_interval)));
    }
    this.armExpire();
  }

  /** Whether a pong is expected by the client (advertised in ConnectResult.pong). */
  get pongExpected(): boolean {
    return this.s.ctx.config.client.pong_timeout > 0 && !this.s.transport.info.unidirectional;
  }

  private sendPing(): void {
    if (this.cleared) return;
    const c = this.s.ctx.config.client;
    this.s.sendPing();
    if (this.pongExpected && !this.pongOutstanding) {
      this.pongOutstanding = true;
      this.pong = unrefTimer(
        setTimeout(() => {
          this.pong = undefined;
          if (this.pongOutstanding) this.s.close(Disconnects.noPong());
        }, c.pong_timeout),
      );
    }
    if (this.ping !== undefined && !this.cleared) {
      this.ping = unrefTimer(setTimeout(() => this.sendPing(), c.ping_interval));
    }
  }

  /** A pong arrived: true if a ping was outstanding (else the caller closes with 3501). */
  onPong(): boolean {
    if (!this.pongOutstanding) return false;
    this.pongOutstanding = false;
    if (this.pong !== undefined) clearTimeout(this.pong);
    this.pong = undefined;
    return true;
  }

  /** (Re)arms the connection expiration check at expireAt + client.expired_close_delay. */
  armExpire(): void {
    if (this.expire !== undefined) clearTimeout(this.expire);
    this.expire = undefined;
    if (this.cleared || this.s.expireAt <= 0) return;
    const delay = Math.max(0, this.s.expireAt * 1000 - Date.now()) + this.s.ctx.config.client.expired_close_delay;
    // setTimeout caps at 2^31-1 ms; longer waits re-arm on fire.
    this.expire = unrefTimer(setTimeout(() => this.checkExpired(), Math.min(delay, 2_147_483_647)));
  }

  private checkExpired(): void {
    this.expire = undefined;
    if (this.cleared || this.s.expireAt <= 0) return;
    const deadline = this.s.expireAt * 1000 + this.s.ctx.config.client.expired_close_delay;
    if (Date.now() >= deadline) this.s.close(Disconnects.expired());
    else this.armExpire();
  }

  private runTick(): void {
    if (this.cleared) return;
    const interval = this.s.ctx.config.client.presence_update_interval;
    this.tick = unrefTimer(setTimeout(() => this.runTick(), interval));
    if (this.tickRunning) return;
    this.tickRunning = true;
    this.periodic()
      .catch((err: unknown) => this.s.engineError('periodic tick', err))
      .finally(() => {
        this.tickRunning = false;
      });
  }

  /** Presence refresh, subscription expiry (§3.5) and position check (§5.2) for every subscription. */
  private async periodic(): Promise<void> {
    const s = this.s;
    const ctx = s.ctx;
    const now = Date.now();
    const c = ctx.config.client;
    const tasks: Promise<void>[] = [];
    for (const sub of [...s.subs.values()]) {
      if (sub.state !== SubState.Subscribed || s.closed) continue;
      if (sub.expireAt > 0 && now > sub.expireAt * 1000 + c.expired_sub_close_delay) {
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
            const r = ctx.resolver.resolve(sub.channel);
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

  clear(): void {
    this.cleared = true;
    for (const t of [this.stale, this.ping, this.pong, this.expire, this.tick]) if (t !== undefined) clearTimeout(t);
    this.stale = this.ping = this.pong = this.expire = this.tick = undefined;
  }
}
