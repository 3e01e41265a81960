// The 20,000-client burst against one process (docs/storm.md §1): gyre-bench `connect` opens every client at once
// (connect + subscribe in the first frame), spread over worker processes and 127.0.0.x source addresses, each
// with a 5 s deadline to be subscribed: the official centrifuge client's `timeout` (it aborts a socket not
// answered within 5 s: "WebSocket is closed before the connection is established"). Three servers, one
// after the other within each run: Gyre with the adaptive guard (http_server.handshake_wait_budget 2 s, the
// default), Gyre without it (0), and Centrifugo, all with the same config (memory engine). Reported per side:
// clients aborted by the 5 s timeout, clients refused with a 503 (answered at once, they retry), other
// failures, and time-to-subscribed of those that got in. Medians over runs.
// Usage: node --import tsx bench/admission-burst.bench.ts [--clients 20000] [--runs 3] [--processes 4]
//        [--gyre-dist DIR] [--before DIR]
// --gyre-dist: run Gyre from that compiled build (e.g. dist/) instead of src/ through tsx. --before: add a side,
// Gyre with the guard on from that other compiled build (e.g. main's, built with `npx tsc -p tsconfig.build.json
// --outDir DIR`), run in turn with the others for an A/B in one invocation.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runProcess } from './lib/run-process.js';
import { REPO_ROOT, startServer, type PeerName } from './lib/servers.js';
import { median as medianOf } from './lib/summary.js';
import { readListenCounters, readSomaxconn } from '../src/metrics/host-tcp.js';

function arg(name: string, d: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? d : Number(process.argv[i + 1]);
}
const N = arg('clients', 20_000);
const RUNS = Math.max(1, Math.min(5, arg('runs', 3)));
const PROCESSES = Math.max(1, Math.min(8, arg('processes', 4)));
function dirArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  const v = i === -1 ? undefined : process.argv[i + 1];
  return v === undefined ? undefined : resolve(v);
}
const GYRE_DIST = dirArg('gyre-dist');
const BEFORE = dirArg('before');

interface Side {
  name: string;
  peer: PeerName;
  config: Record<string, unknown>;
  /** Gyre's compiled build to run (undefined: src/ through tsx). */
  dist?: string | undefined;
}
const guardOn = { http_server: { handshake_wait_budget: '2s' } };
const SIDES: Side[] = [
  ...(BEFORE !== undefined ? [{ name: 'Gyre, guard on (2 s), before', peer: 'gyre' as const, config: guardOn, dist: BEFORE }] : []),
  { name: 'Gyre, guard on (2 s)', peer: 'gyre', config: guardOn, dist: GYRE_DIST },
  { name: 'Gyre, guard off', peer: 'gyre', config: { http_server: { handshake_wait_budget: '0s' } }, dist: GYRE_DIST },
  { name: 'Centrifugo 6.9.1', peer: 'centrifugo', config: {} },
];

interface Outcome {
  subscribed: number;
  timeouts: number;
  refused503: number;
  other: Record<string, number>;
  p50: number;
  p99: number;
  max: number;
  /** Host-wide TcpExt ListenOverflows during the burst: SYNs / handshake ACKs dropped with the accept queue full. */
  overflows: number;
}

async function burst(side: Side): Promise<Outcome> {
  const server = await startServer(side.peer, { configOverride: side.config, ...(side.dist !== undefined ? { gyreDist: side.dist } : {}) });
  const dir = mkdtempSync(join(tmpdir(), 'gyre-admission-'));
  try {
    const json = join(dir, 'report.json');
    const before = readListenCounters();
    const res = await runProcess(
      process.execPath,
      [
        'bin/gyre-bench.js', 'connect', '--url', server.clientUrl, '--hmac-secret', server.hmacSecret,
        '-c', String(N), '--processes', String(PROCESSES), '--workers', '2', '--source-ips', '127.0.0.1-127.0.0.16',
        '--connect-timeout', '5s', '--timeout', '90s', '--json', json, '-q',
      ],
      { cwd: REPO_ROOT, timeoutMs: 150_000 },
    );
    const after = readListenCounters();
    const overflows = before === null || after === null ? NaN : after.overflows - before.overflows;
    if (res.code !== 0) console.error(`gyre-bench exited ${String(res.code ?? res.signal)}: ${res.stderr.slice(-2000)}`);
    const r = JSON.parse(readFileSync(json, 'utf8')) as {
      clients: { subscribed: number; failures: Record<string, number> };
      timeToSubscribed: { p50: number; p99: number; max: number };
    };
    const other: Record<string, number> = {};
    let timeouts = 0;
    let refused503 = 0;
    for (const [k, v] of Object.entries(r.clients.failures)) {
      if (k === 'timeout') timeouts += v;
      else if (k === 'http_503') refused503 += v;
      else other[k] = v;
    }
    return { subscribed: r.clients.subscribed, timeouts, refused503, other, ...r.timeToSubscribed, overflows };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => medianOf(xs) ?? NaN;

const all = new Map<string, Outcome[]>();
for (let run = 0; run < RUNS; run++) {
  for (const side of SIDES) {
    const o = await burst(side);
    all.set(side.name, [...(all.get(side.name) ?? []), o]);
    console.error(`[run ${run + 1}] ${side.name}: ${JSON.stringify(o)}`);
    await new Promise((r) => setTimeout(r, 2000)); // TIME_WAIT and the kernel settle between sides
  }
}
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const dirs = `${GYRE_DIST !== undefined ? ` --gyre-dist ${GYRE_DIST}` : ''}${BEFORE !== undefined ? ` --before ${BEFORE}` : ''}`;
console.log(`\nnode --import tsx bench/admission-burst.bench.ts --clients ${N} --runs ${RUNS} --processes ${PROCESSES}${dirs}`);
console.log(`${N} clients at once, 5 s to be subscribed; medians of ${RUNS} runs (each run's value in brackets); somaxconn ${String(readSomaxconn())}\n`);
console.log('| server | aborted by the 5 s timeout | refused with 503 | other failures | subscribed | time-to-subscribed p50 / p99 / max (ms) | host listen overflows |');
console.log('|---|---|---|---|---|---|---|');
for (const side of SIDES) {
  const os = all.get(side.name) ?? [];
  const col = (f: (o: Outcome) => number): string => `${fmt(median(os.map(f)))} [${os.map((o) => fmt(f(o))).join(', ')}]`;
  const other = os.map((o) => JSON.stringify(o.other)).join(' ');
  console.log(
    `| ${side.name} | ${col((o) => o.timeouts)} | ${col((o) => o.refused503)} | ${other} | ${col((o) => o.subscribed)} | ` +
      `${fmt(median(os.map((o) => o.p50)))} / ${fmt(median(os.map((o) => o.p99)))} / ${fmt(median(os.map((o) => o.max)))} | ${col((o) => o.overflows)} |`,
  );
}
process.exit(0);
