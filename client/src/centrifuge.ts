// Page-side Centrifuge: the constructor, methods and events of centrifuge's Centrifuge for what pages use, with
// the one real client living in the hub (SharedWorker, or the leader tab without SharedWorker). An app switches
// by changing its import. Callbacks (getToken/getData, also per subscription) stay here and the hub asks for them.
import {
  UnauthorizedError,
  type ClientEvents,
  type HistoryOptions,
  type HistoryResult,
  type Options,
  type PresenceResult,
  type PresenceStatsResult,
  type PublishResult,
  type RpcResult,
  type SubscriptionOptions,
  type TransportEndpoint,
} from 'centrifuge';
import { Emitter, waitForState } from './emitter.js';
import { LeaderLink, WorkerLink, type HubLink, type LinkHost } from './links.js';
import { lockNames, randomId, toWireError, type CallOp, type SubWant, type ToHub, type ToTab } from './messages.js';
import { readSharedSettings, stripOptions, type SharedSettings } from './settings.js';
import { Subscription, type SubOwner } from './subscription.js';

export type ClientState = 'disconnected' | 'connecting' | 'connected';

/** centrifuge's Options plus the add-on's own `shared` block (client/README.md). */
export type SharedOptions = Partial<Options> & { shared?: Partial<SharedSettings> };

let defaultWorkerUrl = '';
/** Set by the bundle entry points: the worker script that sits beside the bundle. */
export function setDefaultWorkerUrl(url: string): void {
  defaultWorkerUrl = url;
}

const OUTAGE_FRESH_MS = 60_000;

export class Centrifuge extends Emitter<ClientEvents> implements SubOwner, LinkHost {
  state: ClientState = 'disconnected';
  /** 'worker' (SharedWorker) or 'leader' (leader election fallback). */
  readonly mode: 'worker' | 'leader';
  private readonly settings: SharedSettings;
  private readonly key: string;
  private tab = randomId();
  private readonly link: HubLink;
  private readonly subs = new Map<string, Subscription>();
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private callSeq = 0;
  private hubId: string | undefined;
  private wantConnect = false;
  /** Posts wait until this tab holds its own lock (the hub watches that lock to learn the tab is gone). */
  private lockHeld = false;
  private readonly queue: ToHub[] = [];
  private releaseTabLock: (() => void) | undefined;

  constructor(
    private readonly endpoint: string | TransportEndpoint[],
    private readonly options: SharedOptions = {},
  ) {
    super();
    this.settings = readSharedSettings(options);
    this.key = this.settings.key !== '' ? this.settings.key : JSON.stringify(endpoint);
    const canShare = typeof SharedWorker === 'function';
    const mode = this.settings.mode === 'auto' ? (canShare ? 'worker' : 'leader') : this.settings.mode;
    this.mode = mode;
    const workerUrl = this.settings.workerUrl !== '' ? this.settings.workerUrl : defaultWorkerUrl;
    this.link = mode === 'worker' ? new WorkerLink(workerUrl, this.key, this) : new LeaderLink(this.key, () => this.tab, this);
    this.takeTabLock(() => (this.link as WorkerLink | LeaderLink).start());
    addEventListener('pagehide', (ev: PageTransitionEvent) => {
      if (ev.persisted) this.suspend();
    });
    addEventListener('pageshow', (ev: PageTransitionEvent) => {
      if (ev.persisted) this.resumeFromCache();
    });
    document.addEventListener('freeze', () => this.suspend());
    document.addEventListener('resume', () => this.resumeFromCache());
  }

  connect(): void {
    if (this.state !== 'disconnected') return;
    this.wantConnect = true;
    this.setState('connecting', 'connecting', { code: 0, reason: 'connect called' });
    this.post({ t: 'connect', tab: this.tab });
  }

  disconnect(): void {
    this.wantConnect = false;
    if (this.state !== 'disconnected') this.setState('disconnected', 'disconnected', { code: 0, reason: 'disconnect called' });
    this.post({ t: 'disconnect', tab: this.tab });
  }

  ready(timeout?: number): Promise<void> {
    if (this.state === 'connected') return Promise.resolve();
    if (this.state === 'disconnected') return Promise.reject(new Error('client disconnected'));
    return waitForState(this, 'connected', 'connecting', 'client disconnected', timeout);
  }

  newSubscription(channel: string, options: SubscriptionOptions = {}): Subscription {
    if (this.subs.has(channel)) throw new Error(`Subscription to the channel ${channel} already exists`);
    const sub = new Subscription(this, channel, options);
    this.subs.set(channel, sub);
    return sub;
  }

  getSubscription(channel: string): Subscription | null {
    return this.subs.get(channel) ?? null;
  }

  removeSubscription(sub: Subscription | null): void {
    if (sub === null) return;
    sub.unsubscribe();
    if (this.subs.get(sub.channel) === sub) this.subs.delete(sub.channel);
  }

  subscriptions(): Record<string, Subscription> {
    return Object.fromEntries(this.subs);
  }

  rpc(method: string, data: unknown): Promise<RpcResult> {
    return this.call('rpc', '', [method, data]) as Promise<RpcResult>;
  }

  publish(channel: string, data: unknown): Promise<PublishResult> {
    return this.call('publish', channel, [data]) as Promise<PublishResult>;
  }

  send(data: unknown): Promise<void> {
    return this.call('send', '', [data]) as Promise<void>;
  }

  history(channel: string, options?: HistoryOptions): Promise<HistoryResult> {
    return this.call('history', channel, [options ?? {}]) as Promise<HistoryResult>;
  }

  presence(channel: string): Promise<PresenceResult> {
    return this.call('presence', channel, []) as Promise<PresenceResult>;
  }

  presenceStats(channel: string): Promise<PresenceStatsResult> {
    return this.call('presenceStats', channel, []) as Promise<PresenceStatsResult>;
  }

  /** Whether the hub (the one real connection) runs in this tab (leader mode only). */
  hubHere(): boolean {
    return this.link.isLocal();
  }

  /** Test hook: makes the hub die (the SharedWorker closes itself, the leader tab steps down). */
  killHub(): void {
    this.post({ t: 'die', tab: this.tab });
  }

  // ---- SubOwner ----

  postSub(want: SubWant): void {
    this.post({ t: 'sub', tab: this.tab, want });
  }

  postUnsub(channel: string): void {
    this.post({ t: 'unsub', tab: this.tab, channel });
  }

  call(op: CallOp, channel: string, args: unknown[]): Promise<unknown> {
    const id = ++this.callSeq;
    return new Promise<unknown>((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.post({ t: 'call', tab: this.tab, id, op, channel, args });
    });
  }

  // ---- LinkHost ----

  greet(): void {
    const subs = [...this.subs.values()].filter((s) => s.state !== 'unsubscribed').map((s) => s.want());
    this.post({
      t: 'hello',
      tab: this.tab,
      endpoint: this.endpoint,
      opts: { ...stripOptions(this.options), shared: { ...this.options.shared } },
      hasGetToken: typeof this.options.getToken === 'function',
      hasGetData: typeof this.options.getData === 'function',
      wantConnect: this.wantConnect,
      subs,
      resume: this.hubId !== undefined,
      outage: this.outageSeen(),
    });
  }

  deliver(m: ToTab): void {
    switch (m.t) {
      case 'welcome':
        if (m.hub !== this.hubId) {
          // A new hub while the old one's lock was not yet seen released (leader announce came first).
          if (this.hubId !== undefined && this.state === 'connected') this.hubLost();
          this.hubId = m.hub;
          if (!this.link.isLocal()) this.watchHub(m.hub);
        }
        return;
      case 'client':
        this.onClientEvent(m.ev, m.ctx);
        return;
      case 'sub':
        this.subs.get(m.channel)?.fromHub(m.ev, m.ctx);
        return;
      case 'result': {
        const c = this.calls.get(m.id);
        if (c === undefined) return;
        this.calls.delete(m.id);
        if (m.ok) c.resolve(m.value);
        else c.reject(m.error);
        return;
      }
      case 'ask':
        void this.answer(m.id, m.what, m.channel, m.ctx);
        return;
    }
  }

  private onClientEvent(ev: Extract<ToTab, { t: 'client' }>['ev'], ctx: unknown): void {
    if (!this.wantConnect) return;
    switch (ev) {
      case 'connecting':
        if ((ctx as { code?: unknown }).code !== 0) this.markOutage(true);
        this.setState('connecting', 'connecting', ctx);
        return;
      case 'connected':
        this.markOutage(false);
        this.setState('connected', 'connected', ctx);
        return;
      case 'disconnected':
        this.wantConnect = false;
        this.setState('disconnected', 'disconnected', ctx);
        return;
      case 'error':
      case 'message':
      case 'publication':
      case 'join':
      case 'leave':
      case 'subscribed':
      case 'subscribing':
      case 'unsubscribed':
        this.emit(ev, ctx as never);
        return;
    }
  }

  private async answer(id: number, what: Extract<ToTab, { t: 'ask' }>['what'], channel: string, ctx: unknown): Promise<void> {
    const sub = this.subs.get(channel)?.callbacks();
    try {
      let value: unknown;
      switch (what) {
        case 'getToken':
          value = await this.options.getToken?.(ctx as never);
          break;
        case 'getData':
          value = await this.options.getData?.();
          break;
        case 'subGetToken':
          value = await sub?.getToken?.(ctx as never);
          break;
        case 'subGetData':
          value = await sub?.getData?.(ctx as never);
          break;
      }
      this.post({ t: 'answer', tab: this.tab, id, ok: true, value });
    } catch (e) {
      const error = toWireError(e);
      if (e instanceof UnauthorizedError) error.unauthorized = true;
      this.post({ t: 'answer', tab: this.tab, id, ok: false, error });
    }
  }

  private setState(next: ClientState, ev: 'connecting' | 'connected' | 'disconnected', ctx: unknown): void {
    if (this.state === next) return;
    const old = this.state;
    this.state = next;
    this.emit('state', { newState: next, oldState: old } as never);
    this.emit(ev, ctx as never);
  }

  private post(m: ToHub): void {
    if (!this.lockHeld) this.queue.push(m);
    else this.link.post(m);
  }

  private takeTabLock(then: () => void): void {
    const name = lockNames.tab(this.key, this.tab);
    void navigator.locks.request(name, async () => {
      this.lockHeld = true;
      then();
      for (const m of this.queue.splice(0)) this.link.post(m);
      await new Promise<void>((resolve) => {
        this.releaseTabLock = resolve;
      });
    });
  }

  private watchHub(hub: string): void {
    void navigator.locks.request(lockNames.hub(this.key, hub), () => {
      if (this.hubId !== hub || !this.lockHeld) return;
      this.hubLost();
      this.link.hubGone();
    });
  }

  /** The hub (and with it the connection) went away: like a transport loss for this tab until the next hub. */
  private hubLost(): void {
    if (this.wantConnect) this.setState('connecting', 'connecting', { code: 1, reason: 'transport closed' });
    for (const sub of this.subs.values()) {
      sub.fromHub('subscribing', { channel: sub.channel, code: 0, reason: 'transport closed' });
    }
  }

  private suspend(): void {
    if (!this.lockHeld) return;
    this.link.post({ t: 'bye', tab: this.tab });
    this.link.suspend();
    this.lockHeld = false;
    this.releaseTabLock?.();
    this.releaseTabLock = undefined;
  }

  private resumeFromCache(): void {
    if (this.lockHeld) return;
    this.tab = randomId();
    this.takeTabLock(() => this.link.resume());
  }

  private outageSeen(): boolean {
    try {
      const v = Number(localStorage.getItem(`gyre-shared:outage:${this.key}`) ?? '0');
      return v > 0 && Date.now() - v < OUTAGE_FRESH_MS;
    } catch {
      return false;
    }
  }

  private markOutage(on: boolean): void {
    try {
      const k = `gyre-shared:outage:${this.key}`;
      if (on) localStorage.setItem(k, String(Date.now()));
      else localStorage.removeItem(k);
    } catch {
      /* storage may be disabled */
    }
  }
}
