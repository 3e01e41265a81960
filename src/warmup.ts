// Start-up warm-up. A freshly started node meets its worst load first: after a deploy or a restart every client
// of the old node reconnects at once, while V8 still runs the handshake, connect and fan-out code unoptimised
// (measured: a 10,000-connection burst against a cold Gyre took 2× longer at p50 than against the same process
// after 2,000 earlier connections). So before the real port opens, a private copy of the server stack on a
// loopback port is driven through `http_server.warmup_connections` real WebSocket connect+subscribe handshakes
// and HTTP API publishes. The copy has its own engine, token secret and API key, shares nothing with the real
// node but V8's compiled code, and the metrics it touched are reset afterwards.
//
// When the node's broker is Redis, the copy's engine is Redis too, on the same servers under a private prefix
// (`<prefix>.warmup-<random>`): its PUB/SUB channels and control channel are its own, so it never joins the
// cluster, and its channels have neither history nor presence, so it writes no key. That compiles the Redis
// publish and PUB/SUB delivery path as well (measured on a node that publishes 5,000 API requests in 20 s:
// about 0.4 s of CPU, 40% of the node's, was V8 still compiling and running that path unoptimised).
//
// Two more things keep the compiled code for the real node (measured on the first 10,000 burst against 2 fresh
// workers, docs/workers.md): a short priming pass on a first private copy, closed before the main pass starts, so
// the fields that a close and a second server write (V8 tracks which fields never change, and code that relied
// on that is thrown away when one does) are already generic when the main pass compiles; and V8's tier-up
// budget lowered over both passes, so the once-per-connection functions (handshake, connect, subscribe) get
// optimised within hundreds of connections rather than thousands. The budget is restored afterwards. And what a
// real burst meets that 500 uniform handshakes do not: tokens with their claims in several orders (each order is
// another object shape for V8).
import { randomBytes } from 'node:crypto';
import { request, Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { pino, type Logger } from 'pino';
import WebSocket from 'ws';
import { signHs256 } from './auth/sign.js';
import { deepFreeze, defaultConfig } from './config/index.js';
import type { GyreConfig, RedisEngineConfig } from './config/types.js';
import { resetNodeMetrics } from './metrics/registry.js';

export interface WarmupServer {
  port: number;
  close(): Promise<void>;
}

export type WarmupStart = (config: Readonly<GyreConfig>, opts: { logger: Logger }) => Promise<WarmupServer>;

export interface WarmupResult {
  /** Connections asked for. */
  connections: number;
  /** Connections that got their subscribe reply (main pass). */
  subscribed: number;
  /** API publishes that succeeded (main pass). */
  published: number;
  /**
   * Main-thread busy time of the main pass's connect phase (ms): the `subscribed` handshakes, server and client
   * side, both in this process (the admission guard's prior rate, transports/handshake-rate.ts).
   */
  connectActiveMs: number;
  /** The priming pass before it (its own private server, closed before the main pass starts). */
  primed: { subscribed: number; published: number };
  ms: number;
  /** True when the time budget ran out before the end. */
  timedOut: boolean;
}

/** Connections in flight at once: enough to exercise batching, small enough not to queue on the backlog. */
const WAVE = 100;
/** Channels the warm-up clients subscribe to (so each publication reaches about n / CHANNELS of them). */
const CHANNELS = 50;
/**
 * API publishes per warm-up connection, at most MAX_PUBLISHES. V8 optimises a function after some hundreds of
 * calls with stable types; 20 publishes per channel (200 in all) left the publish path in the baseline tier,
 * where a freshly started node spent ~2x the CPU of a warm one on each API publish.
 */
const PUBLISHES_PER_CONNECTION = 10;
const MAX_PUBLISHES = 5000;
/** API requests in flight at once (one keep-alive socket each). */
const PUBLISH_CONCURRENCY = 16;
/** Connections (and twice as many publishes) of the priming pass. */
const PRIME_CONNECTIONS = 100;
/**
 * V8's tier-up budget (--interrupt-budget, bytes of bytecode run between tier-up checks) during the warm-up,
 * against V8's default of 67,584 in Node 20, restored afterwards. Measured (2 workers, `none`, 10,000 burst): with
 * the priming pass, the 1st burst's server CPU went from 1.58-1.61 s to 1.20-1.24 s; the 2nd burst stays at ~0.8 s.
 */
const WARMUP_TIER_UP_BUDGET = 4096;
const V8_DEFAULT_TIER_UP_BUDGET = 67584;

/** An operator's own --interrupt-budget (node flag or NODE_OPTIONS) is left alone. */
function budgetSetByOperator(): boolean {
  return [...process.execArgv, process.env['NODE_OPTIONS'] ?? ''].some((a) => a.includes('interrupt-budget') || a.includes('interrupt_budget'));
}

/**
 * The copy's Redis engine slice when the node's broker is Redis: the same servers under a private prefix
 * (`tag` makes it unique per start); undefined when the broker is not Redis. `config` is the copy's own clone.
 */
function warmupRedis(config: GyreConfig, tag: string): RedisEngineConfig | undefined {
  const broker = config.broker;
  let slice: RedisEngineConfig;
  if (broker?.enabled === true) {
    if (broker.type !== 'redis') return undefined;
    slice = { ...config.engine.redis, ...broker.redis };
  } else if (config.engine.type === 'redis') {
    slice = config.engine.redis;
  } else {
    return undefined;
  }
  const prefix = slice.prefix === '' ? 'centrifugo' : slice.prefix;
  slice.prefix = `${prefix}.warmup-${tag}`;
  return slice;
}

/** The private server's configuration: the user's (so the same code paths and limits run) minus anything external. */
export function warmupConfig(
  config: Readonly<GyreConfig>,
  secret: string,
  apiKey: string,
  tag: string = randomBytes(6).toString('hex'),
): Readonly<GyreConfig> {
  const d = defaultConfig();
  // Changed in place on a deep clone, then frozen like a loaded config: the copy's config objects get the same
  // V8 shapes as the real node's, so code optimised on the copy is not deoptimised by the real node's first
  // requests (a spread section is an object of another shape, and every function reading it deopted once).
  const c = structuredClone(config) as GyreConfig;
  Object.assign(c.http_server, { address: '127.0.0.1', port: 0, internal_address: '', internal_port: 0, warmup_connections: 0 });
  Object.assign(c.client, {
    insecure: false,
    allow_anonymous_connect_without_token: false,
    allowed_origins: [],
    connection_limit: 0,
    user_connection_limit: 0,
    connection_rate_limit: 0,
    ip_connection_limit: 0,
    subscribe_to_user_personal_channel: d.client.subscribe_to_user_personal_channel,
    subscription_token: d.client.subscription_token,
  });
  c.client.token = d.client.token;
  c.client.token.hmac_secret_key = secret;
  c.channel.without_namespace = d.channel.without_namespace;
  c.channel.without_namespace.allow_subscribe_for_client = true;
  Object.assign(c.http_api, { disabled: false, key: apiKey, external: true, insecure: false, error_mode: '' });
  c.health.enabled = false;
  c.prometheus.enabled = false;
  c.websocket.disabled = false;
  c.pid_file = '';
  // Its clients are gone before it closes: no paced drain to wait out (that added drain_duration to every start).
  Object.assign(c.shutdown, { drain_duration: 0, pre_drain_delay: 0 });
  // Never the user's engine as is: a copy on the user's prefix would join the cluster (node info, control
  // messages, publishes). A Redis broker is warmed under a private prefix, anything else on the memory engine.
  const redis = warmupRedis(c, tag);
  c.engine.type = redis !== undefined ? 'redis' : 'memory';
  if (redis !== undefined) c.engine.redis = redis;
  if (c.broker !== undefined) Object.assign(c.broker, { enabled: false, type: 'memory' });
  if (c.presence_manager !== undefined) Object.assign(c.presence_manager, { enabled: false, type: 'memory' });
  return deepFreeze(c);
}

/**
 * The claims of the i-th warm-up token, in the orders token libraries write them: `sub, exp`; `sub, iat, exp`
 * (jsonwebtoken); `sub, exp, iat` (Go structs); `exp, iat, sub` (Go maps, sorted). A parsed token is an object
 * whose V8 shape follows its keys, and the connect path's optimised code checks that shape: with one shape in the
 * warm-up, the first real token of another threw that code away.
 */
export function warmupClaims(i: number, nowSec: number): Record<string, string | number> {
  const sub = `warmup-${i}`;
  const exp = nowSec + 600;
  switch (i % 4) {
    case 0:
      return { sub, exp };
    case 1:
      return { sub, iat: nowSec, exp };
    case 2:
      return { sub, exp, iat: nowSec };
    default:
      return { exp, iat: nowSec, sub };
  }
}

/** One client: connect + subscribe in the first frame; resolves true once the subscribe reply arrived. */
function connectOne(url: string, frame: string, sockets: WebSocket[], deadline: number): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    sockets.push(ws);
    const timer = setTimeout(() => done(false), Math.max(1, deadline - Date.now()));
    let settled = false;
    function done(ok: boolean): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(ok);
    }
    ws.on('open', () => ws.send(frame));
    ws.on('message', (data: Buffer) => {
      if (data.includes('"id":2')) done(!data.includes('"error"'));
    });
    ws.on('error', () => done(false));
    ws.on('close', () => done(false));
  });
}

/**
 * The data of the i-th warm-up publication: JSON with the value kinds real payloads carry (integers, a
 * millisecond timestamp with a fraction, negative numbers, strings with escapes, booleans, null, arrays,
 * nested objects), so the API's JSON scanner meets them before the real traffic does.
 */
export function warmupPayload(i: number): string {
  const ts = Date.now() + (i % 1000) / 1000;
  const kind = i % 4;
  if (kind === 0) return `{"seq":${i},"ts":${ts},"pad":"${'x'.repeat(64)}"}`;
  if (kind === 1) return `{"id":"w-${i}","value":${-i - 0.5},"ok":true,"tags":["a","b\\n"],"meta":{"n":null,"at":${ts}}}`;
  if (kind === 2) return `[${i},"text \\"quoted\\" \\u00e9",false,{"k":${i * 1000}}]`;
  return `{"text":"${'y'.repeat(100 + (i % 50))}","count":${i}}`;
}

function publish(port: number, prefix: string, apiKey: string, agent: Agent, channel: string, i: number): Promise<boolean> {
  const body = `{"channel":${JSON.stringify(channel)},"data":${warmupPayload(i)}}`;
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: `${prefix}/publish`,
        method: 'POST',
        agent,
        timeout: 2000,
        headers: { 'Content-Type': 'application/json', 'X-API-Key': apiKey, 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
      },
    );
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end(body);
  });
}

/** `total` publishes with PUBLISH_CONCURRENCY in flight; returns how many succeeded. */
async function publishAll(total: number, send: (channel: string, i: number) => Promise<boolean>, deadline: number): Promise<number> {
  let next = 0;
  let ok = 0;
  const lane = async (): Promise<void> => {
    while (next < total && Date.now() < deadline) {
      const i = next++;
      // Every other one to a channel nobody subscribed: the publish path runs as often, the fan-out half as often.
      const channel = i % 2 === 0 ? `warmup-${(i / 2) % CHANNELS}` : `warmup-idle-${i % CHANNELS}`;
      if (await send(channel, i)) ok++;
    }
  };
  await Promise.all(Array.from({ length: PUBLISH_CONCURRENCY }, lane));
  return ok;
}

interface PassResult {
  subscribed: number;
  published: number;
  connectActiveMs: number;
}

/** One private server: `n` connect+subscribe handshakes, then `publishes` API publishes, then close. */
async function pass(
  config: Readonly<GyreConfig>,
  n: number,
  publishes: number,
  opts: { logger: Logger; start: WarmupStart },
  deadline: number,
): Promise<PassResult> {
  const secret = randomBytes(24).toString('hex');
  const apiKey = randomBytes(24).toString('hex');
  const result: PassResult = { subscribed: 0, published: 0, connectActiveMs: 0 };
  const sockets: WebSocket[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: PUBLISH_CONCURRENCY });
  let server: WarmupServer | undefined;
  try {
    server = await opts.start(warmupConfig(config, secret, apiKey), { logger: pino({ level: 'silent' }) });
    const url = `ws://127.0.0.1:${server.port}${config.websocket.handler_prefix}`;
    const nowSec = Math.floor(Date.now() / 1000);
    const elu = performance.eventLoopUtilization();
    for (let first = 0; first < n && Date.now() < deadline; first += WAVE) {
      const wave: Promise<boolean>[] = [];
      for (let i = first; i < Math.min(n, first + WAVE); i++) {
        const frame = `{"id":1,"connect":{"token":"${signHs256(warmupClaims(i, nowSec), secret)}"}}\n{"id":2,"subscribe":{"channel":"warmup-${i % CHANNELS}"}}`;
        wave.push(connectOne(url, frame, sockets, deadline));
      }
      for (const ok of await Promise.all(wave)) if (ok) result.subscribed++;
    }
    result.connectActiveMs = Math.round(performance.eventLoopUtilization(elu).active);
    const port = server.port;
    const prefix = config.http_api.handler_prefix;
    result.published = await publishAll(publishes, (ch, i) => publish(port, prefix, apiKey, agent, ch, i), deadline);
  } catch (err) {
    opts.logger.warn({ err }, 'warm-up failed; starting without it');
  } finally {
    agent.destroy();
    for (const ws of sockets) ws.terminate();
    if (server !== undefined) {
      try {
        await server.close();
      } catch (err) {
        opts.logger.warn({ err }, 'warm-up server did not close cleanly');
      }
    }
    // The private node counted its connections, commands and publications in the shared registry.
    resetNodeMetrics();
  }
  return result;
}

/**
 * Runs the warm-up; never throws (a failed warm-up only costs speed, so it is logged and the node starts anyway).
 * `start` is app.ts's startServer (passed in so that this module stays independent of the composition root).
 */
export async function warmUp(
  config: Readonly<GyreConfig>,
  opts: {
    logger: Logger;
    start: WarmupStart;
    timeoutMs?: number;
    /** Sets V8 flags at run time (tests; default node:v8 setFlagsFromString). */
    setV8Flags?: (flags: string) => void;
  },
): Promise<WarmupResult | null> {
  const n = config.http_server.warmup_connections;
  if (n <= 0 || config.websocket.disabled) return null;
  const t0 = Date.now();
  const deadline = t0 + (opts.timeoutMs ?? 4000);
  const prime = Math.min(n, PRIME_CONNECTIONS);
  // Lowered from the priming pass on: V8 gives a function its budget when it first runs and again after each
  // tier-up check, so a function first run at the default budget keeps it until it has run 67,584 bytes of
  // bytecode. Lowered only for the main pass, the small once-per-connection functions the priming pass had
  // started on never reached their first check in 600 handshakes (--trace-opt: 57 names first marked in the
  // first real burst).
  const setFlags = budgetSetByOperator() ? undefined : (opts.setV8Flags ?? setFlagsFromString);
  setFlags?.(`--interrupt-budget=${WARMUP_TIER_UP_BUDGET}`);
  let primed: { subscribed: number; published: number };
  let main: PassResult;
  try {
    const p = await pass(config, prime, 2 * prime, opts, deadline);
    primed = { subscribed: p.subscribed, published: p.published };
    main = await pass(config, n, Math.min(MAX_PUBLISHES, n * PUBLISHES_PER_CONNECTION), opts, deadline);
  } finally {
    setFlags?.(`--interrupt-budget=${V8_DEFAULT_TIER_UP_BUDGET}`);
  }
  const result: WarmupResult = { connections: n, ...main, primed, ms: Date.now() - t0, timedOut: Date.now() >= deadline };
  opts.logger.info(result, 'warm-up done');
  return result;
}
