// The messages between a tab (the page-side facade) and the hub that owns the one real connection, whether the
// hub runs in a SharedWorker or in the leader tab. Everything here must survive structured clone: no functions;
// callbacks (getToken/getData) stay in the tab and the hub asks for their results with an `ask`.

/** Serialisable part of centrifuge's Options (functions and transport factories are dropped). */
export type ClientOptions = Record<string, unknown>;
/** Serialisable part of centrifuge's SubscriptionOptions. */
export type SubOptions = Record<string, unknown>;

export interface StreamPos {
  offset: number;
  epoch: string;
}

/** A tab's wish to be subscribed to one channel. */
export interface SubWant {
  channel: string;
  opts: SubOptions;
  hasGetToken: boolean;
  hasGetData: boolean;
  /** Last position this tab has seen on the channel (from a previous hub), for recovery. */
  since?: StreamPos;
}

/** An error as it crosses the boundary: centrifuge's {code, message, temporary?}. */
export interface WireError {
  code: number;
  message: string;
  temporary?: boolean;
  /** The tab's callback threw centrifuge's UnauthorizedError. */
  unauthorized?: boolean;
}

export type CallOp = 'rpc' | 'publish' | 'send' | 'subPublish' | 'history' | 'presence' | 'presenceStats';
export type AskWhat = 'getToken' | 'getData' | 'subGetToken' | 'subGetData';

export type ToHub =
  | {
      t: 'hello';
      tab: string;
      endpoint: unknown;
      opts: ClientOptions;
      hasGetToken: boolean;
      hasGetData: boolean;
      wantConnect: boolean;
      subs: SubWant[];
      /** The tab had a hub before (worker restart, leader hand-over): wait briefly for the other tabs. */
      resume: boolean;
      /** The page loaded while this browser saw an outage recently: spread the first connect. */
      outage: boolean;
    }
  | { t: 'connect'; tab: string }
  | { t: 'disconnect'; tab: string }
  | { t: 'sub'; tab: string; want: SubWant }
  | { t: 'unsub'; tab: string; channel: string }
  | { t: 'call'; tab: string; id: number; op: CallOp; channel: string; args: unknown[] }
  | { t: 'answer'; tab: string; id: number; ok: boolean; value?: unknown; error?: WireError }
  | { t: 'bye'; tab: string }
  /** Test hook: the hub closes itself (a SharedWorker calls self.close()). */
  | { t: 'die'; tab: string };

export type ClientEventName =
  | 'connecting'
  | 'connected'
  | 'disconnected'
  | 'error'
  | 'message'
  | 'publication'
  | 'join'
  | 'leave'
  | 'subscribed'
  | 'subscribing'
  | 'unsubscribed';

export type SubEventName = 'subscribing' | 'subscribed' | 'unsubscribed' | 'publication' | 'join' | 'leave' | 'error';

export type ToTab =
  | { t: 'welcome'; hub: string }
  | { t: 'client'; ev: ClientEventName; ctx: unknown }
  | { t: 'sub'; channel: string; ev: SubEventName; ctx: unknown }
  | { t: 'result'; id: number; ok: boolean; value?: unknown; error?: WireError }
  | { t: 'ask'; id: number; what: AskWhat; channel: string; ctx: unknown };

/** Lock names (Web Locks API), one namespace per shared key. */
export const lockNames = {
  tab: (key: string, tab: string): string => `gyre-shared:${key}:tab:${tab}`,
  hub: (key: string, hub: string): string => `gyre-shared:${key}:hub:${hub}`,
  leader: (key: string): string => `gyre-shared:${key}:leader`,
};

export function toWireError(e: unknown): WireError {
  if (typeof e === 'object' && e !== null) {
    const r = e as { code?: unknown; message?: unknown; temporary?: unknown };
    const out: WireError = {
      code: typeof r.code === 'number' ? r.code : 0,
      message: typeof r.message === 'string' ? r.message : JSON.stringify(e),
    };
    if (r.temporary === true) out.temporary = true;
    return out;
  }
  return { code: 0, message: String(e) };
}

export function randomId(): string {
  const b = new Uint8Array(8);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
