// Start/stop each benchmark peer as a child process on a free loopback port, wait until it accepts
// connections, and expose its pid for RSS/CPU sampling. Every peer serves the same surface:
// WebSocket /connection/websocket (Centrifugo JSON protocol subset) and POST /api/publish with X-API-Key —
// except socketio, which serves Socket.IO on /socket.io/ plus the same POST /api/publish.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { spawnChild, type Child } from './children.js';
import { freePort, LOOPBACK } from './ports.js';
import { waitForTcp } from './wait.js';

export const PEERS = ['gyre', 'centrifugo', 'socketio', 'ws-bare'] as const;
export type PeerName = (typeof PEERS)[number];

export function isPeerName(s: string): s is PeerName {
  return (PEERS as readonly string[]).includes(s);
}

/** Repository root (bench/lib/ → ../..). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export const BENCH_HMAC_SECRET = 'gyre-bench-secret';
export const BENCH_API_KEY = 'gyre-bench-api-key';

export interface RunningServer {
  readonly peer: PeerName;
  readonly pid: number;
  readonly port: number;
  /** ws://127.0.0.1:PORT/connection/websocket (socketio: http://127.0.0.1:PORT, the Socket.IO base URL). */
  readonly clientUrl: string;
  /** http://127.0.0.1:PORT/api/publish */
  readonly publishUrl: string;
  readonly apiKey: string;
  readonly hmacSecret: string;
  /** Protocol the load generator must speak. */
  readonly protocol: 'centrifugo-json' | 'socketio';
  output(): string;
  alive(): boolean;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Client ping interval in seconds, the same for every peer (Centrifugo's default 25). */
  readonly pingIntervalSec?: number;
  readonly readyTimeoutMs?: number;
  /** Extra environment for the child (e.g. GOMAXPROCS for Centrifugo). */
  readonly env?: NodeJS.ProcessEnv;
  /** Keys merged (deeply) over centrifugoStyleConfig for gyre and centrifugo, e.g. `{ rpc: { ping: { enabled: true } } }`. */
  readonly configOverride?: Record<string, unknown>;
  /** Gyre only: run this compiled build (`<dir>/src/main.js`, e.g. an older one for an A/B) instead of src/ through tsx. */
  readonly gyreDist?: string;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects (arrays and scalars of `b` replace those of `a`). */
export function mergeConfig(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isPlainObject(prev) && isPlainObject(v) ? mergeConfig(prev, v) : v;
  }
  return out;
}

/** Config shared by Gyre and Centrifugo: same keys (Gyre keeps Centrifugo's), memory engine, HMAC tokens. */
export function centrifugoStyleConfig(port: number, pingIntervalSec: number): Record<string, unknown> {
  return {
    http_server: { address: LOOPBACK, port },
    log: { level: 'error' },
    engine: { type: 'memory' },
    client: {
      token: { hmac_secret_key: BENCH_HMAC_SECRET },
      ping_interval: `${pingIntervalSec}s`,
      pong_timeout: `${Math.max(1, Math.min(8, pingIntervalSec - 1))}s`,
    },
    http_api: { key: BENCH_API_KEY },
    channel: { without_namespace: { allow_subscribe_for_client: true } },
  };
}

function writeConfig(peer: string, cfg: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), `gyre-bench-${peer}-`));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}

let centrifugoPath: string | null = null;

/** Path of the centrifugo binary: $CENTRIFUGO_BIN, else whatever scripts/install-centrifugo.sh reports. */
export function centrifugoBinary(): string {
  if (centrifugoPath !== null) return centrifugoPath;
  const fromEnv = process.env['CENTRIFUGO_BIN'];
  if (fromEnv !== undefined && fromEnv !== '') {
    centrifugoPath = fromEnv;
    return fromEnv;
  }
  const out = execFileSync(join(REPO_ROOT, 'scripts/install-centrifugo.sh'), { encoding: 'utf8' });
  const last = out.trim().split('\n').pop();
  if (last === undefined || last === '') throw new Error('install-centrifugo.sh printed no path');
  centrifugoPath = last;
  return last;
}

function commandFor(
  peer: PeerName,
  port: number,
  pingSec: number,
  override: Record<string, unknown> = {},
  gyreDist?: string,
): { cmd: string; args: string[] } {
  const tsx = [process.execPath, '--import', 'tsx'] as const;
  switch (peer) {
    case 'gyre': {
      const config = writeConfig(peer, mergeConfig(centrifugoStyleConfig(port, pingSec), override));
      if (gyreDist !== undefined) return { cmd: process.execPath, args: [join(gyreDist, 'src', 'main.js'), '-c', config] };
      return { cmd: tsx[0], args: [...tsx.slice(1), 'src/main.ts', '-c', config] };
    }
    case 'centrifugo':
      return {
        cmd: centrifugoBinary(),
        args: ['-c', writeConfig(peer, mergeConfig(centrifugoStyleConfig(port, pingSec), override))],
      };
    case 'ws-bare':
    case 'socketio':
      return {
        cmd: tsx[0],
        args: [
          ...tsx.slice(1),
          `bench/peers/${peer}.ts`,
          '--port',
          String(port),
          '--api-key',
          BENCH_API_KEY,
          '--ping',
          String(pingSec),
        ],
      };
  }
}

async function startOnce(peer: PeerName, opts: StartOptions): Promise<RunningServer> {
  const port = await freePort();
  const pingSec = opts.pingIntervalSec ?? 25;
  const { cmd, args } = commandFor(peer, port, pingSec, opts.configOverride, opts.gyreDist);
  const child: Child = spawnChild(peer, cmd, args, { cwd: REPO_ROOT, env: { ...process.env, ...opts.env } });
  try {
    await waitForTcp(LOOPBACK, port, opts.readyTimeoutMs ?? 30_000, () => child.alive());
  } catch (err) {
    await child.stop(1000);
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`${peer}: ${msg}\n--- output ---\n${child.output().slice(-4000)}`);
  }
  const base = `${LOOPBACK}:${port}`;
  return {
    peer,
    pid: child.pid,
    port,
    clientUrl: peer === 'socketio' ? `http://${base}` : `ws://${base}/connection/websocket`,
    publishUrl: `http://${base}/api/publish`,
    apiKey: BENCH_API_KEY,
    hmacSecret: BENCH_HMAC_SECRET,
    protocol: peer === 'socketio' ? 'socketio' : 'centrifugo-json',
    output: () => child.output(),
    alive: () => child.alive(),
    stop: () => child.stop(),
  };
}

/** Starts a peer; retries twice if the freshly picked port was taken in between (or the child died early). */
export async function startServer(peer: PeerName, opts: StartOptions = {}): Promise<RunningServer> {
  let lastErr: unknown = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(peer, opts);
    } catch (err) {
      lastErr = err;
      const text = err instanceof Error ? err.message : '';
      if (!/EADDRINUSE|address already in use/i.test(text)) break;
    }
  }
  throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
}
