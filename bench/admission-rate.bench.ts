// client.connection_rate_limit below the burst rate (docs/storm.md §1), on a real `node bin/gyre.js`:
// (a) a burst of B raw upgrades at once: outcomes, and how fast each refused one got its 503 (goal: < 100 ms),
//     counted from the client's connect() and from the TCP handshake's completion. The same burst also goes
//     to a floor: a bare Node process that writes a fixed 503 on each connection's first bytes and nothing
//     else (the least any Node server can do, with this generator), and to Centrifugo 6.9.1 with the same
//     limit (its bucket refills at 1/s, so it refuses more; docs/storm.md §1);
// (b) C official centrifuge clients started at once (default backoff: full jitter 0.5–20 s, 5 s timeout): do all
//     end up connected, how long it takes, how many attempts were refused on the way. Medians over runs.
// Usage: node --import tsx bench/admission-rate.bench.ts [--rate 200] [--burst 2000] [--clients 1000] [--runs 3]
import { spawn } from 'node:child_process';
import { Centrifuge } from 'centrifuge';
import WebSocket from 'ws';
import { findCentrifugo, startCentrifugo } from '../test/harness/centrifugo.js';
import { mergeConfig, startGyre } from '../test/harness/gyre.js';
import { connToken } from '../test/harness/tokens.js';
import { sleep } from '../test/harness/wait.js';
import { baseConfig } from '../test/compat/base-config.js';
import { metricValue, probeUpgrade, scrape, type ProbeResult } from '../test/storm/probe.js';
import { median as medianOf } from './lib/summary.js';
import { sampleProcess } from './lib/proc-stats.js';

function arg(name: string, d: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? d : Number(process.argv[i + 1]);
}
const RATE = arg('rate', 200);
const BURST = arg('burst', 2000);
const CLIENTS = arg('clients', 1000);
const RUNS = Math.max(1, Math.min(5, arg('runs', 3)));

const pct = (s: number[], p: number): number => (s.length === 0 ? NaN : (s[Math.min(s.length - 1, Math.floor(s.length * p))] as number));
const median = (xs: number[]): number => medianOf(xs) ?? NaN;

interface BurstFigures {
  ok101: number;
  refused: number;
  other: number;
  p50: number;
  p99: number;
  max: number;
  under100: number;
  /** The same from the TCP handshake's completion. */
  estP50: number;
  estP99: number;
  estUnder100: number;
  /** Server CPU over the burst per connection (µs; /proc, 10 ms ticks). */
  cpuUsPerConn: number;
}

interface Figures extends BurstFigures {
  connected: number;
  allConnectedMs: number;
  refusedAttempts: number;
}

/** The burst against `port`, with the CPU the server process `pid` used for it. */
async function measuredBurst(port: number, pid: number): Promise<BurstFigures> {
  const before = sampleProcess(pid);
  const results = await Promise.all(Array.from({ length: BURST }, () => probeUpgrade(port)));
  await sleep(200); // the last closes
  const after = sampleProcess(pid);
  const cpu = before === null || after === null ? NaN : after.cpuSeconds - before.cpuSeconds;
  return burstFigures(results, (cpu * 1e6) / BURST);
}

function burstFigures(results: ProbeResult[], cpuUsPerConn: number): BurstFigures {
  const refused = results.filter((r) => r.outcome === 503);
  const ms = refused.map((r) => r.ms).sort((a, b) => a - b);
  const est = refused.map((r) => r.ms - r.connectedMs).sort((a, b) => a - b);
  const ok101 = results.filter((r) => r.outcome === 101).length;
  return {
    ok101,
    refused: refused.length,
    other: results.length - ok101 - refused.length,
    p50: pct(ms, 0.5),
    p99: pct(ms, 0.99),
    max: ms.at(-1) ?? NaN,
    under100: ms.filter((x) => x < 100).length,
    estP50: pct(est, 0.5),
    estP99: pct(est, 0.99),
    estUnder100: est.filter((x) => x < 100).length,
    cpuUsPerConn,
  };
}

async function run(): Promise<Figures> {
  const gyre = await startGyre(
    mergeConfig(baseConfig(), {
      log: { level: 'error' },
      prometheus: { enabled: true },
      http_server: { warmup_connections: 0 },
      client: { connection_rate_limit: RATE },
    }),
    { bin: true },
  );
  const clients: Centrifuge[] = [];
  try {
    const burst = await measuredBurst(gyre.port, gyre.pid);
    await sleep(2000); // the raw sockets are gone and the bucket is full again
    const before = metricValue(await scrape(gyre.baseUrl), 'gyre_admission_refused_total', 'reason="rate"');
    const token = await connToken({ sub: 'rate', expIn: 3600 });
    let connected = 0;
    const t0 = performance.now();
    let allAt = NaN;
    for (let i = 0; i < CLIENTS; i++) {
      const c = new Centrifuge(gyre.url, { token, websocket: WebSocket });
      c.once('connected', () => {
        connected++;
        if (connected === CLIENTS) allAt = performance.now() - t0;
      });
      clients.push(c);
      c.connect();
    }
    for (let i = 0; i < 1200 && connected < CLIENTS; i++) await sleep(50);
    const after = metricValue(await scrape(gyre.baseUrl), 'gyre_admission_refused_total', 'reason="rate"');
    return { ...burst, connected, allConnectedMs: allAt, refusedAttempts: after - before };
  } finally {
    for (const c of clients) c.disconnect();
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

async function floorBurst(): Promise<BurstFigures> {
  const child = spawn(process.execPath, ['-e', FLOOR_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once('exit', () => reject(new Error('floor server exited')));
    });
    return await measuredBurst(port, child.pid ?? -1);
  } finally {
    child.kill('SIGKILL');
  }
}

async function centrifugoBurst(): Promise<BurstFigures | undefined> {
  if (findCentrifugo() === undefined) return undefined;
  const c = await startCentrifugo(mergeConfig(baseConfig(), { log: { level: 'error' }, client: { connection_rate_limit: RATE } }));
  try {
    return await measuredBurst(c.port, c.pid);
  } finally {
    await c.stop();
  }
}

const figs: Figures[] = [];
const floors: BurstFigures[] = [];
const cfs: BurstFigures[] = [];
for (let i = 0; i < RUNS; i++) {
  const f = await run();
  figs.push(f);
  console.error(`[run ${i + 1}] gyre ${JSON.stringify(f)}`);
  await sleep(1000);
  const fl = await floorBurst();
  floors.push(fl);
  console.error(`[run ${i + 1}] floor ${JSON.stringify(fl)}`);
  await sleep(1000);
  const cf = await centrifugoBurst();
  if (cf !== undefined) {
    cfs.push(cf);
    console.error(`[run ${i + 1}] centrifugo ${JSON.stringify(cf)}`);
  }
  await sleep(1000);
}
const colOf = <T>(xs: T[], f: (x: T) => number, d = 0): string =>
  xs.length === 0 ? '–' : `${median(xs.map(f)).toFixed(d)} [${xs.map((x) => f(x).toFixed(d)).join(', ')}]`;
console.log(`\nnode --import tsx bench/admission-rate.bench.ts --rate ${RATE} --burst ${BURST} --clients ${CLIENTS} --runs ${RUNS}`);
console.log(`client.connection_rate_limit ${RATE}; medians of ${RUNS} runs [each run]\n`);
console.log('| figure | Gyre | floor: bare Node 503 | Centrifugo 6.9.1 |');
console.log('|---|---|---|---|');
const row = (name: string, f: (x: BurstFigures) => number, d = 0): void =>
  console.log(`| ${name} | ${colOf(figs, f, d)} | ${colOf(floors, f, d)} | ${colOf(cfs, f, d)} |`);
row(`raw burst of ${BURST}: answered 101`, (x) => x.ok101);
row('answered 503', (x) => x.refused);
row('anything else (reset, hang, other status)', (x) => x.other);
row('connect() → 503, p50 (ms)', (x) => x.p50, 1);
row('connect() → 503, p99 (ms)', (x) => x.p99, 1);
row('connect() → 503, max (ms)', (x) => x.max, 1);
row('refused answered < 100 ms from connect() (%)', (x) => (100 * x.under100) / Math.max(1, x.refused), 1);
row('TCP established → 503, p50 (ms)', (x) => x.estP50, 1);
row('TCP established → 503, p99 (ms)', (x) => x.estP99, 1);
row('refused answered < 100 ms from TCP established (%)', (x) => (100 * x.estUnder100) / Math.max(1, x.refused), 1);
row('server CPU per connection of the burst (µs)', (x) => x.cpuUsPerConn);
console.log(`\n| ${CLIENTS} official clients started at once (Gyre) | measured |`);
console.log('|---|---|');
console.log(`| connected in the end | ${colOf(figs, (x) => x.connected)} |`);
console.log(`| time until the last one connected (ms) | ${colOf(figs, (x) => x.allConnectedMs)} |`);
console.log(`| attempts refused with 503 rate on the way | ${colOf(figs, (x) => x.refusedAttempts)} |`);
process.exit(0);
