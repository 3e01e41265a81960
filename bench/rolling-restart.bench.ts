// Rolling restart behind nginx, drain on vs off (test/storm/rolling.ts; docs/deploy.md): 2 Gyre nodes on Redis
// behind Debian's nginx, N official centrifuge clients (default backoff) on 20 recoverable channels, 50
// publications/s through nginx's /api; restart A, restart B (SIGTERM → paced drain → start again), then
// `nginx -s reload` (worker_shutdown_timeout 1 s). Per run and step: reconnect time (connection lost → connected
// again) p50/p95/max, the peak connect rate at the node that took the clients (from the time each client's 101
// came back, and which node nginx says answered it), how the draining node spread its closes; correctness as in
// the test. Runs alternate drain on / off; medians over runs at the end. `--server centrifugo` runs the same on
// 2 Centrifugo 6.9.1 nodes (drain off only). `--client-events sync` gives the clients ws's default (every frame
// of one socket read in one tick: centrifuge-js can then reorder, docs/deploy.md §5); `task` (the default) hands
// each frame over in its own macrotask, as a browser does.
// Usage: node --import tsx bench/rolling-restart.bench.ts [--clients 2000] [--drain 10] [--runs 2]
//        [--server gyre|centrifugo] [--client-events task|sync]
import { pct, runRollingRestart, type RollingResult } from '../test/storm/rolling.js';
import { median as medianOf } from './lib/summary.js';

function arg(name: string, d: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? d : Number(process.argv[i + 1]);
}
const N = arg('clients', 2000);
const DRAIN_S = arg('drain', 10);
const RUNS = Math.max(1, Math.min(5, arg('runs', 2)));
function word<T extends string>(name: string, allowed: readonly T[]): T {
  const i = process.argv.indexOf(`--${name}`);
  const v = i === -1 ? allowed[0] : process.argv[i + 1];
  if (!allowed.includes(v as T)) throw new Error(`--${name}: one of ${allowed.join(', ')}`);
  return v as T;
}
const SERVER = word('server', ['gyre', 'centrifugo'] as const);
const EVENTS = word('client-events', ['task', 'sync'] as const);
const DRAINS = SERVER === 'centrifugo' ? [0] : [DRAIN_S, 0];

const median = (xs: number[]): number => medianOf(xs) ?? NaN;

const results: Array<{ drainS: number; r: RollingResult }> = [];
for (let run = 0; run < RUNS; run++) {
  for (const drainS of DRAINS) {
    const r = await runRollingRestart({
      server: SERVER,
      clientEvents: EVENTS,
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
const flags = `--clients ${N} --drain ${DRAIN_S} --runs ${RUNS} --server ${SERVER} --client-events ${EVENTS}`;
console.log(`\nnode --import tsx bench/rolling-restart.bench.ts ${flags}`);
console.log(`${N} clients, 20 channels, 50 pub/s; medians of ${RUNS} run(s) per side; connect rates from the clients' 101 times\n`);
console.log('| step | drain | moved | reconnect p50 / p95 / max (ms) | peak connects/s at the node(s) taking them, 100 ms | same, 500 ms | 3001 closes: span of the window, share per quarter | client process lag max (ms) | refused upgrades |');
console.log('|---|---|---|---|---|---|---|---|---|');
const peaks = new Map<string, number>();
for (const step of ['restart A', 'restart B', 'nginx reload']) {
  for (const drainS of DRAINS) {
    const got = results
      .filter((x) => x.drainS === drainS)
      .map((x) => x.r.steps.find((s) => s.step === step))
      .filter((s) => s !== undefined);
    const m = (f: (s: (typeof got)[number]) => number): number => median(got.map(f));
    const runs = (f: (s: (typeof got)[number]) => number): string => `${fmt(m(f))} [${got.map((s) => fmt(f(s))).join(', ')}]`;
    peaks.set(`${step}/${drainS}`, m((s) => s.peak.per500ms));
    peaks.set(`${step}/${drainS}/100`, m((s) => s.peak.per100ms));
    const closes = got
      .map((s) => (s.closes === undefined || drainS === 0 ? '–' : `${(100 * s.closes.spanOfWindow).toFixed(0)} %, ${s.closes.quarters.map((q) => (100 * q).toFixed(0)).join('/')}`))
      .join('; ');
    console.log(
      `| ${step} | ${drainS === 0 ? 'off (0 s)' : `${drainS} s`} | ${fmt(m((s) => s.reconnected))} | ` +
        `${fmt(m((s) => pct(s.reconnectMs, 0.5)))} / ${fmt(m((s) => pct(s.reconnectMs, 0.95)))} / ${fmt(m((s) => s.reconnectMs.at(-1) ?? NaN))} | ` +
        `${runs((s) => s.peak.per100ms)} | ${runs((s) => s.peak.per500ms)} | ${closes} | ${runs((s) => s.clientLagMs)} | ${got.map((s) => JSON.stringify(s.refused)).join(' ')} |`,
    );
  }
}
if (DRAINS.length === 2) {
  for (const step of ['restart A', 'restart B']) {
    const ratio = (suffix: string): string =>
      ((peaks.get(`${step}/0${suffix}`) ?? NaN) / (peaks.get(`${step}/${DRAIN_S}${suffix}`) ?? NaN)).toFixed(1);
    console.log(`\n${step}: peak with the drain on is 1/${ratio('/100')} of the peak with it off over 100 ms windows (1/${ratio('')} over 500 ms)`);
  }
}
const wrong = results.filter((x) => x.r.violations.length > 0 || x.r.stuck > 0 || x.r.unrecovered > 0);
console.log(`\ncorrectness: ${results.length - wrong.length} of ${results.length} runs with every acknowledged publication once and in order (wire and application), nobody stuck`);
for (const x of wrong) {
  const kinds = new Map<string, number>();
  for (const v of x.r.violations) {
    const k = /: (server wrote|application got a publication twice|application got \d+ acknowledged missing|application got seq)/.exec(v)?.[1] ?? 'other';
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  console.log(`  drain ${x.drainS} s: ${x.r.violations.length} subscribers wrong ${JSON.stringify(Object.fromEntries(kinds))}, stuck ${x.r.stuck}, unrecovered ${x.r.unrecovered}`);
}
process.exit(wrong.length === 0 ? 0 : 1);
