// client.connection_rate_limit below the burst rate (docs/storm.md §1), on a real `node bin/gyre.js`:
// (a) a burst of B raw upgrades at once: outcomes, and how fast each refused one got its 503 (goal: < 100 ms);
// (b) C official centrifuge clients started at once (default backoff: full jitter 0.5–20 s, 5 s timeout): do all
//     end up connected, how long it takes, how many attempts were refused on the way. Medians over runs.
// Usage: node --import tsx bench/admission-rate.bench.ts [--rate 200] [--burst 2000] [--clients 1000] [--runs 3]
import { Centrifuge } from 'centrifuge';
import WebSocket from 'ws';
import { mergeConfig, startGyre } from '../test/harness/gyre.js';
import { connToken } from '../test/harness/tokens.js';
import { sleep } from '../test/harness/wait.js';
import { baseConfig } from '../test/compat/base-config.js';
import { metricValue, probeUpgrade, scrape } from '../test/storm/probe.js';
import { median as medianOf } from './lib/summary.js';

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

interface Figures {
  ok101: number;
  refused: number;
  other: number;
  p50: number;
  p99: number;
  max: number;
  under100: number;
  connected: number;
  allConnectedMs: number;
  refusedAttempts: number;
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
    const results = await Promise.all(Array.from({ length: BURST }, () => probeUpgrade(gyre.port)));
    const refused = results.filter((r) => r.outcome === 503).map((r) => r.ms).sort((a, b) => a - b);
    const ok101 = results.filter((r) => r.outcome === 101).length;
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
    return {
      ok101,
      refused: refused.length,
      other: BURST - ok101 - refused.length,
      p50: pct(refused, 0.5),
      p99: pct(refused, 0.99),
      max: refused.at(-1) ?? NaN,
      under100: refused.filter((ms) => ms < 100).length,
      connected,
      allConnectedMs: allAt,
      refusedAttempts: after - before,
    };
  } finally {
    for (const c of clients) c.disconnect();
    await gyre.stop('SIGKILL');
  }
}

const figs: Figures[] = [];
for (let i = 0; i < RUNS; i++) {
  const f = await run();
  figs.push(f);
  console.error(`[run ${i + 1}] ${JSON.stringify(f)}`);
}
const col = (f: (x: Figures) => number, d = 0): string => `${median(figs.map(f)).toFixed(d)} [${figs.map((x) => f(x).toFixed(d)).join(', ')}]`;
console.log(`\nnode --import tsx bench/admission-rate.bench.ts --rate ${RATE} --burst ${BURST} --clients ${CLIENTS} --runs ${RUNS}`);
console.log(`client.connection_rate_limit ${RATE}; medians of ${RUNS} runs [each run]\n`);
console.log('| figure | measured |');
console.log('|---|---|');
console.log(`| raw burst of ${BURST}: 101 / 503 / anything else | ${col((x) => x.ok101)} / ${col((x) => x.refused)} / ${col((x) => x.other)} |`);
console.log(`| time to the 503, p50 / p99 / max (ms) | ${col((x) => x.p50, 1)} / ${col((x) => x.p99, 1)} / ${col((x) => x.max, 1)} |`);
console.log(`| refused clients answered in under 100 ms | ${col((x) => (100 * x.under100) / Math.max(1, x.refused), 1)} % |`);
console.log(`| ${CLIENTS} official clients at once: connected in the end | ${col((x) => x.connected)} |`);
console.log(`| time until the last one connected (ms) | ${col((x) => x.allConnectedMs)} |`);
console.log(`| attempts refused with 503 rate on the way | ${col((x) => x.refusedAttempts)} |`);
process.exit(0);
