// Parsed option types shared by the CLI, the scenarios and the reports, plus the pure value parsers.

export interface CommonOptions {
  url: string;
  api: string;
  apiKey: string | null;
  hmacSecret: string | null;
  tokenTtlSeconds: number;
  channelPrefix: string;
  userPrefix: string;
  /** Worker threads per generator process; 0 = run the clients in the main thread. */
  workers: number;
  /** Generator processes (each with its own fd limit, workers and slice of clients/addresses). */
  processes: number;
  sourceIps: string[];
  clients: number;
  /** Connects per second; 0 = all at once. */
  rate: number;
  durationMs: number;
  timeoutMs: number;
  connectTimeoutMs: number;
  json: string | null;
  html: string | null;
  serverPid: number | null;
  quiet: boolean;
  strict: boolean;
}

/**
 * Publishing during the hold of connect/idle/storm (`--publish-rate`): one rate, through the HTTP API,
 * round-robin over the channels, so that sequence gaps/duplicates (and, for storm, recovery) mean something.
 */
export interface HoldPublishOptions {
  /** Channels the clients spread over (client i → channel i % channels). */
  channels: number;
  /** Publications per second during the hold; 0 = none. */
  holdPublishRate: number;
  size: number;
}

export interface ConnectOptions extends CommonOptions, HoldPublishOptions {
  holdMs: number;
}

export interface IdleOptions extends CommonOptions, HoldPublishOptions {}

export interface FanoutOptions extends CommonOptions {
  channels: number;
  publishRates: number[];
  publishVia: 'api' | 'client';
  size: number;
  /** Every delivery's client index, seq, send and receive time, written per pool to `<file>.w<pool>` (null: off). */
  latencyDump: string | null;
}

export interface StormOptions extends CommonOptions, HoldPublishOptions {
  /** Subscribe recoverable and resubscribe with recover (needs history on the channels). */
  recover: boolean;
  restartCmd: string | null;
  waitDrop: boolean;
  maxDelayMs: number;
}

export type ScenarioName = 'connect' | 'idle' | 'fanout' | 'storm';

/** "500ms", "10s", "2m", or a bare number of seconds. */
export function parseDuration(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(s);
  if (m === null) throw new RangeError(`bad duration "${s}" (use e.g. 500ms, 10s, 2m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const mult = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(n * mult);
}

/** "256", "1k", "4KiB", "1m" → bytes. */
export function parseSize(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib)?\s*$/i.exec(s);
  if (m === null) throw new RangeError(`bad size "${s}" (use e.g. 100, 1k, 64KiB)`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult = unit === 'b' ? 1 : unit.startsWith('k') ? 1024 : 1024 * 1024;
  return Math.round(Number(m[1]) * mult);
}

/** Non-negative integer with an upper bound. */
export function parseCount(s: string, max = 1_000_000): number {
  if (!/^\s*\d+\s*$/.test(s)) throw new RangeError(`expected a whole number, got "${s}"`);
  const n = Number(s);
  if (n > max) throw new RangeError(`${n} is above the maximum ${max}`);
  return n;
}

/** Comma-separated positive rates: "100,500,1000". */
export function parseRates(s: string): number[] {
  const out = s.split(',').map((x) => x.trim()).filter((x) => x !== '').map((x) => {
    const n = Number(x);
    if (!Number.isFinite(n) || n <= 0 || n > 1_000_000) throw new RangeError(`bad rate "${x}"`);
    return n;
  });
  if (out.length === 0) throw new RangeError('no publish rate given');
  if (out.length > 50) throw new RangeError('at most 50 stages');
  return out;
}
