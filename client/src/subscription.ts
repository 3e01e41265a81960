// Page-side Subscription: the methods and events of centrifuge's Subscription, backed by the hub's one real
// subscription per channel. State is per tab (a tab's unsubscribe is local until the last tab lets go). The tab
// remembers the last stream position it saw, so after a hub change it can ask for recovery from there and drop
// what it already has (no gap, no duplicate).
import type {
  HistoryOptions,
  HistoryResult,
  PresenceResult,
  PresenceStatsResult,
  PublishResult,
  SubscriptionEvents,
  SubscriptionOptions,
} from 'centrifuge';
import { Emitter, waitForState } from './emitter.js';
import type { CallOp, StreamPos, SubEventName, SubWant } from './messages.js';
import { stripOptions } from './settings.js';

export type SubState = 'unsubscribed' | 'subscribing' | 'subscribed';

/** What a Subscription needs from its Centrifuge facade. */
export interface SubOwner {
  postSub(want: SubWant): void;
  postUnsub(channel: string): void;
  call(op: CallOp, channel: string, args: unknown[]): Promise<unknown>;
}

interface PositionedCtx {
  streamPosition?: { offset: number; epoch: string };
  wasRecovering?: boolean;
}

export class Subscription extends Emitter<SubscriptionEvents> {
  state: SubState = 'unsubscribed';
  private pos: StreamPos | undefined;

  constructor(
    private readonly owner: SubOwner,
    readonly channel: string,
    private readonly opts: SubscriptionOptions,
  ) {
    super();
    if (opts.since?.offset !== undefined && opts.since.epoch !== undefined) {
      this.pos = { offset: opts.since.offset, epoch: opts.since.epoch };
    }
  }

  subscribe(): void {
    if (this.state !== 'unsubscribed') return;
    this.setState('subscribing', 'subscribing', { channel: this.channel, code: 0, reason: 'subscribe called' });
    this.owner.postSub(this.want());
  }

  unsubscribe(): void {
    if (this.state === 'unsubscribed') return;
    this.setState('unsubscribed', 'unsubscribed', { channel: this.channel, code: 0, reason: 'unsubscribe called' });
    this.owner.postUnsub(this.channel);
  }

  ready(timeout?: number): Promise<void> {
    if (this.state === 'subscribed') return Promise.resolve();
    if (this.state === 'unsubscribed') return Promise.reject(new Error('subscription unsubscribed'));
    return waitForState(this, 'subscribed', 'subscribing', 'subscription unsubscribed', timeout);
  }

  publish(data: unknown): Promise<PublishResult> {
    return this.owner.call('subPublish', this.channel, [data]) as Promise<PublishResult>;
  }

  history(opts: HistoryOptions): Promise<HistoryResult> {
    return this.owner.call('history', this.channel, [opts]) as Promise<HistoryResult>;
  }

  presence(): Promise<PresenceResult> {
    return this.owner.call('presence', this.channel, []) as Promise<PresenceResult>;
  }

  presenceStats(): Promise<PresenceStatsResult> {
    return this.owner.call('presenceStats', this.channel, []) as Promise<PresenceStatsResult>;
  }

  /** @internal What this tab asks the hub for (with its last position, for recovery after a hub change). */
  want(): SubWant {
    const w: SubWant = {
      channel: this.channel,
      opts: stripOptions(this.opts as Record<string, unknown>),
      hasGetToken: typeof this.opts.getToken === 'function',
      hasGetData: typeof this.opts.getData === 'function',
    };
    if (this.pos !== undefined) w.since = { ...this.pos };
    return w;
  }

  /** @internal */
  callbacks(): SubscriptionOptions {
    return this.opts;
  }

  /** @internal An event of the hub's real subscription. */
  fromHub(ev: SubEventName, ctx: unknown): void {
    if (this.state === 'unsubscribed') return;
    switch (ev) {
      case 'subscribing':
        this.setState('subscribing', 'subscribing', ctx);
        return;
      case 'subscribed': {
        const c = ctx as PositionedCtx;
        const sp = c.streamPosition;
        if (sp !== undefined) {
          // A fresh subscribe starts the tab's stream here; after a recovery the tab keeps what it has seen,
          // unless the stream itself changed (new epoch).
          if (this.pos === undefined || this.pos.epoch !== sp.epoch || c.wasRecovering !== true) {
            this.pos = { offset: sp.offset, epoch: sp.epoch };
          }
        }
        this.setState('subscribed', 'subscribed', ctx);
        return;
      }
      case 'unsubscribed':
        this.setState('unsubscribed', 'unsubscribed', ctx);
        return;
      case 'publication': {
        const off = (ctx as { offset?: unknown }).offset;
        if (typeof off === 'number' && this.pos !== undefined) {
          if (off <= this.pos.offset) return; // already delivered to this tab (recovered twice)
          this.pos = { offset: off, epoch: this.pos.epoch };
        }
        this.emit('publication', ctx as Parameters<SubscriptionEvents['publication']>[0]);
        return;
      }
      case 'join':
        this.emit('join', ctx as Parameters<SubscriptionEvents['join']>[0]);
        return;
      case 'leave':
        this.emit('leave', ctx as Parameters<SubscriptionEvents['leave']>[0]);
        return;
      case 'error':
        this.emit('error', ctx as Parameters<SubscriptionEvents['error']>[0]);
        return;
    }
  }

  private setState(next: SubState, ev: 'subscribing' | 'subscribed' | 'unsubscribed', ctx: unknown): void {
    if (this.state === next) return;
    const old = this.state;
    this.state = next;
    this.emit('state', { channel: this.channel, newState: next, oldState: old } as Parameters<SubscriptionEvents['state']>[0]);
    this.emit(ev, ctx as never);
  }
}
