// Starts a real Gyre process (`node --import tsx src/main.ts -c <file> -p <port> -a 127.0.0.1`) on a free
// loopback port for end-to-end tests, waits for GET /health = 200 and always kills it on stop() or process exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as toToml } from 'smol-toml';
import { stringify as toYaml } from 'yaml';
import { freePort } from './ports.js';
import { sleep } from './wait.js';

export type ConfigFormat = 'json' | 'yaml' | 'toml';

export interface StartOptions {
  format?: ConfigFormat;
  env?: Record<string, string>;
  args?: string[];
  /** Use this existing config file instead of writing `config` (which is then ignored). */
  configFile?: string;
  /**
   * Deadline for the /health probe. Default 30 s (env GYRE_COMPAT_START_TIMEOUT_MS overrides): a cold start costs
   * ~1.5 s of CPU, and on a shared 2-core machine under load 15–19 that took more than 15 s of wall time.
   */
  startTimeoutMs?: number;
  /** Start through the launcher `node bin/gyre.js` (as users do) instead of `node --import tsx src/main.ts`. */
  bin?: boolean;
  /** Put the port into the written config file (http_server.port/address) instead of passing -p/-a flags. */
  portInFile?: boolean;
  /**
   * The main port serves TLS (http_server.tls in the config): URLs become wss:// and https://, and the start-up
   * probe checks GET /health over HTTPS trusting this CA (PEM).
   */
  tlsCa?: string;
  /** Probe this URL (plain HTTP) instead of the main port's /health, e.g. a separate internal port's. */
  probeUrl?: string;
  /** A command that execs node with its own arguments appended, e.g. ['prlimit', '--nofile=256:4096']. */
  wrap?: string[];
  /** Listen on this port instead of a free one (a node restarted behind a proxy keeps its address). */
  port?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface GyreProcess {
  /** ws://127.0.0.1:PORT/connection/websocket */
  url: string;
  /** http://127.0.0.1:PORT/api */
  apiUrl: string;
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  port: number;
  pid: number;
  /** The config file the process was started with (tests may rewrite it, e.g. before SIGHUP). */
  configFile: string;
  stdout(): string;
  stderr(): string;
  /** Settles when the process exits (for whatever reason). */
  exited: Promise<ExitInfo>;
  /** Sends `signal` (SIGTERM by default), then SIGKILL after `killAfterMs` (5 s); resolves with the exit. */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<ExitInfo>;
}

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAX_CAPTURE = 2 * 1024 * 1024;
/** Running children and the temp directory holding each one's config file. */
const live = new Map<ChildProcess, string>();

function killAll(): void {
  for (const [child, dir] of live) {
    try {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    } catch {
      /* already gone */
    }
  }
}

// A failing or cancelled test file must never leave a server behind: kill children on exit, and on the signals
// the test runner uses to cancel a file (then die of the same signal, as the default handler would).
process.once('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    killAll();
    process.kill(process.pid, sig);
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects (arrays and scalars from `b` replace those of `a`). */
export function mergeConfig(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isRecord(prev) && isRecord(v) ? mergeConfig(prev, v) : v;
  }
  return out;
}

export function serializeConfig(config: Record<string, unknown>, format: ConfigFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(config, null, 2);
    case 'yaml':
      return toYaml(config);
    case 'toml':
      return toToml(config);
  }
}

async function healthy(url: string, ca: string | undefined): Promise<boolean> {
  if (ca !== undefined) {
    return await new Promise<boolean>((resolve) => {
      const req = httpsGet(url, { ca, timeout: 1000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
    });
  }
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

export async function startGyre(config: Record<string, unknown>, opts: StartOptions = {}): Promise<GyreProcess> {
  const format = opts.format ?? 'json';
  const dir = mkdtempSync(join(tmpdir(), 'gyre-compat-'));
  const port = opts.port ?? (await freePort());
  let file = opts.configFile;
  if (file === undefined) {
    file = join(dir, `config.${format}`);
    const listen = opts.portInFile === true ? { http_server: { port, address: '127.0.0.1' } } : {};
    const full = mergeConfig(mergeConfig({ health: { enabled: true } }, listen), config);
    writeFileSync(file, serializeConfig(full, format));
  }
  const entry = opts.bin === true ? ['bin/gyre.js'] : ['--import', 'tsx', 'src/main.ts'];
  const listenFlags = opts.portInFile === true ? [] : ['-p', String(port), '-a', '127.0.0.1'];
  const wrap = opts.wrap ?? [];
  const child = spawn(
    wrap[0] ?? process.execPath,
    [...wrap.slice(1), ...(wrap.length > 0 ? [process.execPath] : []), ...entry, '-c', file, ...listenFlags, ...(opts.args ?? [])],
    // Start-up warm-up off unless a test asks for it (GYRE_HTTP_SERVER_WARMUP_CONNECTIONS in opts.env): it adds ~1 s per start.
    { cwd: REPO_ROOT, env: { GYRE_HTTP_SERVER_WARMUP_CONNECTIONS: '0', ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  live.set(child, dir);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    if (out.length < MAX_CAPTURE) out += s;
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    if (err.length < MAX_CAPTURE) err += s;
  });
  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    const done = (info: ExitInfo): void => {
      if (exitInfo !== undefined) return;
      live.delete(child);
      exitInfo = info;
      rmSync(dir, { recursive: true, force: true });
      resolve(info);
    };
    child.once('exit', (code, signal) => done({ code, signal }));
    child.once('error', (e: Error) => {
      err += `\n[spawn error] ${e.message}`;
      done({ code: null, signal: null });
    });
  });

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 5000): Promise<ExitInfo> => {
    if (exitInfo !== undefined) return exitInfo;
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const killer = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        if (exitInfo === undefined) child.kill('SIGKILL');
        resolve();
      }, killAfterMs);
    });
    const info = await Promise.race([exited, killer.then(() => exited)]);
    if (timer !== undefined) clearTimeout(timer);
    return info;
  };

  const envTimeout = Number(process.env['GYRE_COMPAT_START_TIMEOUT_MS'] ?? '');
  const startTimeoutMs = opts.startTimeoutMs ?? (envTimeout > 0 ? envTimeout : 30_000);
  const deadline = Date.now() + startTimeoutMs;
  for (let i = 0; i < 10_000; i++) {
    if (exitInfo !== undefined) {
      throw new Error(
        `gyre exited before becoming healthy (code ${String(exitInfo.code)}, signal ${String(exitInfo.signal)})\n` +
          `stdout:\n${out}\nstderr:\n${err}`,
      );
    }
    const scheme = opts.tlsCa !== undefined && opts.probeUrl === undefined ? 'https' : 'http';
    if (await healthy(opts.probeUrl ?? `${scheme}://127.0.0.1:${port}/health`, opts.probeUrl === undefined ? opts.tlsCa : undefined)) break;
    if (Date.now() >= deadline) {
      await stop('SIGKILL', 1000);
      throw new Error(
        `gyre did not answer GET /health with 200 within ${startTimeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`,
      );
    }
    await sleep(100);
  }

  const secure = opts.tlsCa !== undefined ? 's' : '';
  return {
    url: `ws${secure}://127.0.0.1:${port}/connection/websocket`,
    apiUrl: `http${secure}://127.0.0.1:${port}/api`,
    baseUrl: `http${secure}://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? -1,
    configFile: file,
    stdout: () => out,
    stderr: () => err,
    exited,
    stop,
  };
}
