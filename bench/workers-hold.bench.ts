// Many simultaneous subscribed connections on one machine with Gyre worker processes (docs/workers.md): one
// process is capped by its fd limit (about 20,000 here), so 38,000 connections need 2 workers. gyre-bench holds
// the connections from several generator processes and source addresses; the server's RSS and CPU are read per
// process (the primary and each worker) and summed, and the connections each process holds are counted with `ss`.
//
// --server centrifugo runs Centrifugo (one process, the same config) instead, for the same measurement under
// its own fd limit. --cycles N repeats connect → hold → leave N times against the same server; after every
// leave the run waits --settle and samples again, and asks the API how many clients the server still counts, so
// that memory kept after the clients left (or sessions never removed) shows from one cycle to the next.
//
//   node --import tsx bench/workers-hold.bench.ts [--server gyre|centrifugo] [--clients 38000] [--workers 2]
//        [--sched rr|none (default: Gyre's)] [--rate 2000] [--hold 20s] [--processes 3] [--cycles 1] [--settle 15]
//        [--gyre-dist DIR] [--no-guard] [--out FILE.json]
//
// --gyre-dist: the compiled Gyre to run (default dist/ after scripts/ensure-build.mjs), for A/B runs of two builds.
// --no-guard: http_server.handshake_wait_budget 0 (the adaptive admission guard off; the fds check stays).
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/harness/ports.js';
import { API_KEY, HMAC, HOST, processTree, runBench, sample, sampleOne, sleep, socketsByPid, startServer } from './profile/procs.js';
import type { Sample, ServerKind } from './profile/procs.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function arg(name: string, d: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? d) : d;
}

/** One process's CPU, RSS and open fds at one moment. */
interface ProcSample {
  cpuSec: number;
  rssKb: number;
  fds: number;
}

/** Every process of the server's tree (the first is the primary, or Centrifugo itself). */
function byProcess(rootPid: number): Record<string, ProcSample> {
  const out: Record<string, ProcSample> = {};
  for (const pid of processTree(rootPid)) {
    const s = sampleOne(pid);
    if (s === null) continue;
    let fds = 0;
    try {
      fds = readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      fds = 0;
    }
    out[String(pid)] = { cpuSec: s.cpuSec, rssKb: s.rssKb, fds };
  }
  return out;
}

/** Clients the server counts over all its nodes (API info), or null when the API does not answer. */
async function serverClients(port: number): Promise<number | null> {
  try {
    const r = await fetch(`http://${HOST}:${port}/api/info`, { method: 'POST', headers: { 'X-API-Key': API_KEY }, body: '{}' });
    const j = (await r.json()) as { result?: { nodes?: Array<{ num_clients?: number }> } };
    return (j.result?.nodes ?? []).reduce((a, n) => a + (n.num_clients ?? 0), 0);
  } catch {
    return null;
  }
}

/** Gyre's refusals so far by reason (gyre_admission_refused_total on /metrics, every worker's summed), or {}. */
async function refusals(port: number): Promise<Record<string, number>> {
  try {
    const text = await (await fetch(`http://${HOST}:${port}/metrics`)).text();
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/^gyre_admission_refused_total\{reason="(\w+)"\} (\d+)/gm)) out[m[1]!] = Number(m[2]);
    return out;
  } catch {
    return {};
  }
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

interface Cycle {
  subscribed: number | null;
  failed: number | null;
  failures: Record<string, number>;
  /** Gyre's own count of the 503s of this cycle, by reason. */
  refusedByReason: Record<string, number>;
  ttsP50ms: number | null;
  ttsP99ms: number | null;
  heldAtHoldStart: number;
  connectionsPerProcess: Record<string, number>;
  processesAtHold: number;
  /** Per process at hold start: RSS, fds, and CPU used since the cycle began (the ramp). */
  atHold: Record<string, ProcSample & { rampCpuSec: number }>;
  rssAtHoldKb: number | null;
  rssPerConnKb: number | null;
  primaryRssPerConnKb: number | null;
  workersRssPerConnKb: number | null;
  serverCpuSecRamp: number | null;
  rssAfterLeaveKb: number | null;
  clientsAfterLeave: number | null;
  processesAfterLeave: number;
}

async function main(): Promise<void> {
  const kind = arg('--server', 'gyre') as ServerKind;
  const clients = Number(arg('--clients', '38000'));
  const workers = kind === 'gyre' ? Number(arg('--workers', '2')) : 1;
  // Absent: Gyre's default (node.workers_scheduling, `none`).
  const schedArg = arg('--sched', '');
  const sched = schedArg === 'rr' || schedArg === 'none' ? schedArg : undefined;
  const cycles = Number(arg('--cycles', '1'));
  const settleSec = Number(arg('--settle', '15'));
  const out = arg('--out', '');
  const gyreDist = resolve(arg('--gyre-dist', join(REPO, 'dist')));
  const noGuard = process.argv.includes('--no-guard');
  if (gyreDist === join(REPO, 'dist')) spawnSync(process.execPath, ['scripts/ensure-build.mjs'], { cwd: REPO, stdio: 'inherit' });
  const port = await freePort(HOST);
  const srv = await startServer(kind, port, {
    gyreDist,
    noGuard,
    centrifugoBin: process.env['CENTRIFUGO_BIN'] ?? join(homedir(), 'go', 'bin', 'centrifugo'),
    nodeFlags: [],
    workers,
    // /metrics, for the refusals by reason.
    gyreArgs: ['--prometheus.enabled'],
    ...(sched !== undefined ? { sched } : {}),
  });
  const runs: Cycle[] = [];
  let before: Record<string, ProcSample> = {};
  let beforeTotal: Sample | null = null;
  const logs: string[] = [];
  try {
    await sleep(1500);
    before = byProcess(srv.pid);
    beforeTotal = sample(srv.pid);
    for (let c = 0; c < cycles; c++) {
      const start = byProcess(srv.pid);
      const refusedBefore = kind === 'gyre' ? await refusals(port) : {};
      let atHold: Record<string, ProcSample> = {};
      let spread: Record<string, number> = {};
      const base = `${HOST}:${port}`;
      const r = await runBench(
        REPO,
        join(REPO, 'bin', 'gyre-bench.js'),
        ['idle', '-c', String(clients), '--rate', arg('--rate', '2000'), '-d', arg('--hold', '20s'),
          '--processes', arg('--processes', '3'), '--source-ips', '127.0.0.1-127.0.0.8',
          '--connect-timeout', '60s', '--timeout', '300s',
          '--url', `ws://${base}/connection/websocket`, '--api', `http://${base}/api`, '--api-key', API_KEY, '--hmac-secret', HMAC],
        srv.pid,
        { hold: /^holding / },
        360_000,
        (name) => {
          if (name !== 'hold') return;
          atHold = byProcess(srv.pid);
          spread = socketsByPid(port);
        },
      );
      logs.push(r.log.slice(-3000));
      await sleep(settleSec * 1000);
      const afterLeave = sample(srv.pid);
      const clientsAfterLeave = await serverClients(port);
      const refusedAfter = kind === 'gyre' ? await refusals(port) : {};
      const refusedByReason: Record<string, number> = {};
      for (const [k, v] of Object.entries(refusedAfter)) if (v - (refusedBefore[k] ?? 0) > 0) refusedByReason[k] = v - (refusedBefore[k] ?? 0);
      const report = r.report as {
        clients?: { subscribed: number; failed: number; failures?: Record<string, number> };
        timeToSubscribed?: { p50: number; p99: number };
      } | null;
      const held = Object.values(spread).reduce((a, b) => a + b, 0);
      const pids = Object.keys(atHold);
      const primary = String(srv.pid);
      const rssOf = (s: Record<string, ProcSample>, which: (p: string) => boolean): number =>
        Object.entries(s).filter(([p]) => which(p)).reduce((a, [, v]) => a + v.rssKb, 0);
      const perConn = (which: (p: string) => boolean): number | null =>
        held > 0 && pids.length > 0 ? round2((rssOf(atHold, which) - rssOf(before, which)) / held) : null;
      const hold: Cycle['atHold'] = {};
      for (const p of pids) hold[p] = { ...atHold[p]!, rampCpuSec: round2(atHold[p]!.cpuSec - (start[p]?.cpuSec ?? 0)) };
      const cycle: Cycle = {
        subscribed: report?.clients?.subscribed ?? null,
        failed: report?.clients?.failed ?? null,
        failures: report?.clients?.failures ?? {},
        refusedByReason,
        ttsP50ms: report?.timeToSubscribed?.p50 ?? null,
        ttsP99ms: report?.timeToSubscribed?.p99 ?? null,
        heldAtHoldStart: held,
        connectionsPerProcess: spread,
        processesAtHold: pids.length,
        atHold: hold,
        rssAtHoldKb: pids.length > 0 ? rssOf(atHold, () => true) : null,
        rssPerConnKb: perConn(() => true),
        primaryRssPerConnKb: kind === 'gyre' && workers > 1 ? perConn((p) => p === primary) : null,
        workersRssPerConnKb: kind === 'gyre' && workers > 1 ? perConn((p) => p !== primary) : null,
        serverCpuSecRamp: pids.length > 0 ? round2(Object.values(hold).reduce((a, v) => a + v.rampCpuSec, 0)) : null,
        rssAfterLeaveKb: afterLeave?.rssKb ?? null,
        clientsAfterLeave,
        processesAfterLeave: processTree(srv.pid).length,
      };
      runs.push(cycle);
      process.stderr.write(`cycle ${c + 1}/${cycles}: ${JSON.stringify({ ...cycle, atHold: undefined })}\n`);
    }
    const result = {
      server: kind,
      clients,
      workers,
      sched: kind === 'gyre' && workers > 1 ? (sched ?? 'default') : null,
      settleSec,
      gyreDist: kind === 'gyre' ? gyreDist : null,
      guard: kind === 'gyre' ? !noGuard : null,
      before,
      rssBeforeKb: beforeTotal?.rssKb ?? null,
      cycles: runs,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (out !== '') writeFileSync(out, `${JSON.stringify({ result, logs }, null, 2)}\n`);
  } finally {
    await srv.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`workers-hold: ${String(err)}\n`);
  process.exit(1);
});
