// client.connection_rate_limit below the arrival rate (docs/storm.md §1), on a real `node bin/gyre.js`:
// (a) clients arriving at a steady RATE above the limit (--arrivals, per second, for --seconds each), spread over
//     --processes generator processes and the source addresses 127.0.0.1–16: what a deployment sees when clients
//     come back after a blip. Each gets a 101 or a 503; per refused client, the time from its connect() to the
//     503 and from the TCP handshake's completion to the 503 (goal: < 100 ms). An admitted client sends a connect
//     command with a token and waits for the reply, so the server does the admitted clients' real work meanwhile;
// (b) the extreme: a burst of --burst raw upgrades opened at once, from one generator process (as the first
//     version of this bench did), then from --processes processes;
// (c) --clients official centrifuge clients started at once (default backoff: full jitter 0.5–20 s, 5 s timeout):
//     do all end up connected, how long it takes, how many attempts were refused on the way (Gyre, 1 process).
// Sides, one after the other in each run: Gyre (1 process); Gyre with `--workers 2` and `none` scheduling (both
// workers accept and refuse; the limit is split between them) and with the default `rr` (the primary accepts
// and passes each connection to a worker); a floor, a bare Node process that writes a fixed
// 503 on each connection's first bytes and nothing else (the least one Node thread can do); Centrifugo 6.9.1 with
// the same limit (its bucket refills at 1/s after the first burst, so it refuses nearly everything). Server CPU
// is summed over the server's process tree. Medians over runs, each run in brackets.
// Usage: node --import tsx bench/admission-rate.bench.ts [--rate 200] [--arrivals 1000,2000,4000] [--seconds 3]
//          [--processes 4] [--burst 2000] [--clients 1000] [--runs 3] [--sides gyre,gyre-w2,gyre-w2rr,floor,centrifugo]
import { spawn } from 'node:child_process';
import { Centrifuge } from 'centrifuge';
import WebSocket from 'ws';
import { findCentrifugo, startCentrifugo } from '../test/harness/centrifugo.js';
import { mergeConfig, REPO_ROOT, startGyre } from '../test/harness/gyre.js';
import { connToken } from '../test/harness/tokens.js';
import { sleep } from '../test/harness/wait.js';
import { baseConfig } from '../test/compat/base-config.js';
import { metricValue, scrape } from '../test/storm/probe.js';
import type { ArrivalsJob, ArrivalsReport, Sample } from './lib/arrivals.js';
import { median as medianOf } from './lib/summary.js';
import { sample as sampleTree } from './profile/procs.js';

function arg(name: string, d: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? d : (process.argv[i + 1] ?? d);
}
const RATE = Number(arg('rate', '200'));
const ARRIVALS = arg('arrivals', '1000,2000,4000').split(',').map(Number).filter((x) => x > 0);
const SECONDS = Number(arg('seconds', '3'));
const PROCESSES = Math.max(1, Math.min(8, Number(arg('processes', '4'))));
const BURST = Number(arg('burst', '2000'));
const CLIENTS = Number(arg('clients', '1000'));
const RUNS = Math.max(1, Math.min(5, Number(arg('runs', '3'))));
const SIDE_NAMES = ['gyre', 'gyre-w2', 'gyre-w2rr', 'floor', 'centrifugo'] as const;
type SideName = (typeof SIDE_NAMES)[number];
const SIDES = arg('sides', SIDE_NAMES.join(',')).split(',').filter((s): s is SideName => (SIDE_NAMES as readonly string[]).includes(s));
const ADDRESSES = Array.from({ length: 16 }, (_, i) => `127.0.0.${i + 1}`);

const pct = (s: number[], p: number): number => (s.length === 0 ? NaN : (s[Math.min(s.length - 1, Math.floor(s.length * p))] as number));
const median = (xs: number[]): number => medianOf(xs) ?? NaN;

interface Phase {
  ok101: number;
  refused: number;
  other: number;
  p50: number;
  p99: number;
  max: number;
  under100: number;
  estP50: number;
  estP99: number;
  estMax: number;
  estUnder100: number;
  /** Server CPU over the phase per connection (µs; /proc, 10 ms ticks), whole process tree. */
  cpuUsPerConn: number;
  /** Arrivals per second the generators reached (connections ÷ the time over which they were opened). */
  achievedRate: number;
  /** Largest event-loop lag of any generator process (ms). */
  genLagMs: number;
}

function phaseFigures(samples: Sample[], cpuUsPerConn: number, achievedRate: number, genLagMs: number): Phase {
  const refused = samples.filter((s) => s[0] === 503);
  const ms = refused.map((s) => s[1]).sort((a, b) => a - b);
  const est = refused.map((s) => s[1] - s[2]).sort((a, b) => a - b);
  const ok101 = samples.filter((s) => s[0] === 101).length;
  return {
    ok101,
    refused: refused.length,
    other: samples.length - ok101 - refused.length,
    p50: pct(ms, 0.5),
    p99: pct(ms, 0.99),
    max: ms.at(-1) ?? NaN,
    under100: (100 * ms.filter((x) => x < 100).length) / Math.max(1, refused.length),
    estP50: pct(est, 0.5),
    estP99: pct(est, 0.99),
    estMax: est.at(-1) ?? NaN,
    estUnder100: (100 * est.filter((x) => x < 100).length) / Math.max(1, refused.length),
    cpuUsPerConn,
    achievedRate,
    genLagMs,
  };
}

function generator(job: ArrivalsJob): Promise<ArrivalsReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/arrivals.ts', JSON.stringify(job)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out) as ArrivalsReport);
      else reject(new Error(`generator exited ${String(code)}`));
    });
  });
}

/** `total` connections over `processes` generators at `rate` per second in all (0 = all at once). */
async function phase(port: number, pid: number, total: number, rate: number, processes: number, token: string): Promise<Phase> {
  const before = sampleTree(pid);
  const jobs = Array.from({ length: processes }, (_, i) => ({
    port,
    count: Math.floor(total / processes) + (i < total % processes ? 1 : 0),
    rate: rate / processes,
    addresses: ADDRESSES.filter((_, j) => j % processes === i),
    token,
  }));
  const reports = await Promise.all(jobs.map(generator));
  await sleep(200); // the last closes
  const after = sampleTree(pid);
  const cpu = before === null || after === null ? NaN : after.cpuSec - before.cpuSec;
  const spread = Math.max(...reports.map((r) => r.spreadMs));
  const samples = reports.flatMap((r) => r.samples);
  return phaseFigures(samples, (cpu * 1e6) / total, rate <= 0 ? NaN : (total * 1000) / Math.max(1, spread), Math.max(...reports.map((r) => r.lagMaxMs)));
}

interface SideRun {
  burst: Phase;
  burstSpread: Phase;
  arrivals: Phase[];
  clients?: { connected: number; allConnectedMs: number; refusedAttempts: number };
}

async function phases(port: number, pid: number, token: string): Promise<SideRun> {
  const burst = await phase(port, pid, BURST, 0, 1, token);
  await sleep(1500);
  const burstSpread = await phase(port, pid, BURST, 0, PROCESSES, token);
  const arrivals: Phase[] = [];
  for (const r of ARRIVALS) {
    await sleep(1500); // the bucket is full again, the sockets are gone
    arrivals.push(await phase(port, pid, Math.round(r * SECONDS), r, PROCESSES, token));
  }
  return { burst, burstSpread, arrivals };
}

function gyreConfig(scheduling: 'rr' | 'none'): Record<string, unknown> {
  return mergeConfig(baseConfig(), {
    log: { level: 'error' },
    prometheus: { enabled: true },
    client: { connection_rate_limit: RATE },
    node: { workers_scheduling: scheduling },
  });
}

async function officialClients(url: string, baseUrl: string, token: string): Promise<NonNullable<SideRun['clients']>> {
  await sleep(2000); // the raw sockets are gone and the bucket is full again
  const before = metricValue(await scrape(baseUrl), 'gyre_admission_refused_total', 'reason="rate"');
  const clients: Centrifuge[] = [];
  try {
    let connected = 0;
    const t0 = performance.now();
    let allAt = NaN;
    for (let i = 0; i < CLIENTS; i++) {
      const c = new Centrifuge(url, { token, websocket: WebSocket });
      c.once('connected', () => {
        connected++;
        if (connected === CLIENTS) allAt = performance.now() - t0;
      });
      clients.push(c);
      c.connect();
    }
    for (let i = 0; i < 1200 && connected < CLIENTS; i++) await sleep(50);
    const after = metricValue(await scrape(baseUrl), 'gyre_admission_refused_total', 'reason="rate"');
    return { connected, allConnectedMs: allAt, refusedAttempts: after - before };
  } finally {
    for (const c of clients) c.disconnect();
  }
}

async function gyreSide(workers: number, token: string, scheduling: 'rr' | 'none' = 'none'): Promise<SideRun> {
  // As deployed: the start-up warm-up at its default (the harness turns it off unless told).
  const gyre = await startGyre(gyreConfig(scheduling), {
    bin: true,
    args: workers > 1 ? ['--workers', String(workers)] : [],
    env: { GYRE_HTTP_SERVER_WARMUP_CONNECTIONS: '500' },
  });
  try {
    const figs = await phases(gyre.port, gyre.pid, token);
    if (workers === 1 && CLIENTS > 0) figs.clients = await officialClients(gyre.url, gyre.baseUrl, token);
    return figs;
  } finally {
    await gyre.stop('SIGKILL');
  }
}

/** A Node process that answers every connection's first chunk with a fixed 503 and closes: the floor. */
const FLOOR_SCRIPT = `
const net = require('node:net');
const answer = Buffer.from('HTTP/1.1 503 Service Unavailable\\r\\nConnection: close\\r\\nRetry-After: 1\\r\\nContent-Length: 0\\r\\n\\r\\n');
const srv = net.createServer((s) => { s.on('error', () => {}); s.once('data', () => s.end(answer, () => s.destroy())); });
srv.listen({ host: '127.0.0.1', port: 0, backlog: 65535 }, () => console.log(srv.address().port));
`;

async function floorSide(token: string): Promise<SideRun> {
  const child = spawn(process.execPath, ['-e', FLOOR_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once('exit', () => reject(new Error('floor server exited')));
    });
    return await phases(port, child.pid ?? -1, token);
  } finally {
    child.kill('SIGKILL');
  }
}

async function centrifugoSide(token: string): Promise<SideRun | undefined> {
  if (findCentrifugo() === undefined) return undefined;
  const c = await startCentrifugo(mergeConfig(baseConfig(), { log: { level: 'error' }, client: { connection_rate_limit: RATE } }));
  try {
    return await phases(c.port, c.pid, token);
  } finally {
    await c.stop();
  }
}

const token = await connToken({ sub: 'rate', expIn: 3600 });
const results = new Map<SideName, SideRun[]>();
for (let i = 0; i < RUNS; i++) {
  for (const side of SIDES) {
    const r =
      side === 'gyre' ? await gyreSide(1, token)
      : side === 'gyre-w2' ? await gyreSide(2, token)
      : side === 'gyre-w2rr' ? await gyreSide(2, token, 'rr')
      : side === 'floor' ? await floorSide(token)
      : await centrifugoSide(token);
    if (r !== undefined) results.set(side, [...(results.get(side) ?? []), r]);
    console.error(`[run ${i + 1}] ${side} ${JSON.stringify(r)}`);
    await sleep(1500);
  }
}

const TITLES: Record<SideName, string> = {
  gyre: 'Gyre',
  'gyre-w2': 'Gyre --workers 2 (none)',
  'gyre-w2rr': 'Gyre --workers 2 (rr)',
  floor: 'floor: bare Node 503',
  centrifugo: 'Centrifugo 6.9.1',
};
const shown = SIDES.filter((s) => results.has(s));
const colOf = <T>(xs: T[], f: (x: T) => number, d = 0): string =>
  xs.length === 0 ? '–' : `${median(xs.map(f)).toFixed(d)} [${xs.map((x) => f(x).toFixed(d)).join(', ')}]`;
function table(title: string, pick: (r: SideRun) => Phase | undefined, extra: boolean): void {
  console.log(`\n${title}\n`);
  console.log(`| figure | ${shown.map((s) => TITLES[s]).join(' | ')} |`);
  console.log(`|---|${shown.map(() => '---|').join('')}`);
  const row = (name: string, f: (x: Phase) => number, d = 0): void => {
    const cols = shown.map((s) => colOf((results.get(s) ?? []).map(pick).filter((x): x is Phase => x !== undefined), f, d));
    console.log(`| ${name} | ${cols.join(' | ')} |`);
  };
  row('answered 101', (x) => x.ok101);
  row('answered 503', (x) => x.refused);
  row('anything else (reset, hang, other status)', (x) => x.other);
  row('connect() → 503, p50 (ms)', (x) => x.p50, 1);
  row('connect() → 503, p99 (ms)', (x) => x.p99, 1);
  row('connect() → 503, max (ms)', (x) => x.max, 1);
  row('refused answered < 100 ms from connect() (%)', (x) => x.under100, 1);
  row('TCP established → 503, p50 (ms)', (x) => x.estP50, 1);
  row('TCP established → 503, p99 (ms)', (x) => x.estP99, 1);
  row('TCP established → 503, max (ms)', (x) => x.estMax, 1);
  row('refused answered < 100 ms from TCP established (%)', (x) => x.estUnder100, 1);
  row('server CPU per connection (µs)', (x) => x.cpuUsPerConn);
  if (extra) row('arrivals per second reached by the generators', (x) => x.achievedRate);
  row('largest generator event-loop lag (ms)', (x) => x.genLagMs);
}
console.log(
  `\nnode --import tsx bench/admission-rate.bench.ts --rate ${RATE} --arrivals ${ARRIVALS.join(',')} --seconds ${SECONDS} ` +
    `--processes ${PROCESSES} --burst ${BURST} --clients ${CLIENTS} --runs ${RUNS} --sides ${SIDES.join(',')}`,
);
console.log(`client.connection_rate_limit ${RATE}; medians of ${RUNS} runs [each run]`);
ARRIVALS.forEach((r, i) => {
  table(`Arrivals at ${r}/s for ${SECONDS} s from ${PROCESSES} processes over 127.0.0.1–16`, (x) => x.arrivals[i], true);
});
table(`Burst of ${BURST} opened at once from one process`, (x) => x.burst, false);
table(`Burst of ${BURST} opened at once from ${PROCESSES} processes over 127.0.0.1–16`, (x) => x.burstSpread, false);
const gy = (results.get('gyre') ?? []).map((r) => r.clients).filter((x) => x !== undefined);
if (gy.length > 0) {
  console.log(`\n| ${CLIENTS} official clients started at once (Gyre) | measured |`);
  console.log('|---|---|');
  console.log(`| connected in the end | ${colOf(gy, (x) => x.connected)} |`);
  console.log(`| time until the last one connected (ms) | ${colOf(gy, (x) => x.allConnectedMs)} |`);
  console.log(`| attempts refused with 503 rate on the way | ${colOf(gy, (x) => x.refusedAttempts)} |`);
}
process.exit(0);
