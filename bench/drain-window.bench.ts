// The drain's own figures (docs/storm.md §2), on a real `node bin/gyre.js`: N connected raw clients,
// shutdown.drain_duration W, no pre-drain delay, SIGTERM. Per run: how many clients got 3001 with the reason
// "shutdown", how the closes spread over the window (span ÷ window, share per quarter), how long /ready took
// to answer 503 after the signal (polled every ~5 ms), and whether upgrades made during the drain were refused
// (503 "shutdown", slowest answer). Medians over runs. (The npm test version is test/storm/drain.test.ts.)
// Usage: node --import tsx bench/drain-window.bench.ts [--clients 1000] [--window 4] [--runs 3]
import { RawWebSocket, targetFor } from '../loadtest/src/raw-ws.js';
import { mergeConfig, startGyre } from '../test/harness/gyre.js';
import { connToken } from '../test/harness/tokens.js';
import { sleep, waitFor } from '../test/harness/wait.js';
import { baseConfig } from '../test/compat/base-config.js';
import { drainClientHandler, probeUpgrade, type DrainClient, type ProbeResult } from '../test/storm/probe.js';
import { median as medianOf } from './lib/summary.js';

function arg(name: string, d: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? d : Number(process.argv[i + 1]);
}
const N = arg('clients', 1000);
const WINDOW_MS = arg('window', 4) * 1000;
const RUNS = Math.max(1, Math.min(5, arg('runs', 3)));

interface RunFigures {
  with3001: number;
  spreadPct: number;
  quarters: number[];
  notReadyMs: number;
  probes: number;
  probes503: number;
  slowestProbeMs: number;
  exitCode: number | null;
}

async function run(): Promise<RunFigures> {
  const gyre = await startGyre(
    mergeConfig(baseConfig(), {
      log: { level: 'error' },
      http_server: { warmup_connections: 0 },
      shutdown: { timeout: `${WINDOW_MS / 1000 + 8}s`, drain_duration: `${WINDOW_MS}ms`, pre_drain_delay: '0s' },
    }),
    { bin: true },
  );
  const sockets: RawWebSocket<DrainClient>[] = [];
  try {
    const token = await connToken({ sub: 'drain', expIn: 3600 });
    const connectCmd = `{"connect":{"token":"${token}"},"id":1}`;
    const h = drainClientHandler(connectCmd);
    const target = targetFor(gyre.url);
    for (let i = 0; i < N; i++) sockets.push(new RawWebSocket(target, h, { connected: false, closedAt: 0, code: 0, reason: '' }));
    await waitFor(() => sockets.every((s) => s.ctx.connected), { what: `${N} connected`, timeoutMs: 60_000, intervalMs: 50 });
    await sleep(500);

    const t0 = performance.now();
    process.kill(gyre.pid, 'SIGTERM');
    let notReadyAt = 0;
    for (let i = 0; i < 2000 && notReadyAt === 0; i++) {
      const r = await fetch(`${gyre.baseUrl}/ready`).catch(() => null);
      if (r !== null && r.status === 503) notReadyAt = performance.now();
      else await sleep(5);
    }
    // Upgrades during the drain: 10 at a time, at a quarter, half and three quarters of the window.
    const probes: ProbeResult[] = [];
    for (const at of [0.25, 0.5, 0.75]) {
      await sleep(Math.max(0, t0 + WINDOW_MS * at - performance.now()));
      probes.push(...(await Promise.all(Array.from({ length: 10 }, () => probeUpgrade(gyre.port)))));
    }
    const exit = await gyre.exited;
    await waitFor(() => sockets.every((s) => s.ctx.closedAt > 0), { what: 'all closed', timeoutMs: 10_000 }).catch(() => undefined);
    const closed = sockets.filter((s) => s.ctx.closedAt > 0 && s.ctx.code === 3001 && s.ctx.reason === 'shutdown');
    const times = closed.map((s) => s.ctx.closedAt).sort((a, b) => a - b);
    const first = times[0] ?? 0;
    const quarters = [0, 0, 0, 0];
    for (const t of times) quarters[Math.min(3, Math.floor(((t - first) / WINDOW_MS) * 4))]!++;
    return {
      with3001: closed.length,
      spreadPct: (100 * ((times.at(-1) ?? 0) - first)) / WINDOW_MS,
      quarters: quarters.map((q) => Math.round((100 * q) / Math.max(1, times.length))),
      notReadyMs: notReadyAt === 0 ? NaN : notReadyAt - t0,
      probes: probes.length,
      probes503: probes.filter((p) => p.outcome === 503 && p.body === 'Service Unavailable: shutdown').length,
      slowestProbeMs: Math.max(...probes.map((p) => p.ms)),
      exitCode: exit.code,
    };
  } finally {
    for (const s of sockets) s.terminate();
    await gyre.stop('SIGKILL');
  }
}

const figures: RunFigures[] = [];
for (let i = 0; i < RUNS; i++) {
  const f = await run();
  figures.push(f);
  console.error(`[run ${i + 1}] ${JSON.stringify(f)}`);
}
const median = (xs: number[]): number => medianOf(xs) ?? NaN;
const col = (f: (x: RunFigures) => number, digits = 0): string =>
  `${median(figures.map(f)).toFixed(digits)} [${figures.map((x) => f(x).toFixed(digits)).join(', ')}]`;
console.log(`\nnode --import tsx bench/drain-window.bench.ts --clients ${N} --window ${WINDOW_MS / 1000} --runs ${RUNS}`);
console.log(`medians of ${RUNS} runs [each run]\n`);
console.log('| figure | goal | measured |');
console.log('|---|---|---|');
console.log(`| clients closed with 3001 "shutdown" | all ${N} | ${col((x) => x.with3001)} |`);
console.log(`| closes spread over (first → last close) | ≥ 60 % of the window | ${col((x) => x.spreadPct)} % |`);
console.log(`| share of closes per quarter of the window | even (25 % each) | ${[0, 1, 2, 3].map((q) => `${median(figures.map((x) => x.quarters[q] as number))} %`).join(' / ')} |`);
console.log(`| SIGTERM → /ready answers 503 | ≤ 100 ms | ${col((x) => x.notReadyMs, 1)} ms |`);
console.log(`| upgrades during the drain refused with 503 "shutdown" | all | ${col((x) => x.probes503)} of ${figures[0]?.probes ?? 0} |`);
console.log(`| slowest refusal during the drain | fast | ${col((x) => x.slowestProbeMs, 1)} ms |`);
console.log(`| exit code | 0 | ${figures.map((x) => String(x.exitCode)).join(', ')} |`);
process.exit(0);
