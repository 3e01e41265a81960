// Side-by-side measurement of Gyre (compiled) and Centrifugo against the four performance goals, with the
// gyre-bench load generator. Each repetition runs every selected scenario against both servers back to back
// (order alternates per repetition); the summary gives medians and Gyre/Centrifugo ratios.
//
//   node --import tsx bench/profile/compare.ts [--reps 3] [--goals connect,idle,fan1,fan1000]
//        [--gyre-dist DIR] [--bench-cli FILE] [--out FILE.json] [--node-flags "--max-semi-space-size=…"]
//        [--engine memory|redis] [--workers N] [--sched none|rr] [--servers gyre,centrifugo]
//        [--gyre-args "--http_server.warmup_connections 2000"]
//
// --workers: Gyre runs with `--workers N` (server CPU and RSS are summed over the primary and its workers);
// --sched: how connections reach them (node.workers_scheduling; Gyre's default none). The connect goal then
// also reports how the connections spread over the processes (`ss -tnp` when the burst is done).
//
// --engine redis: one redis-server (no persistence) is started for the whole run and every server uses it with
// its own prefix; the connect goal then also reports Redis CPU and SUBSCRIBE commands during the burst.
//
// --gyre-dist: directory with the compiled Gyre (default: dist/ after scripts/ensure-build.mjs).
// --bench-cli: the gyre-bench entry (default bin/gyre-bench.js; pass a frozen dist/loadtest/src/cli.js to keep
// the generator fixed while its sources change).
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/harness/ports.js';
import { API_KEY, HMAC, HOST, cpuByProcess, runBench, sample, socketsByPid, sleep, startServer } from './procs.js';
import type { BenchRun, Running, Sample, ServerKind, ServerOpts } from './procs.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Args {
  reps: number;
  goals: string[];
  gyreDist: string;
  benchCli: string;
  out: string | null;
  nodeFlags: string[];
  servers: ServerKind[];
  engine: 'memory' | 'redis';
  noGuard: boolean;
  workers: number;
  sched: 'rr' | 'none' | undefined;
  gyreArgs: string[];
}

/** The run's redis-server when --engine redis. */
interface RedisRun {
  port: number;
  pid: number;
  child: ChildProcess;
}
let redisRun: RedisRun | undefined;

function redisCli(args: string[]): string {
  if (redisRun === undefined) return '';
  return spawnSync('redis-cli', ['-p', String(redisRun.port), ...args], { encoding: 'utf8' }).stdout;
}

/** Calls of SUBSCRIBE (and friends) so far on the run's Redis. */
function redisSubscribeCalls(): number {
  const m = /^cmdstat_subscribe:calls=(\d+)/m.exec(redisCli(['info', 'commandstats']));
  return m === null ? 0 : Number(m[1]);
}

async function startRedis(): Promise<RedisRun> {
  const port = 16_300 + Math.floor(Math.random() * 1000);
  const child = spawn('redis-server', ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') {
      return { port, pid: child.pid ?? -1, child };
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not start');
}

function parseArgs(argv: string[]): Args {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    reps: Number(get('--reps') ?? 3),
    goals: (get('--goals') ?? 'connect,idle,fan1,fan1000').split(','),
    gyreDist: resolve(get('--gyre-dist') ?? join(REPO, 'dist')),
    benchCli: resolve(get('--bench-cli') ?? join(REPO, 'bin', 'gyre-bench.js')),
    out: get('--out') ?? null,
    nodeFlags: (get('--node-flags') ?? '').split(' ').filter((s) => s !== ''),
    servers: (get('--servers') ?? 'gyre,centrifugo').split(',') as ServerKind[],
    engine: get('--engine') === 'redis' ? 'redis' : 'memory',
    noGuard: argv.includes('--no-guard'),
    workers: Number(get('--workers') ?? 1),
    sched: get('--sched') as 'rr' | 'none' | undefined,
    gyreArgs: (get('--gyre-args') ?? '').split(' ').filter((s) => s !== ''),
  };
}

const SRC_IPS = '127.0.0.1-127.0.0.4';

type Metrics = Record<string, number | null>;

interface Goal {
  /** gyre-bench arguments after the endpoint options. */
  args: string[];
  markers: Record<string, RegExp>;
  timeoutMs: number;
  extract(r: BenchRun, pid: number, before: Sample): Metrics;
}

interface Report {
  clients: { failed: number; subscribed: number };
  timeToSubscribed: { p50: number; p99: number; max: number };
  stages: Array<{ deliveries: number; deliveriesPerSec: number; expectedDeliveries: number; latency: { p50: number; p99: number; max: number }; publish: { ok: number; sent: number } }>;
  server: { rssPerConnectionKb: number | null; rssAfterKb: number; rssBeforeKb: number; cpuPercent: number } | null;
}

function rep(r: BenchRun): Report {
  if (r.report === null) throw new Error(`no report (exit ${String(r.code)}):\n${r.log.slice(-3000)}`);
  return r.report as Report;
}

function cpuBetween(a: Sample | undefined, b: Sample | undefined): number | null {
  return a === undefined || b === undefined ? null : b.cpuSec - a.cpuSec;
}

/**
 * Fan-out with staged publish rates `rates` (a final 1/s stage is appended so that the start of each measured
 * stage and of the next one mark the server CPU window). Metrics per stage: `<name>@<rate>`.
 */
function fanoutGoal(clients: number, channels: number, rates: number[], durSec: number): Goal {
  const n = rates.length + 1;
  const markers: Record<string, RegExp> = {};
  for (let i = 1; i <= n; i++) markers[`s${i}`] = new RegExp(`^stage ${i}/${n}`);
  return {
    // Subscribers connect on a ramp: this goal measures delivery, not the connect burst.
    args: ['fanout', '-c', String(clients), '--channels', String(channels), '--publish-rate', [...rates, 1].join(','),
      '-d', `${durSec}s`, '--rate', '2000', '--connect-timeout', '30s', '--timeout', '300s'],
    markers,
    timeoutMs: 360_000,
    extract(r) {
      const j = rep(r);
      const out: Metrics = { failed: j.clients.failed };
      rates.forEach((rate, i) => {
        const st = j.stages[i];
        const cpu = cpuBetween(r.marks[`s${i + 1}`], r.marks[`s${i + 2}`]);
        const deliveries = st?.deliveries ?? 0;
        out[`deliveries@${rate}`] = deliveries;
        out[`deliveriesPerSec@${rate}`] = st?.deliveriesPerSec ?? null;
        out[`expected@${rate}`] = st?.expectedDeliveries ?? null;
        out[`publishedOk@${rate}`] = st?.publish.ok ?? null;
        out[`serverCpuSec@${rate}`] = cpu;
        out[`cpuUsPerDelivery@${rate}`] = cpu !== null && deliveries > 0 ? (cpu / deliveries) * 1e6 : null;
        out[`latP50ms@${rate}`] = st?.latency.p50 ?? null;
        out[`latP99ms@${rate}`] = st?.latency.p99 ?? null;
      });
      return out;
    },
  };
}

const GOALS: Record<string, Goal> = {
  connect: {
    // --hold: the clients stay connected while `ss` counts them per process (the CPU window ends before).
    args: ['connect', '-c', '10000', '--rate', '0', '--hold', '3s', '--connect-timeout', '30s', '--timeout', '120s'],
    markers: { done: /^connect phase:/ },
    timeoutMs: 180_000,
    extract(r, pid, before) {
      const j = rep(r);
      const cpu = cpuBetween(before, r.marks['done']);
      // With workers: the primary's CPU and the busiest worker's, over the same window.
      const split: Metrics = {};
      if (cpuByPidBefore !== null && cpuByPidAtDone !== null && cpuByPidAtDone.size > 1) {
        const d = (p: number): number => (cpuByPidAtDone?.get(p) ?? 0) - (cpuByPidBefore?.get(p) ?? 0);
        split['primaryCpuSec'] = d(pid);
        split['maxWorkerCpuSec'] = Math.max(...[...cpuByPidAtDone.keys()].filter((p) => p !== pid).map(d));
      }
      const redis = redisRun !== undefined ? { redisCpuSec: cpuBetween(redisBefore, redisAtDone), redisSubscribeCalls: redisSubsAtDone - redisSubsBefore } : {};
      // Share of the connections held by the busiest process (0.5 = even over 2 workers; 1 = one took all).
      const counts = Object.values(spreadAtDone ?? {});
      const held = counts.reduce((x, y) => x + y, 0);
      return {
        ...redis,
        ...split,
        busiestShare: counts.length > 0 && held > 0 ? Math.max(...counts) / held : null,
        processesHolding: counts.length,
        failed: j.clients.failed,
        subscribed: j.clients.subscribed,
        ttsP50ms: j.timeToSubscribed.p50,
        ttsP99ms: j.timeToSubscribed.p99,
        ttsMaxms: j.timeToSubscribed.max,
        serverCpuSec: cpu,
      };
    },
  },
  idle: {
    args: ['idle', '-c', '15000', '--rate', '2000', '-d', '20s', '--connect-timeout', '30s', '--timeout', '180s'],
    markers: { hold: /^holding / },
    timeoutMs: 240_000,
    extract(r, _pid, before) {
      const j = rep(r);
      const s = j.server;
      const held = r.marks['hold'];
      return {
        failed: j.clients.failed,
        rssPerConnKb: s?.rssPerConnectionKb ?? null,
        rssBeforeKb: before.rssKb,
        rssAfterKb: s?.rssAfterKb ?? null,
        rssAtHoldStartKb: held?.rssKb ?? null,
        idleCpuPercent: s?.cpuPercent ?? null,
      };
    },
  },
  // 1 channel × 10,000 subscribers: stage 5/s is the latency goal, both stages give CPU per delivery.
  fan1: fanoutGoal(10_000, 1, [5, 10], 15),
  fan1000: fanoutGoal(10_000, 1000, [1000], 10),
};

function median(xs: number[]): number | null {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

async function runOne(kind: ServerKind, goalName: string, port: number, a: Args): Promise<Metrics> {
  const goal = GOALS[goalName];
  if (goal === undefined) throw new Error(`unknown goal ${goalName}`);
  const opts: ServerOpts = {
    gyreDist: a.gyreDist,
    centrifugoBin: process.env['CENTRIFUGO_BIN'] ?? join(homedir(), 'go', 'bin', 'centrifugo'),
    nodeFlags: a.nodeFlags,
    workers: a.workers,
    gyreArgs: a.gyreArgs,
    ...(a.sched !== undefined ? { sched: a.sched } : {}),
  };
  if (a.noGuard) opts.noGuard = true;
  if (redisRun !== undefined) opts.engine = { type: 'redis', redis: { address: [`${HOST}:${redisRun.port}`], prefix: `cmp-${kind}-${port}` } };
  const srv: Running = await startServer(kind, port, opts);
  try {
    await sleep(1500);
    const before = sample(srv.pid);
    cpuByPidBefore = cpuByProcess(srv.pid);
    cpuByPidAtDone = null;
    if (before === null) throw new Error(`${kind} pid ${srv.pid} not readable`);
    if (redisRun !== undefined) {
      redisBefore = sample(redisRun.pid) ?? undefined;
      redisSubsBefore = redisSubscribeCalls();
    }
    const base = `${HOST}:${port}`;
    const args = [
      ...goal.args,
      '--url', `ws://${base}/connection/websocket`,
      '--api', `http://${base}/api`,
      '--api-key', API_KEY,
      '--hmac-secret', HMAC,
      '--source-ips', SRC_IPS,
      '--server-pid', String(srv.pid),
    ];
    spreadAtDone = null;
    const r = await runBench(REPO, a.benchCli, args, srv.pid, goal.markers, goal.timeoutMs, (name) => {
      if (name === 'done' && goalName === 'connect') {
        cpuByPidAtDone = cpuByProcess(srv.pid);
        spreadAtDone = socketsByPid(port);
      }
      if (redisRun === undefined) return;
      redisAtDone = sample(redisRun.pid) ?? undefined;
      redisSubsAtDone = redisSubscribeCalls();
    });
    const failures = (r.report as { clients?: { failures?: Record<string, number> } } | null)?.clients?.failures;
    if (failures !== undefined && Object.keys(failures).length > 0) process.stderr.write(`  ${goalName}/${kind} failures: ${JSON.stringify(failures)}\n`);
    return goal.extract(r, srv.pid, before);
  } finally {
    await srv.stop();
    await sleep(2000);
  }
}

let spreadAtDone: Record<string, number> | null = null;
let cpuByPidBefore: Map<number, number> | null = null;
let cpuByPidAtDone: Map<number, number> | null = null;
let redisBefore: Sample | undefined;
let redisAtDone: Sample | undefined;
let redisSubsBefore = 0;
let redisSubsAtDone = 0;

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (a.engine === 'redis') redisRun = await startRedis();
  if (a.gyreDist === join(REPO, 'dist')) spawnSync(process.execPath, ['scripts/ensure-build.mjs'], { cwd: REPO, stdio: 'inherit' });
  if (!existsSync(join(a.gyreDist, 'src', 'main.js'))) throw new Error(`no compiled Gyre in ${a.gyreDist}`);
  const results: Record<string, Record<string, Metrics[]>> = {};
  for (let r = 0; r < a.reps; r++) {
    for (const g of a.goals) {
      const order = r % 2 === 0 ? a.servers : [...a.servers].reverse();
      for (const kind of order) {
        // A port reserved like the tests' (the suite may run beside the bench and uses the same range).
        const port = await freePort(HOST);
        const t0 = Date.now();
        let m: Metrics;
        try {
          m = await runOne(kind, g, port, a);
        } catch (err) {
          m = { error: 1 };
          process.stderr.write(`${g}/${kind}: ${String(err)}\n`);
        }
        ((results[g] ??= {})[kind] ??= []).push(m);
        process.stderr.write(`rep ${r + 1} ${g} ${kind} (${Math.round((Date.now() - t0) / 1000)}s): ${JSON.stringify(m)}\n`);
      }
    }
  }
  const summary: Record<string, Record<string, Record<string, number | null>>> = {};
  for (const [g, byKind] of Object.entries(results)) {
    const keys = new Set(Object.values(byKind).flatMap((ms) => ms.flatMap((m) => Object.keys(m))));
    for (const k of keys) {
      const row: Record<string, number | null> = {};
      for (const kind of a.servers) {
        const xs = (byKind[kind] ?? []).map((m) => m[k]).filter((x): x is number => typeof x === 'number');
        row[kind] = median(xs);
      }
      const gy = row['gyre'];
      const ce = row['centrifugo'];
      row['ratio'] = gy != null && ce != null && ce !== 0 ? Math.round((gy / ce) * 100) / 100 : null;
      (summary[g] ??= {})[k] = row;
    }
  }
  const text = JSON.stringify({ args: a, results, summary }, null, 2);
  if (a.out !== null) writeFileSync(a.out, text + '\n');
  for (const [g, rows] of Object.entries(summary)) {
    process.stdout.write(`\n== ${g} (medians of ${a.reps})\n`);
    for (const [k, row] of Object.entries(rows)) {
      const f = (v: number | null | undefined): string => (v == null ? '-' : String(Math.round(v * 1000) / 1000));
      process.stdout.write(`${k.padEnd(18)} gyre=${f(row['gyre'])}  centrifugo=${f(row['centrifugo'])}  ratio=${f(row['ratio'])}\n`);
    }
  }
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`compare: ${String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => redisRun?.child.kill('SIGTERM'));
