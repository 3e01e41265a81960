// The node-local index: sessions by client id and by user id, subscribers per channel. The broker's channel
// subscriptions follow local interest (subscribe on the first local subscriber, unsubscribe after the last),
// batched per macrotask by broker-subs.ts.
import type { Broker } from '../engines/types.js';
import { countAction } from '../metrics/observe.js';
import { hot } from '../metrics/registry.js';
import { BrokerSubscriptions, type BrokerSubscriptionsOptions } from './broker-subs.js';
import type { Session } from './session.js';
import { SubState, type Subscription } from './subscription.js';

export class ChannelEntry {
  /** Plain array: the fan-out loop iterates it by index. Order among subscribers is not significant. */
  readonly subs: Subscription[] = [];
  constructor(
    readonly channel: string,
    readonly namespace: string,
  ) {}
}

export class Hub {
  readonly sessions = new Map<string, Session>();
  readonly users = new Map<string, Set<Session>>();
  /** Emulation and unidirectional sessions by their session id (`/emulation` requests, API `session` targets). */
  private readonly bySessionId = new Map<string, Session>();
  readonly channels = new Map<string, ChannelEntry>();
  private readonly brokerSubs: BrokerSubscriptions;
  /** > 0 while a fan-out loop iterates a subscriber array: removals are deferred until it ends. */
  private iterating = 0;
  private readonly deferred: Subscription[] = [];
  private numSubsValue = 0;

  constructor(broker: Broker, onBrokerError: (err: unknown, channel: string) => void, opts: BrokerSubscriptionsOptions = {}) {
    this.brokerSubs = new BrokerSubscriptions(
      broker,
      (channel) => (this.channels.get(channel)?.subs.length ?? 0) > 0,
      onBrokerError,
      opts,
    );
  }

  addSession(s: Session): void {
    countAction('add_client');
    // In flight from here to removeSession, as Centrifugo counts them (a connection that never connected is not).
    if (!this.sessions.has(s.id)) {
      const l = s.connectionLabels();
      hot.connectionsInflight.inc(l.key, l.labels);
    }
    this.sessions.set(s.id, s);
    if (s.sessionId !== '') this.bySessionId.set(s.sessionId, s);
    let set = this.users.get(s.user);
    if (set === undefined) {
      set = new Set();
      this.users.set(s.user, set);
    }
    set.add(s);
  }

  removeSession(s: Session): void {
    if (this.sessions.get(s.id) !== s) return;
    countAction('remove_client');
    const l = s.connectionLabels();
    hot.connectionsInflight.dec(l.key, l.labels);
    this.sessions.delete(s.id);
    if (s.sessionId !== '') this.bySessionId.delete(s.sessionId);
    const set = this.users.get(s.user);
    if (set !== undefined) {
      set.delete(s);
      if (set.size === 0) this.users.delete(s.user);
    }
  }

  /** The connected session with this session id (emulation and unidirectional transports only). */
  sessionBySessionId(sessionId: string): Session | undefined {
    return this.bySessionId.get(sessionId);
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
    return this.register(sub, namespace) ?? Promise.resolve();
  }

  /** addSub without a Promise when the broker already holds the channel (undefined then: nothing to wait for). */
  register(sub: Subscription, namespace: string): Promise<void> | undefined {
    let entry = this.channels.get(sub.channel);
    if (entry === undefined) {
      entry = new ChannelEntry(sub.channel, namespace);
      this.channels.set(sub.channel, entry);
      countAction('broker_subscribe');
    }
    countAction('add_subscription');
    sub.hubIndex = entry.subs.length;
    entry.subs.push(sub);
    this.numSubsValue++;
    if (this.brokerSubs.settled(sub.channel)) return undefined;
    return this.brokerSubs.ensure(sub.channel);
  }

  /** Removes a subscriber; unsubscribes the broker after the last one (in the background). */
  removeSub(sub: Subscription): void {
    if (sub.hubIndex < 0) {
      sub.state = SubState.Removed;
      return;
    }
    sub.state = SubState.Removed;
    countAction('remove_subscription');
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
      countAction('broker_unsubscribe');
      this.brokerSubs.changed(sub.channel);
    }
  }
}
