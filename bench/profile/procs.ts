// Process plumbing for the side-by-side comparison: start Gyre (compiled) or Centrifugo with the same config on
// a loopback port, sample its /proc CPU and RSS, run gyre-bench as a child and watch its log lines.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  /**
   * Gyre without its adaptive admission guard (`http_server.handshake_wait_budget: 0`): on a loaded machine it
   * answers part of a 10,000 burst 503 (the generator does not retry), which hides the cost per connection.
   */
  noGuard?: boolean;
  /** Gyre worker processes (`--workers N`); absent or 1 = one process. */
  workers?: number;
  /** node.workers_scheduling: 'none' (Gyre's default, workers accept) or 'rr' (the primary accepts). */
  sched?: 'rr' | 'none';
  /** Extra Gyre command-line flags (e.g. `--http_server.warmup_connections 2000`). */
  gyreArgs?: string[];
  /** `node.worker_node_args` in the config (node/V8 flags for the workers only); absent = the build's default. */
  workerArgs?: string[];
  /** Appends the server's stdout and stderr to this file too (e.g. --trace-opt output of every worker). */
  serverLog?: string;
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

/** Until the API's info lists `n` nodes (every worker serving). */
async function waitNodes(port: number, n: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const r = await fetch(`http://${HOST}:${port}/api/info`, { method: 'POST', headers: { 'X-API-Key': API_KEY }, body: '{}' });
      const j = (await r.json()) as { result?: { nodes?: unknown[] } };
      if ((j.result?.nodes?.length ?? 0) >= n) return;
    } catch {
      /* not yet */
    }
    await sleep(200);
  }
  throw new Error(`info did not list ${n} nodes within ${timeoutMs} ms`);
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
  const c = config(port, o.engine);
  if (kind === 'gyre' && o.noGuard === true) (c['http_server'] as Record<string, unknown>)['handshake_wait_budget'] = '0';
  if (kind === 'gyre' && o.workerArgs !== undefined) c['node'] = { worker_node_args: o.workerArgs };
  writeFileSync(cfg, JSON.stringify(c));
  const cmd = kind === 'gyre' ? process.execPath : o.centrifugoBin;
  const workers = kind === 'gyre' ? (o.workers ?? 1) : 1;
  const args = kind === 'gyre' ? [...o.nodeFlags, join(o.gyreDist, 'src', 'main.js'), '-c', cfg] : ['-c', cfg];
  if (workers > 1) args.push('--workers', String(workers));
  if (workers > 1 && o.sched !== undefined) args.push('--node.workers_scheduling', o.sched);
  if (kind === 'gyre' && o.gyreArgs !== undefined) args.push(...o.gyreArgs);
  const child = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const logFile = o.serverLog;
  const keep = (b: Buffer): void => {
    out = (out + b.toString()).slice(-8000);
    if (logFile !== undefined) appendFileSync(logFile, b);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  try {
    await waitTcp(port, 30_000);
    if (workers > 1) await waitNodes(port, workers, 60_000);
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

/** CPU and RSS of `pid` alone (without its descendants). */
export function sampleOne(pid: number): Sample | null {
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

/** `pid` and its descendants (Gyre's worker processes), from each process's parent in /proc/<pid>/stat. */
export function processTree(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const st = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const [c, p] of parent) if (p === out[i]) out.push(c);
  return out;
}

/** CPU and RSS of `pid` plus its descendants: one process, or a Gyre primary with its workers. */
export function sample(pid: number): Sample | null {
  const root = sampleOne(pid);
  if (root === null) return null;
  let children: number[] = [];
  try {
    children = processTree(pid).slice(1);
  } catch {
    children = [];
  }
  for (const c of children) {
    const s = sampleOne(c);
    if (s === null) continue;
    root.cpuSec += s.cpuSec;
    root.rssKb += s.rssKb;
  }
  return root;
}

/** Per-process CPU seconds of the tree at `pid` (for how the work spread over worker processes). */
export function cpuByProcess(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of processTree(pid)) {
    const s = sampleOne(p);
    if (s !== null) out.set(p, s.cpuSec);
  }
  return out;
}

export interface BenchRun {
  code: number | null;
  report: unknown;
  /** Server samples taken when a log line matched a marker, keyed by the marker name. */
  marks: Record<string, Sample>;
  log: string;
}

/** Established TCP connections on local `port`, per owning process (`ss -tnp`). */
export function socketsByPid(port: number): Record<string, number> {
  const r = spawnSync('ss', ['-Htnp', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8', timeout: 20_000, maxBuffer: 64 * 1024 * 1024 });
  const out: Record<string, number> = {};
  for (const line of (r.stdout ?? '').split('\n')) {
    const m = /pid=(\d+)/.exec(line);
    if (m !== null) out[m[1]!] = (out[m[1]!] ?? 0) + 1;
  }
  return out;
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

/** User + system CPU seconds per thread name of process `pid` (the main thread is "main", threads of one name summed). */
export function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      /* gone */
    }
  }
  return out;
}
