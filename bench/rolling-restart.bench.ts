// Rolling restart behind nginx, drain on vs off (test/storm/rolling.ts; docs/deploy.md): 2 Gyre nodes on Redis
// behind Debian's nginx, N official centrifuge clients (default backoff) on 20 recoverable channels, 50
// publications/s through nginx's /api; restart A, restart B (SIGTERM → paced drain → start again), then
// `nginx -s reload` (worker_shutdown_timeout 1 s). Per run and step: reconnect time (connection lost → connected
// again) p50/p95/max and the peak connect rate at the node that took the clients; correctness as in the test.
// Runs alternate drain on / off; medians over runs at the end.
// Usage: node --import tsx bench/rolling-restart.bench.ts [--clients 2000] [--drain 10] [--runs 2]
import { pct, runRollingRestart, type RollingResult } from '../test/storm/rolling.js';
import { median as medianOf } from './lib/summary.js';

function arg(name: string, d: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? d : Number(process.argv[i + 1]);
}
const N = arg('clients', 2000);
const DRAIN_S = arg('drain', 10);
const RUNS = Math.max(1, Math.min(5, arg('runs', 2)));

const median = (xs: number[]): number => medianOf(xs) ?? NaN;

const results: Array<{ drainS: number; r: RollingResult }> = [];
for (let run = 0; run < RUNS; run++) {
  for (const drainS of [DRAIN_S, 0]) {
    const r = await runRollingRestart({
      clients: N,
      channels: 20,
      publishRate: 50,
      drainMs: drainS * 1000,
      settleTimeoutMs: 90_000,
      log: (l) => console.error(`[run ${run + 1}, drain ${drainS} s] ${l}`),
    });
    results.push({ drainS, r });
    const ok = r.violations.length === 0 && r.stuck === 0 && r.unrecovered === 0;
    console.error(
      `[run ${run + 1}, drain ${drainS} s] acknowledged ${r.acked}, not acknowledged ${JSON.stringify(r.unacked)}, ` +
        `violations ${r.violations.length}, stuck ${r.stuck}, unrecovered ${r.unrecovered} → ${ok ? 'correct' : 'WRONG'}`,
    );
    for (const v of r.violations.slice(0, 3)) console.error(`  ${v.slice(0, 200)} … ${v.slice(-700)}`);
    for (const e of r.nginxErrors) console.error(`  nginx: ${e}`);
  }
}

const fmt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
console.log(`\nnode --import tsx bench/rolling-restart.bench.ts --clients ${N} --drain ${DRAIN_S} --runs ${RUNS}`);
console.log(`${N} clients, 20 channels, 50 pub/s; medians of ${RUNS} run(s) per side\n`);
console.log('| step | drain | moved | reconnect p50 / p95 / max (ms) | peak connects/s at the node(s) taking them, 500 ms windows | same, 100 ms windows | refused upgrades |');
console.log('|---|---|---|---|---|---|---|');
const peaks = new Map<string, number>();
for (const step of ['restart A', 'restart B', 'nginx reload']) {
  for (const drainS of [DRAIN_S, 0]) {
    const got = results
      .filter((x) => x.drainS === drainS)
      .map((x) => x.r.steps.find((s) => s.step === step))
      .filter((s) => s !== undefined);
    const m = (f: (s: (typeof got)[number]) => number): number => median(got.map(f));
    const runs = (f: (s: (typeof got)[number]) => number): string => `${fmt(m(f))} [${got.map((s) => fmt(f(s))).join(', ')}]`;
    peaks.set(`${step}/${drainS}`, m((s) => s.peak.per500ms));
    peaks.set(`${step}/${drainS}/100`, m((s) => s.peak.per100ms));
    console.log(
      `| ${step} | ${drainS === 0 ? 'off (0 s)' : `${drainS} s`} | ${fmt(m((s) => s.reconnected))} | ` +
        `${fmt(m((s) => pct(s.reconnectMs, 0.5)))} / ${fmt(m((s) => pct(s.reconnectMs, 0.95)))} / ${fmt(m((s) => s.reconnectMs.at(-1) ?? NaN))} | ` +
        `${runs((s) => s.peak.per500ms)} | ${runs((s) => s.peak.per100ms)} | ${got.map((s) => JSON.stringify(s.refused)).join(' ')} |`,
    );
  }
}
for (const step of ['restart A', 'restart B']) {
  const ratio = (suffix: string): string =>
    ((peaks.get(`${step}/0${suffix}`) ?? NaN) / (peaks.get(`${step}/${DRAIN_S}${suffix}`) ?? NaN)).toFixed(1);
  console.log(`\n${step}: peak with the drain on is 1/${ratio('')} of the peak with it off (500 ms windows; 1/${ratio('/100')} over 100 ms)`);
}
const wrong = results.filter((x) => x.r.violations.length > 0 || x.r.stuck > 0 || x.r.unrecovered > 0).length;
console.log(`\ncorrectness: ${results.length - wrong} of ${results.length} runs with every acknowledged publication once and in order, nobody stuck`);
process.exit(wrong === 0 ? 0 : 1);
