// Starts the real Centrifugo v6 binary (the wire-compatibility oracle) on a free loopback port with the same
// config keys Gyre reads, waits for GET /health = 200 and always kills it on stop() or process exit.
// Binary lookup: $CENTRIFUGO_BIN ("none" = pretend it is absent), then $GOBIN/centrifugo, ~/go/bin/centrifugo,
// then every $PATH entry.
// Install it with scripts/install-centrifugo.sh; tests skip their live part when findCentrifugo() is undefined.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { mergeConfig } from './gyre.js';
import { freePort } from './ports.js';
import { sleep } from './wait.js';

export interface CentrifugoProcess {
  /** ws://127.0.0.1:PORT/connection/websocket */
  url: string;
  /** http://127.0.0.1:PORT/api */
  apiUrl: string;
  baseUrl: string;
  port: number;
  pid: number;
  binary: string;
  stdout(): string;
  stderr(): string;
  stop(): Promise<void>;
}

const MAX_CAPTURE = 1024 * 1024;
const live = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of a usable centrifugo binary, or undefined when none is installed. */
export function findCentrifugo(): string | undefined {
  const candidates: string[] = [];
  const fromEnv = process.env['CENTRIFUGO_BIN'];
  if (fromEnv === 'none') return undefined;
  if (fromEnv !== undefined && fromEnv !== '') candidates.push(fromEnv);
  const gobin = process.env['GOBIN'];
  if (gobin !== undefined && gobin !== '') candidates.push(join(gobin, 'centrifugo'));
  candidates.push(join(homedir(), 'go', 'bin', 'centrifugo'));
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir !== '') candidates.push(join(dir, 'centrifugo'));
  }
  return candidates.find(executable);
}

async function healthy(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

export async function startCentrifugo(
  config: Record<string, unknown>,
  /** `port`: listen there (a restart on the same port) instead of a free one. */
  opts: { binary?: string; startTimeoutMs?: number; port?: number } = {},
): Promise<CentrifugoProcess> {
  const binary = opts.binary ?? findCentrifugo();
  if (binary === undefined) throw new Error('centrifugo binary not found (run scripts/install-centrifugo.sh)');
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'centrifugo-compat-'));
  const file = join(dir, 'config.json');
  const full = mergeConfig(
    { health: { enabled: true }, usage_stats: { disabled: true } },
    mergeConfig(config, { http_server: { address: '127.0.0.1', port } }),
  );
  writeFileSync(file, JSON.stringify(full, null, 2));
  const child = spawn(binary, ['-c', file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    if (out.length < MAX_CAPTURE) out += s;
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    if (err.length < MAX_CAPTURE) err += s;
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      live.delete(child);
      rmSync(dir, { recursive: true, force: true });
      resolve();
    });
  });
  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exit;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 15_000);
  for (let i = 0; i < 10_000; i++) {
    if (exited) throw new Error(`centrifugo exited before becoming healthy\nstdout:\n${out}\nstderr:\n${err}`);
    if (await healthy(port)) break;
    if (Date.now() >= deadline) {
      await stop();
      throw new Error(`centrifugo did not become healthy in time\nstdout:\n${out}\nstderr:\n${err}`);
    }
    await sleep(100);
  }
  return {
    url: `ws://127.0.0.1:${port}/connection/websocket`,
    apiUrl: `http://127.0.0.1:${port}/api`,
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? -1,
    binary,
    stdout: () => out,
    stderr: () => err,
    stop,
  };
}
