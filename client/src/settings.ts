// The add-on's own knobs, passed in the Centrifuge options under `shared` and removed before the options reach
// the real client. Everything has a default; see client/README.md.

export interface SharedSettings {
  /** Max random delay (ms) before the first connect when the page loaded during an outage. */
  initialDelayMaxMs: number;
  /** Decorrelated-jitter reconnect: smallest and largest delay (ms). */
  reconnectBaseMs: number;
  reconnectCapMs: number;
  /** After a drain hint (disconnect 3001 shutdown) the next attempt is spread over this many ms. */
  drainSpreadMs: number;
  /** After a worker restart or leader hand-over, how long (ms) the new hub waits for the other tabs to report
   *  their stream positions before it subscribes (the lowest position is recovered from). */
  settleMs: number;
  /** Share key: tabs with the same key share one connection (default: the endpoint). */
  key: string;
  /** URL of the worker script (default: gyre-shared-worker.js beside the bundle). */
  workerUrl: string;
  /** 'auto' (SharedWorker, else leader election), 'worker', 'leader'. */
  mode: 'auto' | 'worker' | 'leader';
}

export const defaultSettings: Omit<SharedSettings, 'key' | 'workerUrl'> = {
  initialDelayMaxMs: 5000,
  reconnectBaseMs: 500,
  reconnectCapMs: 20000,
  drainSpreadMs: 10000,
  settleMs: 300,
  mode: 'auto',
};

function num(v: unknown, d: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : d;
}

export function readSharedSettings(opts: Record<string, unknown>): SharedSettings {
  const raw = opts['shared'];
  const s = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const mode = s['mode'];
  return {
    initialDelayMaxMs: num(s['initialDelayMaxMs'], defaultSettings.initialDelayMaxMs),
    reconnectBaseMs: num(s['reconnectBaseMs'], num(opts['minReconnectDelay'], defaultSettings.reconnectBaseMs)),
    reconnectCapMs: num(s['reconnectCapMs'], num(opts['maxReconnectDelay'], defaultSettings.reconnectCapMs)),
    drainSpreadMs: num(s['drainSpreadMs'], defaultSettings.drainSpreadMs),
    settleMs: num(s['settleMs'], defaultSettings.settleMs),
    key: typeof s['key'] === 'string' ? s['key'] : '',
    workerUrl: typeof s['workerUrl'] === 'string' ? s['workerUrl'] : '',
    mode: mode === 'worker' || mode === 'leader' ? mode : 'auto',
  };
}

/** Options for the real client: without `shared` and without anything that cannot cross a postMessage. */
export function stripOptions(opts: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(opts)) {
    if (k === 'shared' || typeof v === 'function' || v === null || k === 'networkEventTarget') continue;
    if (typeof v === 'object' && !isPlain(v)) continue;
    out[k] = v;
  }
  return out;
}

function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null || Array.isArray(v);
}
