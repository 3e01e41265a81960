// Process plumbing for the side-by-side comparison: start Gyre (compiled) or Centrifugo with the same config on
// a loopback port, sample its /proc CPU and RSS, run gyre-bench as a child and watch its log lines.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HOST = '127.0.0.1';
export const HMAC = 'gyre-profile-secret';
export const API_KEY = 'gyre-profile-key';

export type ServerKind = 'gyre' | 'centrifugo';

export interface ServerOpts {
  /** Directory holding the compiled Gyre (its src/main.js). */
  gyreDist: string;
  centrifugoBin: string;
  /** Extra node flags for Gyre (e.g. --cpu-prof). */
  nodeFlags: string[];
  /** The `engine` config section (default: the memory engine). */
  engine?: Record<string, unknown>;
}

export interface Running {
  kind: ServerKind;
  pid: number;
  port: number;
  stop(): Promise<void>;
}

export function config(port: number, engine: Record<string, unknown> = { type: 'memory' }): Record<string, unknown> {
  return {
    http_server: { address: HOST, port },
    log: { level: 'error' },
    engine,
    client: { token: { hmac_secret_key: HMAC }, ping_interval: '25s', pong_timeout: '8s' },
    http_api: { key: API_KEY },
    channel: { without_namespace: { allow_subscribe_for_client: true } },
  };
}

function waitTcp(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const s = connect({ host: HOST, port });
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > until) reject(new Error(`port ${port} not open after ${timeoutMs} ms`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

export async function startServer(kind: ServerKind, port: number, o: ServerOpts): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), `gyre-profile-${kind}-`));
  const cfg = join(dir, 'config.json');
  writeFileSync(cfg, JSON.stringify(config(port, o.engine)));
  const cmd = kind === 'gyre' ? process.execPath : o.centrifugoBin;
  const args = kind === 'gyre' ? [...o.nodeFlags, join(o.gyreDist, 'src', 'main.js'), '-c', cfg] : ['-c', cfg];
  const child = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer): void => {
    out = (out + b.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  try {
    await waitTcp(port, 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${kind} did not start: ${String(err)}\n${out}`);
  }
  const pid = child.pid ?? -1;
  return {
    kind,
    pid,
    port,
    stop: async () => {
      child.kill('SIGTERM');
      if (!(await exited(child, 15_000))) {
        child.kill('SIGKILL');
        await exited(child, 5000);
      }
    },
  };
}

export interface Sample {
  at: number;
  cpuSec: number;
  rssKb: number;
}

export function sample(pid: number): Sample | null {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    const cpuSec = (Number(f[11]) + Number(f[12])) / 100;
    const m = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { at: performance.now(), cpuSec, rssKb: Number(m?.[1] ?? 0) };
  } catch {
    return null;
  }
}

export interface BenchRun {
  code: number | null;
  report: unknown;
  /** Server samples taken when a log line matched a marker, keyed by the marker name. */
  marks: Record<string, Sample>;
  log: string;
}

/**
 * Runs `node <cli> <args> --json <tmp>` (cli: bin/gyre-bench.js or a compiled loadtest/src/cli.js); samples the server pid each time a stderr line matches
 * one of `markers`, and once more when the generator exits ('exit').
 */
export function runBench(
  repo: string,
  cli: string,
  args: string[],
  serverPid: number,
  markers: Record<string, RegExp>,
  timeoutMs: number,
  /** Called when a marker line is seen (after the server was sampled), e.g. to sample other processes too. */
  onMark?: (name: string) => void,
): Promise<BenchRun> {
  const json = join(mkdtempSync(join(tmpdir(), 'gyre-profile-run-')), 'report.json');
  const child = spawn(process.execPath, [cli, ...args, '--json', json], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const marks: Record<string, Sample> = {};
  let log = '';
  let partial = '';
  const onData = (b: Buffer): void => {
    const text = partial + b.toString();
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      log += l + '\n';
      for (const [name, re] of Object.entries(markers)) {
        if (marks[name] === undefined && re.test(l)) {
          const s = sample(serverPid);
          if (s !== null) marks[name] = s;
          onMark?.(name);
        }
      }
    }
  };
  child.stderr?.on('data', onData);
  child.stdout?.on('data', (b: Buffer) => {
    log += b.toString();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(killer);
      const s = sample(serverPid);
      if (s !== null) marks['exit'] = s;
      let report: unknown = null;
      try {
        report = JSON.parse(readFileSync(json, 'utf8'));
      } catch {
        report = null;
      }
      resolve({ code, report, marks, log: log.slice(-20_000) });
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
