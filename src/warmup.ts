// Start-up warm-up. A freshly started node meets its worst load first: after a deploy or a restart every client
// of the old node reconnects at once, while V8 still runs the handshake, connect and fan-out code unoptimised
// (measured: a 10,000-connection burst against a cold Gyre took 2× longer at p50 than against the same process
// after 2,000 earlier connections). So before the real port opens, a private copy of the server stack on a
// loopback port is driven through `http_server.warmup_connections` real WebSocket connect+subscribe handshakes
// and a few HTTP API publishes. The copy has its own engine, token secret and API key, shares nothing with the
// real node but V8's compiled code, and the metrics it touched are reset afterwards.
import { randomBytes } from 'node:crypto';
import { request, Agent } from 'node:http';
import { pino, type Logger } from 'pino';
import WebSocket from 'ws';
import { signHs256 } from './auth/sign.js';
import { defaultConfig } from './config/index.js';
import type { GyreConfig } from './config/types.js';
import { flushMetrics, metrics } from './metrics/registry.js';

export interface WarmupServer {
  port: number;
  close(): Promise<void>;
}

export type WarmupStart = (config: Readonly<GyreConfig>, opts: { logger: Logger }) => Promise<WarmupServer>;

export interface WarmupResult {
  /** Connections asked for. */
  connections: number;
  /** Connections that got their subscribe reply. */
  subscribed: number;
  /** API publishes that succeeded. */
  published: number;
  ms: number;
  /** True when the time budget ran out before the end. */
  timedOut: boolean;
}

/** Connections in flight at once: enough to exercise batching, small enough not to queue on the backlog. */
const WAVE = 100;
const CHANNELS = 10;
const PUBLISHES_PER_CHANNEL = 20;

/** The private server's configuration: the user's (so the same code paths and limits run) minus anything external. */
export function warmupConfig(config: Readonly<GyreConfig>, secret: string, apiKey: string): GyreConfig {
  const d = defaultConfig();
  const c = structuredClone(config) as GyreConfig;
  c.http_server = { ...c.http_server, address: '127.0.0.1', port: 0, internal_address: '', internal_port: 0, warmup_connections: 0 };
  c.client = {
    ...c.client,
    insecure: false,
    allow_anonymous_connect_without_token: false,
    allowed_origins: [],
    connection_limit: 0,
    user_connection_limit: 0,
    connection_rate_limit: 0,
    ip_connection_limit: 0,
    subscribe_to_user_personal_channel: d.client.subscribe_to_user_personal_channel,
    token: { ...d.client.token, hmac_secret_key: secret },
    subscription_token: d.client.subscription_token,
  };
  c.channel = {
    ...c.channel,
    without_namespace: { ...d.channel.without_namespace, allow_subscribe_for_client: true },
  };
  c.http_api = { ...c.http_api, disabled: false, key: apiKey, external: true, insecure: false, error_mode: '' };
  c.health = { ...c.health, enabled: false };
  c.prometheus = { ...c.prometheus, enabled: false };
  c.websocket = { ...c.websocket, disabled: false };
  c.pid_file = '';
  // Its clients are gone before it closes: no paced drain to wait out (that added drain_duration to every start).
  c.shutdown = { ...c.shutdown, drain_duration: 0, pre_drain_delay: 0 };
  // Never the user's engine: a Redis-backed copy would join the cluster (node info, control messages, publishes).
  c.engine = { ...c.engine, type: 'memory' };
  c.broker = { enabled: false, type: 'memory', redis: d.broker!.redis, nats: d.broker!.nats };
  c.presence_manager = { enabled: false, type: 'memory', redis: d.presence_manager!.redis };
  return c;
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

function publish(port: number, prefix: string, apiKey: string, agent: Agent, channel: string, i: number): Promise<boolean> {
  const body = JSON.stringify({ channel, data: { warmup: i, pad: 'x'.repeat(64) } });
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

/**
 * Runs the warm-up; never throws (a failed warm-up only costs speed, so it is logged and the node starts anyway).
 * `start` is app.ts's startServer (passed in so that this module stays independent of the composition root).
 */
export async function warmUp(
  config: Readonly<GyreConfig>,
  opts: { logger: Logger; start: WarmupStart; timeoutMs?: number },
): Promise<WarmupResult | null> {
  const n = config.http_server.warmup_connections;
  if (n <= 0 || config.websocket.disabled) return null;
  const t0 = Date.now();
  const deadline = t0 + (opts.timeoutMs ?? 4000);
  const secret = randomBytes(24).toString('hex');
  const apiKey = randomBytes(24).toString('hex');
  const result: WarmupResult = { connections: n, subscribed: 0, published: 0, ms: 0, timedOut: false };
  const sockets: WebSocket[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  let server: WarmupServer | undefined;
  try {
    server = await opts.start(warmupConfig(config, secret, apiKey), { logger: pino({ level: 'silent' }) });
    const url = `ws://127.0.0.1:${server.port}${config.websocket.handler_prefix}`;
    const nowSec = Math.floor(Date.now() / 1000);
    for (let first = 0; first < n && Date.now() < deadline; first += WAVE) {
      const wave: Promise<boolean>[] = [];
      for (let i = first; i < Math.min(n, first + WAVE); i++) {
        const frame = `{"id":1,"connect":{"token":"${signHs256({ sub: `warmup-${i}`, exp: nowSec + 600 }, secret)}"}}\n{"id":2,"subscribe":{"channel":"warmup-${i % CHANNELS}"}}`;
        wave.push(connectOne(url, frame, sockets, deadline));
      }
      for (const ok of await Promise.all(wave)) if (ok) result.subscribed++;
    }
    for (let i = 0; i < PUBLISHES_PER_CHANNEL && Date.now() < deadline; i++) {
      const batch: Promise<boolean>[] = [];
      for (let ch = 0; ch < CHANNELS; ch++) batch.push(publish(server.port, config.http_api.handler_prefix, apiKey, agent, `warmup-${ch}`, i));
      for (const ok of await Promise.all(batch)) if (ok) result.published++;
    }
    result.timedOut = Date.now() >= deadline;
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
    flushMetrics();
    for (const m of Object.values(metrics)) m.reset();
  }
  result.ms = Date.now() - t0;
  opts.logger.info(result, 'warm-up done');
  return result;
}
