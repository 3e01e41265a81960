// The node-local index: sessions by client id and by user id, subscribers per channel. Keeps the broker's
// channel subscriptions in line with local interest: broker.subscribe on the first local subscriber,
// broker.unsubscribe after the last, reconciled per channel in a serial chain so races cannot leave the broker
// in the wrong state.
import type { Broker } from '../engines/types.js';
import type { Session } from './session.js';
import { SubState, type Subscription } from './subscription.js';

export class ChannelEntry {
  /** Plain array: the fan-out loop iterates it by index. Order among subscribers is not significant. */
  readonly subs: Subscription[] = [];
  /** Whether the broker currently holds a subscription for this channel (as far as we last confirmed). */
  brokerSubscribed = false;
  constructor(
    readonly channel: string,
    readonly namespace: string,
  ) {}
}

export class Hub {
  readonly sessions = new Map<string, Session>();
  readonly users = new Map<string, Set<Session>>();
  readonly channels = new Map<string, ChannelEntry>();
  /** Channels whose broker state is being reconciled (tail of the per-channel chain). */
  private readonly chains = new Map<string, Promise<void>>();
  /** > 0 while a fan-out loop iterates a subscriber array: removals are deferred until it ends. */
  private iterating = 0;
  private readonly deferred: Subscription[] = [];
  private numSubsValue = 0;

  constructor(
    private readonly broker: Broker,
    private readonly onBrokerError: (err: unknown, channel: string) => void,
  ) {}

  addSession(s: Session): void {
    this.sessions.set(s.id, s);
    let set = this.users.get(s.user);
    if (set === undefined) {
      set = new Set();
      this.users.set(s.user, set);
    }
    set.add(s);
  }

  removeSession(s: Session): void {
    if (this.sessions.get(s.id) !== s) return;
    this.sessions.delete(s.id);
    const set = this.users.get(s.user);
    if (set !== undefined) {
      set.delete(s);
      if (set.size === 0) this.users.delete(s.user);
    }
  }

  userSessions(user: string): ReadonlySet<Session> | undefined {
    return this.users.get(user);
  }

  get numClients(): number {
    return this.sessions.size;
  }
  /** Unique users (anonymous counts as one user, as in Centrifugo). */
  get numUsers(): number {
    return this.users.size;
  }
  get numSubs(): number {
    return this.numSubsValue;
  }
  get numChannels(): number {
    return this.channels.size;
  }

  /**
   * Registers a subscriber (it starts buffering publications at once) and resolves once the broker is
   * subscribed to the channel. Rejects when the broker subscribe fails (the caller removes the sub).
   */
  addSub(sub: Subscription, namespace: string): Promise<void> {
    let entry = this.channels.get(sub.channel);
    if (entry === undefined) {
      entry = new ChannelEntry(sub.channel, namespace);
      entry.brokerSubscribed = this.brokerState.get(sub.channel) === true;
      this.channels.set(sub.channel, entry);
    }
    sub.hubIndex = entry.subs.length;
    entry.subs.push(sub);
    this.numSubsValue++;
    if (entry.brokerSubscribed && !this.chains.has(sub.channel)) return Promise.resolve();
    return this.reconcile(sub.channel, true);
  }

  /** Removes a subscriber; unsubscribes the broker after the last one (in the background). */
  removeSub(sub: Subscription): void {
    if (sub.hubIndex < 0) {
      sub.state = SubState.Removed;
      return;
    }
    sub.state = SubState.Removed;
    if (this.iterating > 0) {
      this.deferred.push(sub);
      return;
    }
    this.detach(sub);
  }

  /** Fan-out brackets: removals requested inside are applied at the end. */
  beginIteration(): void {
    this.iterating++;
  }
  endIteration(): void {
    this.iterating--;
    if (this.iterating === 0 && this.deferred.length > 0) {
      const list = this.deferred.splice(0, this.deferred.length);
      for (let i = 0; i < list.length; i++) this.detach(list[i]!);
    }
  }

  private detach(sub: Subscription): void {
    const idx = sub.hubIndex;
    if (idx < 0) return;
    sub.hubIndex = -1;
    this.numSubsValue--;
    const entry = this.channels.get(sub.channel);
    if (entry === undefined) return;
    const arr = entry.subs;
    const last = arr.pop()!;
    if (last !== sub) {
      arr[idx] = last;
      last.hubIndex = idx;
    }
    if (arr.length === 0) {
      this.channels.delete(sub.channel);
      if (entry.brokerSubscribed || this.chains.has(sub.channel)) {
        this.reconcile(sub.channel, false).catch(() => undefined);
      }
    }
  }

  /**
   * Serialised per channel: compare local interest with the broker state and fix it. Concurrent callers
   * share the chain, so the last reconciliation always reflects the final local state.
   */
  private reconcile(channel: string, throwOnError: boolean): Promise<void> {
    const prev = this.chains.get(channel) ?? Promise.resolve();
    const next = prev.then(() => this.reconcileOnce(channel, throwOnError));
    const tail = next.catch(() => undefined);
    this.chains.set(channel, tail);
    void tail.then(() => {
      if (this.chains.get(channel) === tail) this.chains.delete(channel);
    });
    return next;
  }

  private async reconcileOnce(channel: string, throwOnError: boolean): Promise<void> {
    const entry = this.channels.get(channel);
    const wanted = entry !== undefined && entry.subs.length > 0;
    const current = this.brokerState.get(channel) === true;
    try {
      if (wanted && !current) {
        await this.broker.subscribe([channel]);
        this.brokerState.set(channel, true);
      } else if (!wanted && current) {
        this.brokerState.delete(channel);
        await this.broker.unsubscribe([channel]);
      }
    } catch (err) {
      this.onBrokerError(err, channel);
      if (throwOnError) throw err;
    } finally {
      const e = this.channels.get(channel);
      if (e !== undefined) e.brokerSubscribed = this.brokerState.get(channel) === true;
    }
  }

  /** Broker-side truth, independent of entry objects that come and go. */
  private readonly brokerState = new Map<string, boolean>();
}
