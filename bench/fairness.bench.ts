// Fairness benchmark: does one client or one API call stall everyone else? In ONE run against Gyre and real
// Centrifugo v6 (same config keys), measures the latency of `GET /health` and of another client's `rpc` round
// trip while
//   flood: one client writes 50 WebSocket frames of 1,900 `rpc` commands in one TCP write and reads the replies;
//   frame: one client sends ONE 3.4 MB frame of 100,000 `rpc` commands (websocket.message_size_limit raised);
//   batch: one authenticated POST /api/batch of 300,000 `info` commands (3.4 MB; `--batch 873810` is the 10 MB
//          case of issue 7, but Centrifugo then needs ~10 GB of RAM for it: too much for one run on a shared box);
// plus `idle` (the same probes with no load) as the floor. Each scenario runs --reps times (default 3) per
// peer; the table shows medians over reps of each rep's p50 / p99 / max, the load's own duration and the
// server's peak RSS, and Gyre ÷ Centrifugo ratios. The load runs in a worker thread; the probes run on the main
// thread, one request at a time each, 5 ms apart.
// Run: node --import tsx bench/fairness.bench.ts [--reps N] [--only gyre,centrifugo] [--scenarios idle,flood,frame,batch]
//        [--quick] [--batch N] [--rss-cap MB]
//   --quick: the batch has 100,000 commands and the frame 20,000 (smoke run); --batch N: N info commands.
// A server whose RSS passes --rss-cap MB (default 8000) is killed and the scenario marked (shared machine).
// Output: the table on stdout and bench/results/fairness-<timestamp>/{table.md,results.json}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import WebSocket from 'ws';
import { signHs256 } from '../src/auth/sign.js';
import type { LoadEvent, LoadJob } from './lib/fairness-load.js';
import { sampleProcess } from './lib/proc-stats.js';
import { centrifugoBinary, REPO_ROOT, startServer, type PeerName, type RunningServer } from './lib/servers.js';

const args = process.argv.slice(2);
function flag(name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}
const REPS = Math.max(1, Math.min(10, Number(flag('--reps') ?? 3) || 3));
const QUICK = args.includes('--quick');
const ONLY = (flag('--only') ?? 'gyre,centrifugo').split(',').filter((p): p is 'gyre' | 'centrifugo' => p === 'gyre' || p === 'centrifugo');
const BATCH_COMMANDS = Math.max(1, Math.min(873_810, Number(flag('--batch') ?? (QUICK ? 100_000 : 300_000)) || 300_000));
const FRAME_COMMANDS = QUICK ? 20_000 : 100_000;
const IDLE_MS = 1000;
const RSS_CAP_BYTES = Math.max(256, Number(flag('--rss-cap') ?? 8000) || 8000) * 1024 * 1024;
const LOAD_TIMEOUT_MS = 120_000;
const PROBE_TIMEOUT_MS = 60_000;
const PROBE_GAP_MS = 5;
/** Bound on samples per probe loop per scenario (also bounded by the load's timeout). */
const MAX_SAMPLES = 50_000;

type Scenario = 'idle' | 'flood' | 'frame' | 'batch';
const ALL_SCENARIOS: readonly Scenario[] = ['idle', 'flood', 'frame', 'batch'];
const SCENARIOS: readonly Scenario[] = (flag('--scenarios') ?? ALL_SCENARIOS.join(','))
  .split(',')
  .filter((x): x is Scenario => (ALL_SCENARIOS as readonly string[]).includes(x));

const CONFIG_OVERRIDE = {
  health: { enabled: true },
  rpc: { ping: { enabled: true, method: 'ping' } },
  websocket: { message_size_limit: 8 * 1024 * 1024 },
};

interface Stats {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

interface RepResult {
  peer: PeerName;
  scenario: Scenario;
  rep: number;
  health: Stats;
  rpc: Stats;
  loadMs: number | null;
  loadReplies: number | null;
  loadExpected: number | null;
  loadCloseCode: number | null;
  loadStatus: number | null;
  loadError: string | null;
  peakRssMb: number;
}

function stats(samples: number[]): Stats {
  if (samples.length === 0) return { n: 0, p50: NaN, p99: NaN, max: NaN };
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))]!;
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s[s.length - 1]! };
}

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A connected client that times rpc round trips. */
class RpcProber {
  private nextId = 2;
  private waiting = new Map<number, () => void>();
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      for (const line of data.toString('utf8').split('\n')) {
        const id = (JSON.parse(line) as { id?: number }).id;
        if (id === undefined) continue;
        const w = this.waiting.get(id);
        if (w !== undefined) {
          this.waiting.delete(id);
          w();
        }
      }
    });
  }

  static async open(url: string, token: string): Promise<RpcProber> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const p = new RpcProber(ws);
    await p.roundTrip({ id: 1, connect: { token } }, 1);
    return p;
  }

  private roundTrip(cmd: object, id: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve();
      }, PROBE_TIMEOUT_MS);
      this.waiting.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.send(JSON.stringify(cmd));
    });
  }

  async once(): Promise<number> {
    const id = this.nextId++;
    const t = performance.now();
    await this.roundTrip({ id, rpc: { method: 'ping' } }, id);
    return performance.now() - t;
  }

  close(): void {
    this.ws.terminate();
  }
}

async function healthOnce(base: string): Promise<number> {
  const t = performance.now();
  try {
    const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await res.arrayBuffer();
  } catch {
    // A timeout counts as its full duration.
  }
  return performance.now() - t;
}

/** Runs `probe` back to back (PROBE_GAP_MS apart) until `stop()` is true; returns the samples. */
async function probeLoop(probe: () => Promise<number>, stop: () => boolean): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < MAX_SAMPLES && !stop(); i++) {
    out.push(await probe());
    await sleep(PROBE_GAP_MS);
  }
  return out;
}

const WORKER_BOOTSTRAP = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then(({ register }) => { register(); return import(${JSON.stringify(new URL('./lib/fairness-load.ts', import.meta.url).href)}); })`;

/** Starts the load in a worker; `started` resolves when it is on the wire, `done` with its result. */
function startLoad(job: LoadJob): { started: Promise<void>; done: Promise<Extract<LoadEvent, { event: 'done' }>> } {
  const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: job });
  let onStarted: () => void = () => undefined;
  const started = new Promise<void>((r) => (onStarted = r));
  const done = new Promise<Extract<LoadEvent, { event: 'done' }>>((resolve, reject) => {
    worker.on('message', (m: LoadEvent) => {
      if (m.event === 'started') onStarted();
      else {
        onStarted();
        resolve(m);
        void worker.terminate();
      }
    });
    worker.on('error', (err) => {
      onStarted();
      reject(err);
    });
  });
  return { started, done };
}

async function runScenario(server: RunningServer, scenario: Scenario, rep: number, token: string): Promise<RepResult> {
  const base = `http://127.0.0.1:${server.port}`;
  const prober = await RpcProber.open(server.clientUrl, token);
  let peak = 0;
  let overCap = false;
  const sampler = setInterval(() => {
    const s = sampleProcess(server.pid);
    if (s !== null && s.rssBytes > peak) peak = s.rssBytes;
    if (s !== null && s.rssBytes > RSS_CAP_BYTES && !overCap) {
      overCap = true;
      void server.stop();
    }
  }, 50);
  try {
    let finished = false;
    let load: { started: Promise<void>; done: Promise<Extract<LoadEvent, { event: 'done' }>> } | null = null;
    if (scenario === 'flood') {
      load = startLoad({ mode: 'flood', url: server.clientUrl, token, frames: 50, perFrame: 1900, timeoutMs: LOAD_TIMEOUT_MS });
    } else if (scenario === 'frame') {
      load = startLoad({ mode: 'flood', url: server.clientUrl, token, frames: 1, perFrame: FRAME_COMMANDS, timeoutMs: LOAD_TIMEOUT_MS });
    } else if (scenario === 'batch') {
      load = startLoad({ mode: 'batch', apiUrl: `${base}/api`, apiKey: server.apiKey, commands: BATCH_COMMANDS, timeoutMs: LOAD_TIMEOUT_MS });
    }
    if (load !== null) await load.started;
    else setTimeout(() => (finished = true), IDLE_MS);
    const result = load?.done.then((r) => {
      finished = true;
      return r;
    });
    const [health, rpc] = await Promise.all([
      probeLoop(() => healthOnce(base), () => finished),
      probeLoop(() => prober.once(), () => finished),
    ]);
    const r = result === undefined ? null : await result;
    return {
      peer: server.peer,
      scenario,
      rep,
      health: stats(health),
      rpc: stats(rpc),
      loadMs: r?.ms ?? null,
      loadReplies: r?.replies ?? null,
      loadExpected: r?.expected ?? null,
      loadCloseCode: r?.closeCode ?? null,
      loadStatus: r?.status ?? null,
      loadError: overCap ? `killed: RSS over ${RSS_CAP_BYTES / 1024 / 1024} MB` : (r?.error ?? null),
      peakRssMb: peak / 1024 / 1024,
    };
  } finally {
    clearInterval(sampler);
    prober.close();
  }
}

const fmt = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '–');

function table(results: RepResult[]): string {
  const lines: string[] = [];
  lines.push(
    '| scenario | peer | /health p50 | p99 | max | rpc p50 | p99 | max | load ms | load replies | peak RSS MB |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  );
  const med = (rs: RepResult[], f: (r: RepResult) => number | null): number => median(rs.map((r) => f(r) ?? NaN));
  for (const scenario of SCENARIOS) {
    const byPeer = new Map<PeerName, RepResult[]>();
    for (const r of results) if (r.scenario === scenario) byPeer.set(r.peer, [...(byPeer.get(r.peer) ?? []), r]);
    for (const peer of ONLY) {
      const rs = byPeer.get(peer) ?? [];
      if (rs.length === 0) continue;
      const replies = rs.map((r) => (r.loadReplies === null ? '–' : `${r.loadReplies}/${r.loadExpected ?? 0}${r.loadCloseCode !== null ? ` close ${r.loadCloseCode}` : ''}${r.loadError !== null ? ` ${r.loadError}` : ''}`));
      lines.push(
        `| ${scenario} | ${peer} | ${fmt(med(rs, (r) => r.health.p50))} | ${fmt(med(rs, (r) => r.health.p99))} | ${fmt(med(rs, (r) => r.health.max))} | ${fmt(med(rs, (r) => r.rpc.p50))} | ${fmt(med(rs, (r) => r.rpc.p99))} | ${fmt(med(rs, (r) => r.rpc.max))} | ${fmt(med(rs, (r) => r.loadMs), 0)} | ${[...new Set(replies)].join(', ')} | ${fmt(med(rs, (r) => r.peakRssMb), 0)} |`,
      );
    }
    const g = byPeer.get('gyre') ?? [];
    const c = byPeer.get('centrifugo') ?? [];
    if (g.length > 0 && c.length > 0) {
      const ratio = (f: (r: RepResult) => number | null): string => fmt(med(g, f) / med(c, f), 2);
      lines.push(
        `| ${scenario} | **Gyre ÷ Centrifugo** | ${ratio((r) => r.health.p50)} | ${ratio((r) => r.health.p99)} | ${ratio((r) => r.health.max)} | ${ratio((r) => r.rpc.p50)} | ${ratio((r) => r.rpc.p99)} | ${ratio((r) => r.rpc.max)} | ${ratio((r) => r.loadMs)} | | ${ratio((r) => r.peakRssMb)} |`,
      );
    }
  }
  return lines.join('\n');
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const results: RepResult[] = [];
  let centrifugoVersion = '';
  if (ONLY.includes('centrifugo')) {
    centrifugoVersion = execFileSync(centrifugoBinary(), ['version'], { encoding: 'utf8' }).trim();
  }
  for (const peer of ONLY) {
    const server = await startServer(peer, { configOverride: CONFIG_OVERRIDE });
    try {
      const token = signHs256({ sub: 'bench-fair' }, server.hmacSecret);
      // Let a fresh server settle (Gyre's warm-up, Go's first GC) before measuring.
      await sleep(1000);
      for (let rep = 1; rep <= REPS; rep++) {
        for (const scenario of SCENARIOS) {
          const r = await runScenario(server, scenario, rep, token);
          results.push(r);
          console.error(
            `${peer} ${scenario} rep ${rep}: health p50 ${fmt(r.health.p50)} max ${fmt(r.health.max)} ms (n ${r.health.n}), ` +
              `rpc p50 ${fmt(r.rpc.p50)} max ${fmt(r.rpc.max)} ms (n ${r.rpc.n}), load ${fmt(r.loadMs ?? NaN, 0)} ms ` +
              `${r.loadReplies ?? '-'}/${r.loadExpected ?? '-'} close ${r.loadCloseCode ?? '-'} status ${r.loadStatus ?? '-'} ${r.loadError ?? ''}, peak RSS ${fmt(r.peakRssMb, 0)} MB`,
          );
          await sleep(500);
          if (!server.alive()) {
            if (r.loadError?.startsWith('killed') === true) break;
            throw new Error(`${peer} died:\n${server.output().slice(-2000)}`);
          }
        }
        if (!server.alive()) break;
      }
    } finally {
      await server.stop();
    }
  }
  const header = [
    `command: node --import tsx bench/fairness.bench.ts ${args.join(' ')}`.trim(),
    `commit ${gitCommit()}, Node ${process.version}, ${centrifugoVersion || 'no Centrifugo'}, ${cpus().length} CPUs, load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
    `reps ${REPS}; flood 50×1,900 rpc; frame 1×${FRAME_COMMANDS.toLocaleString('en')} rpc; batch ${BATCH_COMMANDS.toLocaleString('en')} info; times in ms (medians over reps)`,
  ];
  const md = `${header.map((h) => `- ${h}`).join('\n')}\n\n${table(results)}\n`;
  console.log(md);
  const dir = join(REPO_ROOT, 'bench/results', `fairness-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'table.md'), md);
  writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2));
  console.error(`written to ${dir}`);
}

await main();
