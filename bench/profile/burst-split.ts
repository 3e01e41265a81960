// 10,000-client connect+subscribe bursts against one Gyre server, with each server process's user and system CPU
// and context switches over each burst (the primary and every worker apart), and the connections each process
// holds (`ss`, while the generator holds them 3 s). Later bursts against the same process run on code V8 has
// already optimised: `--bursts 2` separates the first-burst cost from the steady cost per connect.
//   node --import tsx bench/profile/burst-split.ts [--reps 1] [--bursts 1] [--workers 2] [--sched rr|none]
//        [--no-guard] [--clients 10000] [--first-clients N] [--node-flags "..."] [--gyre-args "..."]
//        [--server-log FILE] [--gyre-dist DIR] [--worker-args "..."] [--centrifugo] [--gc] [--heap-sample N]
//        [--port P] (the server's port, default 18600; rep r uses P + r - 1)
// Each line of output is one burst. `window` is the burst in CLOCK_MONOTONIC seconds, to cut a
// `perf record -k CLOCK_MONOTONIC -a -g` (with --node-flags --perf-basic-prof) to it: `perf script --time A,B`.
// `--server-log FILE` appends the server's output (all workers) to FILE, and `log` is the burst's byte range in it,
// e.g. to count the --trace-opt / --trace-deopt lines of one burst: `tail -c +A FILE | head -c $((B-A))`.
// `--threads` adds each process's CPU per thread name (`threads`: the main thread, V8's background compilers
// and GC helpers "V8 DefaultWorke", libuv's pool "libuv-worker"…), to tell compiling from running.
// `--node-flags` go on the primary's command line, and the workers inherit them; `--worker-args` sets
// `node.worker_node_args` in the config (flags for the workers only; `--worker-args ""` = none, absent = the
// build's default).
// `--gc` runs Gyre with --trace-gc-nvp and adds `gc` per burst: scavenges, other (mark-compact) GCs, their pauses,
// and the bytes V8 allocated (the sum of each GC's `allocated`, what was allocated since the GC before it; the
// allocation after a burst's last GC counts in the next one), in total and per connect.
// `--heap-sample N` runs Gyre with bench/profile/heap-sample-preload.mjs and signals every server process before
// and after burst N (at the end of its connect phase, the `window`'s end): each writes heap-<pid>.heapprofile to $HEAP_OUT (default /tmp), for heapprofile-top.ts.
// `listenDrops` is the kernel's count of SYNs dropped over the burst because the listen queue was full (machine-wide;
// each costs that client a SYN retransmit, 1 s later).
import { mkdtempSync, openSync, readFileSync, readSync, closeSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_KEY, HMAC, HOST, processTree, runBench, sleep, socketsByPid, startServer, threadCpu } from './procs.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface ProcStat {
  user: number;
  sys: number;
  /** Voluntary and involuntary context switches. */
  vcs: number;
  ivcs: number;
}

function stat(pid: number): ProcStat | null {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const v = /^voluntary_ctxt_switches:\s+(\d+)/m.exec(s);
    const iv = /^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(s);
    return { user: Number(f[11]) / 100, sys: Number(f[12]) / 100, vcs: Number(v?.[1] ?? 0), ivcs: Number(iv?.[1] ?? 0) };
  } catch {
    return null;
  }
}

/** The kernel's count of connections dropped because a listen queue was full (machine-wide: TcpExt ListenDrops). */
function listenDrops(): number {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const names = lines[i]!.split(' ');
      if (names[0] !== 'TcpExt:') continue;
      const values = lines[i + 1]!.split(' ');
      return Number(values[names.indexOf('ListenDrops')] ?? 0);
    }
  } catch {
    /* not Linux */
  }
  return 0;
}


function threadDelta(a: Map<string, number> | undefined, b: Map<string, number> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, v] of b ?? []) {
    const d = +(v - (a?.get(name) ?? 0)).toFixed(2);
    if (d > 0) out[name] = d;
  }
  return out;
}

const threadsWanted = process.argv.includes('--threads');
function threadSnapshot(pid: number): Map<number, Map<string, number>> {
  const out = new Map<number, Map<string, number>>();
  if (threadsWanted) for (const p of processTree(pid)) out.set(p, threadCpu(p));
  return out;
}

function snapshot(pid: number): Map<number, ProcStat> {
  const out = new Map<number, ProcStat>();
  for (const p of processTree(pid)) {
    const s = stat(p);
    if (s !== null) out.set(p, s);
  }
  return out;
}

const argv = process.argv.slice(2);
const get = (n: string): string | undefined => {
  const i = argv.indexOf(n);
  return i >= 0 ? argv[i + 1] : undefined;
};
const words = (s: string | undefined): string[] => (s ?? '').split(' ').filter((w) => w !== '');
const reps = Number(get('--reps') ?? 1);
const bursts = Number(get('--bursts') ?? 1);
const workers = Number(get('--workers') ?? 2);
const sched = get('--sched') as 'rr' | 'none' | undefined;
const clients = get('--clients') ?? '10000';
const firstClients = get('--first-clients') ?? clients;
/** `--centrifugo`: the same bursts against Centrifugo (one process; --workers and the Gyre options do not apply). */
const centrifugo = argv.includes('--centrifugo');
const mono = (): number => Number(process.hrtime.bigint()) / 1e9;
const gcWanted = argv.includes('--gc');
const heapBurst = Number(get('--heap-sample') ?? 0);
const serverLog = get('--server-log') ?? (gcWanted ? join(mkdtempSync(join(tmpdir(), 'burst-gc-')), 'server.log') : undefined);
const logSize = (): number => {
  try {
    return serverLog === undefined ? 0 : statSync(serverLog).size;
  } catch {
    return 0;
  }
};

/** Bytes `from`..`to` of the server log. */
function logRange(from: number, to: number): string {
  if (serverLog === undefined || to <= from) return '';
  const fd = openSync(serverLog, 'r');
  try {
    const buf = Buffer.alloc(to - from);
    readSync(fd, buf, 0, buf.length, from);
    return buf.toString('latin1');
  } finally {
    closeSync(fd);
  }
}

/** The --trace-gc-nvp lines of one burst, added up over every process. */
function gcOf(text: string, connects: number): Record<string, number> {
  let scavenges = 0;
  let marks = 0;
  let scavengeMs = 0;
  let markMs = 0;
  let allocated = 0;
  for (const m of text.matchAll(/ pause=([\d.]+) .*? gc=(\S+) .* allocated=(\d+) /g)) {
    if (m[2] === 's') {
      scavenges++;
      scavengeMs += Number(m[1]);
    } else {
      marks++;
      markMs += Number(m[1]);
    }
    allocated += Number(m[3]);
  }
  return {
    scavenges,
    marks,
    scavengeMs: +scavengeMs.toFixed(1),
    markMs: +markMs.toFixed(1),
    allocatedMB: +(allocated / 1e6).toFixed(1),
    bytesPerConnect: Math.round(allocated / connects),
  };
}

function signalAll(serverPid: number): void {
  for (const p of processTree(serverPid)) {
    try {
      process.kill(p, 'SIGUSR2');
    } catch {
      /* gone */
    }
  }
}

async function burst(serverPid: number, port: number, n: string, sample: boolean): Promise<Record<string, unknown>> {
  if (sample) signalAll(serverPid);
  const before = snapshot(serverPid);
  const threads0 = threadSnapshot(serverPid);
  let threads1 = new Map<number, Map<string, number>>();
  const log0 = logSize();
  const drops0 = listenDrops();
  let drops = 0;
  let logDone = 0;
  const t0 = mono();
  let tDone = 0;
  let atDone = new Map<number, ProcStat>();
  let spread: Record<string, number> = {};
  const base = `${HOST}:${port}`;
  const res = await runBench(
    REPO,
    join(REPO, 'bin', 'gyre-bench.js'),
    ['connect', '-c', n, '--rate', '0', '--hold', '3s', '--connect-timeout', '30s', '--timeout', '120s',
      '--url', `ws://${base}/connection/websocket`, '--api', `http://${base}/api`, '--api-key', API_KEY,
      '--hmac-secret', HMAC, '--source-ips', '127.0.0.1-127.0.0.4', '--server-pid', String(serverPid)],
    serverPid,
    { done: /^connect phase:/ },
    180_000,
    () => {
      atDone = snapshot(serverPid);
      threads1 = threadSnapshot(serverPid);
      if (sample) signalAll(serverPid);
      tDone = mono();
      logDone = logSize();
      drops = listenDrops() - drops0;
      spread = socketsByPid(port);
    },
  );
  const rep = res.report as { clients: { failed: number; failures: Record<string, number> }; timeToSubscribed: { p50: number; p99: number } } | null;
  const rows = [...atDone].map(([pid, s]) => {
    const b = before.get(pid) ?? { user: 0, sys: 0, vcs: 0, ivcs: 0 };
    return {
      pid,
      role: pid === serverPid ? 'primary' : 'worker',
      conns: spread[String(pid)] ?? 0,
      user: +(s.user - b.user).toFixed(2),
      sys: +(s.sys - b.sys).toFixed(2),
      vcs: s.vcs - b.vcs,
      ivcs: s.ivcs - b.ivcs,
      ...(threadsWanted ? { threads: threadDelta(threads0.get(pid), threads1.get(pid)) } : {}),
    };
  });
  const total = rows.reduce((a, x) => a + x.user + x.sys, 0);
  return {
    p50: rep?.timeToSubscribed.p50,
    p99: rep?.timeToSubscribed.p99,
    failed: rep?.clients.failed,
    failures: rep?.clients.failures,
    totalCpu: +total.toFixed(2),
    listenDrops: drops,
    window: `${t0.toFixed(3)},${tDone.toFixed(3)}`,
    ...(serverLog !== undefined ? { log: `${log0},${logDone}` } : {}),
    ...(gcWanted ? { gc: gcOf(logRange(log0, logDone), Number(n)) } : {}),
    rows,
  };
}

async function main(): Promise<void> {
  for (let r = 0; r < reps; r++) {
    const port = Number(get('--port') ?? 18_600) + r;
    const srv = await startServer(centrifugo ? 'centrifugo' : 'gyre', port, {
      gyreDist: resolve(get('--gyre-dist') ?? join(REPO, 'dist')),
      centrifugoBin: process.env['CENTRIFUGO_BIN'] ?? join(homedir(), 'go', 'bin', 'centrifugo'),
      nodeFlags: [
        ...words(get('--node-flags')),
        ...(gcWanted && !centrifugo ? ['--trace-gc-nvp'] : []),
        ...(heapBurst > 0 ? ['--import', join(REPO, 'bench', 'profile', 'heap-sample-preload.mjs')] : []),
      ],
      workers,
      gyreArgs: words(get('--gyre-args')),
      ...(argv.includes('--worker-args') ? { workerArgs: words(get('--worker-args')) } : {}),
      ...(sched !== undefined ? { sched } : {}),
      ...(argv.includes('--no-guard') ? { noGuard: true } : {}),
      ...(serverLog !== undefined ? { serverLog } : {}),
    });
    try {
      for (let b = 0; b < bursts; b++) {
        await sleep(b === 0 ? 1500 : 4000);
        const out = await burst(srv.pid, port, b === 0 ? firstClients : clients, b + 1 === heapBurst);
        process.stdout.write(`${JSON.stringify({ rep: r + 1, burst: b + 1, ...out })}\n`);
      }
    } finally {
      await srv.stop();
      await sleep(1500);
    }
  }
}

void main();
