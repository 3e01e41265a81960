// The hub: owns the one real `centrifuge` client for every tab of a browser profile and origin. It runs inside
// the SharedWorker (worker.ts) or, without SharedWorker, inside the leader tab (leader.ts). Channel subscriptions
// are reference-counted across tabs; events fan out to the tabs that asked for them; getToken/getData are asked
// of a live tab. The hub never speaks the wire protocol itself: the real client does.
import { Centrifuge, State, SubscriptionState, UnauthorizedError, type Subscription, type SubscriptionOptions } from 'centrifuge';
import { DecorrelatedJitter, initialDelay } from './backoff.js';
import type { AskWhat, ClientEventName, StreamPos, SubEventName, SubWant, ToHub, ToTab, WireError } from './messages.js';
import { toWireError } from './messages.js';
import { readSharedSettings, stripOptions, type SharedSettings } from './settings.js';

export type TabSend = (m: ToTab) => void;

export interface HubEnv {
  hubId: string;
  /** Calls onGone once the tab's Web Lock is released (tab closed, discarded, or put in the back-forward cache). */
  watchTab(tab: string, onGone: () => void): void;
  /** A tab asked the hub to die (test hook). */
  die(): void;
}

interface TabState {
  send: TabSend;
  wantConnect: boolean;
  hasGetToken: boolean;
  hasGetData: boolean;
  subs: Map<string, SubWant>;
}

interface ChannelState {
  tabs: Set<string>;
  sub: Subscription | undefined;
  since: StreamPos | undefined;
  first: SubWant;
  subscribedCtx: unknown;
  /**
   * Tabs that joined the channel after the hub's subscription was made, from a stream position of their own (a
   * tab that greets a new hub late, or a page that passed `since`): their events wait here while the hub reads
   * what they missed from history (catchUp), so they get it first, in offset order.
   */
  late: Map<string, LateTab>;
}

interface LateTab {
  since: StreamPos;
  queue: Array<[SubEventName, unknown]>;
  started: boolean;
}

/** History pages read for one late tab at the most (the server caps each page). */
const CATCH_UP_PAGES = 10;

interface PendingAsk {
  tab: string;
  what: AskWhat;
  channel: string;
  ctx: unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Centrifuge's private reconnect-delay hook: the one internal the hub replaces (decorrelated jitter). */
interface ReconnectInternals {
  _getReconnectDelay: () => number;
}

const clientEvents: readonly ClientEventName[] = [
  'connecting',
  'connected',
  'disconnected',
  'error',
  'message',
  'publication',
  'join',
  'leave',
  'subscribed',
  'subscribing',
  'unsubscribed',
];
const subEvents: readonly SubEventName[] = ['subscribing', 'subscribed', 'unsubscribed', 'publication', 'join', 'leave', 'error'];

export class Hub {
  private client: Centrifuge | undefined;
  private settings: SharedSettings | undefined;
  private jitter: DecorrelatedJitter | undefined;
  private readonly tabs = new Map<string, TabState>();
  private readonly channels = new Map<string, ChannelState>();
  private readonly asks = new Map<number, PendingAsk>();
  private askSeq = 0;
  private connectedCtx: unknown;
  /** Earliest time the hub may connect / create subscriptions (settle window after a resume, outage delay). */
  private notBefore = 0;
  private kickTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(private readonly env: HubEnv) {}

  /** Number of tabs attached (for tests and the demo). */
  get tabCount(): number {
    return this.tabs.size;
  }

  handle(m: ToHub, send: TabSend): void {
    if (this.closed) return;
    switch (m.t) {
      case 'hello':
        this.hello(m, send);
        return;
      case 'connect': {
        const tab = this.tabs.get(m.tab);
        if (tab === undefined) return;
        tab.wantConnect = true;
        if (this.client?.state === State.Connected) tab.send({ t: 'client', ev: 'connected', ctx: this.connectedCtx });
        this.schedule();
        return;
      }
      case 'disconnect': {
        const tab = this.tabs.get(m.tab);
        if (tab === undefined) return;
        tab.wantConnect = false;
        this.schedule();
        return;
      }
      case 'sub': {
        const tab = this.tabs.get(m.tab);
        if (tab === undefined) return;
        this.addSub(m.tab, tab, m.want);
        return;
      }
      case 'unsub':
        this.removeSub(m.tab, m.channel);
        return;
      case 'call':
        this.call(m.tab, m.id, m.op, m.channel, m.args);
        return;
      case 'answer': {
        const a = this.asks.get(m.id);
        if (a === undefined || a.tab !== m.tab) return;
        this.asks.delete(m.id);
        if (m.ok) a.resolve(m.value);
        else a.reject(fromWire(m.error));
        return;
      }
      case 'bye':
        this.dropTab(m.tab);
        return;
      case 'die':
        this.close();
        this.env.die();
        return;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.kickTimer !== undefined) clearTimeout(this.kickTimer);
    this.client?.disconnect();
  }

  private hello(m: Extract<ToHub, { t: 'hello' }>, send: TabSend): void {
    const known = this.tabs.has(m.tab);
    const tab: TabState = {
      send,
      wantConnect: m.wantConnect,
      hasGetToken: m.hasGetToken,
      hasGetData: m.hasGetData,
      subs: new Map(),
    };
    this.tabs.set(m.tab, tab);
    if (!known) this.env.watchTab(m.tab, () => this.dropTab(m.tab));
    send({ t: 'welcome', hub: this.env.hubId });
    if (this.client === undefined) this.createClient(m);
    if (m.resume && this.client?.state !== State.Connected) {
      this.notBefore = Math.max(this.notBefore, Date.now() + (this.settings?.settleMs ?? 0));
    }
    for (const want of m.subs) this.addSub(m.tab, tab, want);
    if (tab.wantConnect && this.client?.state === State.Connected) send({ t: 'client', ev: 'connected', ctx: this.connectedCtx });
    this.schedule();
  }

  private createClient(m: Extract<ToHub, { t: 'hello' }>): void {
    const settings = readSharedSettings(m.opts);
    this.settings = settings;
    const jitter = new DecorrelatedJitter({
      baseMs: settings.reconnectBaseMs,
      capMs: settings.reconnectCapMs,
      drainSpreadMs: settings.drainSpreadMs,
    });
    this.jitter = jitter;
    const opts: Record<string, unknown> = { ...stripOptions(m.opts) };
    if (m.hasGetToken) opts['getToken'] = (ctx: unknown) => this.ask('getToken', '', ctx) as Promise<string>;
    if (m.hasGetData) opts['getData'] = () => this.ask('getData', '', undefined);
    const client = new Centrifuge(m.endpoint as string, opts);
    (client as unknown as ReconnectInternals)._getReconnectDelay = () => jitter.next();
    this.notBefore = Date.now() + initialDelay(m.outage, settings.initialDelayMaxMs);
    for (const ev of clientEvents) {
      client.on(ev, (ctx: unknown) => this.onClientEvent(ev, ctx));
    }
    this.client = client;
  }

  private onClientEvent(ev: ClientEventName, ctx: unknown): void {
    // A closing hub (worker killed, leader leaving) does not tell tabs "disconnected": they move to the next hub.
    if (this.closed) return;
    if (ev === 'connected') {
      this.connectedCtx = ctx;
      this.jitter?.reset();
    }
    if (ev === 'connecting' || ev === 'disconnected') {
      const code = (ctx as { code?: unknown }).code;
      // 3001 "shutdown": the server drains; Centrifugo/Gyre give no Retry-After over a WebSocket, so the drain
      // code is the hint, and the next attempt is spread over drainSpreadMs.
      if (code === 3001) this.jitter?.drain();
    }
    for (const tab of this.tabs.values()) {
      if (tab.wantConnect) tab.send({ t: 'client', ev, ctx });
    }
    if (ev === 'disconnected') {
      // A disconnect the hub did not ask for (terminal server code): every tab is now disconnected.
      for (const tab of this.tabs.values()) tab.wantConnect = false;
    }
  }

  private addSub(tabId: string, tab: TabState, want: SubWant): void {
    tab.subs.set(want.channel, want);
    let ch = this.channels.get(want.channel);
    if (ch === undefined) {
      ch = { tabs: new Set(), sub: undefined, since: want.since, first: want, subscribedCtx: undefined, late: new Map() };
      this.channels.set(want.channel, ch);
    } else if (ch.sub === undefined && want.since !== undefined) {
      ch.since = minSince(ch.since, want.since);
    }
    ch.tabs.add(tabId);
    if (ch.sub !== undefined && want.since !== undefined) {
      // The hub's subscription started from another position: this tab may have missed publications.
      ch.late.set(tabId, { since: want.since, queue: [], started: false });
      if (ch.sub.state === SubscriptionState.Subscribed) this.catchUp(want.channel, ch, tabId);
    } else if (ch.sub !== undefined && ch.sub.state === SubscriptionState.Subscribed) {
      tab.send({ t: 'sub', channel: want.channel, ev: 'subscribed', ctx: ch.subscribedCtx });
    }
    this.schedule();
  }

  private removeSub(tabId: string, channel: string): void {
    this.tabs.get(tabId)?.subs.delete(channel);
    const ch = this.channels.get(channel);
    if (ch === undefined) return;
    ch.tabs.delete(tabId);
    ch.late.delete(tabId);
    if (ch.tabs.size > 0) return;
    this.channels.delete(channel);
    if (ch.sub !== undefined) {
      ch.sub.unsubscribe();
      this.client?.removeSubscription(ch.sub);
    }
  }

  private materialize(channel: string, ch: ChannelState): void {
    const client = this.client;
    if (client === undefined) return;
    const want = ch.first;
    const opts: SubscriptionOptions = { ...(want.opts as SubscriptionOptions) };
    if (ch.since !== undefined) opts.since = ch.since;
    if (want.hasGetToken) opts.getToken = (ctx) => this.ask('subGetToken', channel, ctx) as Promise<string>;
    if (want.hasGetData) opts.getData = (ctx) => this.ask('subGetData', channel, ctx);
    const sub = client.newSubscription(channel, opts);
    ch.sub = sub;
    for (const ev of subEvents) {
      sub.on(ev, (ctx: unknown) => {
        if (ev === 'subscribed') ch.subscribedCtx = ctx;
        for (const t of ch.tabs) {
          const late = ch.late.get(t);
          if (late !== undefined) late.queue.push([ev, ctx]);
          else this.tabs.get(t)?.send({ t: 'sub', channel, ev, ctx });
        }
        if (ev === 'subscribed') for (const t of ch.late.keys()) this.catchUp(channel, ch, t);
        if (ev === 'unsubscribed' && this.channels.get(channel) === ch) {
          // Unsubscribed by the server (or a terminal error): every tab's subscription ends with it.
          this.channels.delete(channel);
          for (const t of ch.tabs) this.tabs.get(t)?.subs.delete(channel);
          client.removeSubscription(sub);
        }
      });
    }
    sub.subscribe();
  }

  /**
   * Sends a late tab what it missed since its own position, read from history through the hub's subscription:
   * a subscribed event (recovered or not, as the plain client would see it), the missed publications, then the
   * events queued meanwhile (the tab drops offsets it already has, so the overlap is harmless).
   */
  private catchUp(channel: string, ch: ChannelState, tabId: string): void {
    const late = ch.late.get(tabId);
    const sub = ch.sub;
    if (late === undefined || late.started || sub === undefined) return;
    late.started = true;
    const read = async (): Promise<{ pubs: unknown[]; pos: StreamPos } | undefined> => {
      const pubs: unknown[] = [];
      let since = late.since;
      for (let page = 0; page < CATCH_UP_PAGES; page++) {
        const r = await sub.history({ since, limit: 100 });
        if (r.epoch !== late.since.epoch) return undefined;
        pubs.push(...r.publications);
        const last = r.publications[r.publications.length - 1]?.offset;
        if (r.publications.length === 0 || last === undefined || last >= r.offset) return { pubs, pos: { offset: r.offset, epoch: r.epoch } };
        since = { offset: last, epoch: r.epoch };
      }
      return undefined;
    };
    const finish = (got: { pubs: unknown[]; pos: StreamPos } | undefined): void => {
      if (ch.late.get(tabId) !== late) return; // the tab left or joined again meanwhile
      ch.late.delete(tabId);
      const tab = this.tabs.get(tabId);
      if (tab === undefined) return;
      const base = (ch.subscribedCtx ?? { channel }) as Record<string, unknown>;
      const ctx = got !== undefined
        ? { ...base, wasRecovering: true, recovered: true, streamPosition: got.pos, positioned: true, recoverable: true }
        : { ...base, wasRecovering: true, recovered: false };
      tab.send({ t: 'sub', channel, ev: 'subscribed', ctx });
      for (const p of got?.pubs ?? []) tab.send({ t: 'sub', channel, ev: 'publication', ctx: p });
      for (const [ev, c] of late.queue) tab.send({ t: 'sub', channel, ev, ctx: c });
    };
    read().then(finish, () => finish(undefined));
  }

  /** Connect / disconnect / create subscriptions, after the settle window and any first-connect delay. */
  private schedule(): void {
    if (this.kickTimer !== undefined) return;
    const wait = Math.max(0, this.notBefore - Date.now());
    this.kickTimer = setTimeout(() => {
      this.kickTimer = undefined;
      if (this.notBefore > Date.now()) {
        this.schedule();
        return;
      }
      this.kick();
    }, wait);
  }

  private kick(): void {
    const client = this.client;
    if (client === undefined || this.closed) return;
    for (const [channel, ch] of this.channels) if (ch.sub === undefined) this.materialize(channel, ch);
    const want = [...this.tabs.values()].some((t) => t.wantConnect);
    if (want && client.state === State.Disconnected) client.connect();
    else if (!want && client.state !== State.Disconnected) client.disconnect();
  }

  private dropTab(tabId: string): void {
    const tab = this.tabs.get(tabId);
    if (tab === undefined) return;
    for (const channel of [...tab.subs.keys()]) this.removeSub(tabId, channel);
    this.tabs.delete(tabId);
    for (const [id, a] of this.asks) {
      if (a.tab !== tabId) continue;
      this.asks.delete(id);
      this.retryAsk(a);
    }
    this.schedule();
  }

  private call(tabId: string, id: number, op: Extract<ToHub, { t: 'call' }>['op'], channel: string, args: unknown[]): void {
    const tab = this.tabs.get(tabId);
    const client = this.client;
    if (tab === undefined) return;
    const reply = (p: Promise<unknown>): void => {
      p.then(
        (value) => tab.send({ t: 'result', id, ok: true, value }),
        (e: unknown) => tab.send({ t: 'result', id, ok: false, error: toWireError(e) }),
      );
    };
    if (client === undefined) {
      tab.send({ t: 'result', id, ok: false, error: { code: 0, message: 'no client' } });
      return;
    }
    const sub = this.channels.get(channel)?.sub;
    switch (op) {
      case 'rpc':
        reply(client.rpc(String(args[0]), args[1]));
        return;
      case 'publish':
        reply(client.publish(channel, args[0]));
        return;
      case 'send':
        reply(client.send(args[0]));
        return;
      case 'subPublish':
        reply(sub !== undefined ? sub.publish(args[0]) : client.publish(channel, args[0]));
        return;
      case 'history': {
        const o = (args[0] ?? {}) as Parameters<Centrifuge['history']>[1];
        reply(sub !== undefined ? sub.history(o ?? {}) : client.history(channel, o));
        return;
      }
      case 'presence':
        reply(sub !== undefined ? sub.presence() : client.presence(channel));
        return;
      case 'presenceStats':
        reply(sub !== undefined ? sub.presenceStats() : client.presenceStats(channel));
        return;
    }
  }

  /** Asks a live tab for a token or data; when that tab goes away first, the next one is asked. */
  private ask(what: AskWhat, channel: string, ctx: unknown): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      this.sendAsk({ tab: '', what, channel, ctx, resolve, reject });
    });
  }

  private retryAsk(a: PendingAsk): void {
    this.sendAsk(a);
  }

  private sendAsk(a: PendingAsk): void {
    const tabId = this.pickTab(a.what, a.channel);
    if (tabId === undefined) {
      a.reject(new Error(`no live tab can answer ${a.what}`));
      return;
    }
    const id = ++this.askSeq;
    a.tab = tabId;
    this.asks.set(id, a);
    this.tabs.get(tabId)?.send({ t: 'ask', id, what: a.what, channel: a.channel, ctx: a.ctx });
  }

  private pickTab(what: AskWhat, channel: string): string | undefined {
    for (const [id, t] of this.tabs) {
      switch (what) {
        case 'getToken':
          if (t.hasGetToken) return id;
          break;
        case 'getData':
          if (t.hasGetData) return id;
          break;
        case 'subGetToken':
          if (t.subs.get(channel)?.hasGetToken === true) return id;
          break;
        case 'subGetData':
          if (t.subs.get(channel)?.hasGetData === true) return id;
          break;
      }
    }
    return undefined;
  }
}

function minSince(a: StreamPos | undefined, b: StreamPos): StreamPos {
  if (a === undefined) return b;
  if (a.epoch !== b.epoch) return a;
  return a.offset <= b.offset ? a : b;
}

function fromWire(e: WireError | undefined): Error {
  if (e?.unauthorized === true) return new UnauthorizedError(e.message);
  const err = new Error(e?.message ?? 'error');
  return Object.assign(err, { code: e?.code ?? 0 });
}
