// Server CPU while nothing happens, from the moment compare.ts starts its measurement (1.5 s after the server is
// up) for as long as its connect burst lasts: what a goal run charges to the burst that the burst did not cause
// (the start-up warm-up's aftermath: garbage collection, pending compiles, timers). Per process, Gyre and
// Centrifugo alternating.
//   node --import tsx bench/profile/idle-after-start.ts [--reps 3] [--workers 2] [--gyre-dist DIR] [--for-ms 6000]
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuByProcess, sleep, startServer, threadCpu } from './procs.js';
import type { ServerKind } from './procs.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const opt = (n: string, d: string): string => {
  const i = argv.indexOf(n);
  return i >= 0 ? argv[i + 1]! : d;
};
const reps = Number(opt('--reps', '3'));
const workers = Number(opt('--workers', '2'));
const gyreDist = resolve(opt('--gyre-dist', join(REPO, 'dist')));
const forMs = Number(opt('--for-ms', '6000'));
const steps = [0, 1000, 2000, 3000, 4000, forMs].filter((t, i, a) => t <= forMs && a.indexOf(t) === i);


/** Per process (in tree order: the primary first) and thread name: the CPU seconds between two readings. */
function split(pids: number[], a: Map<number, Map<string, number>>, b: Map<number, Map<string, number>>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  pids.forEach((pid, i) => {
    const row: Record<string, number> = {};
    for (const [name, cpu] of b.get(pid) ?? []) {
      const d = Math.round((cpu - (a.get(pid)?.get(name) ?? 0)) * 100) / 100;
      if (d > 0) row[name] = d;
    }
    out[i === 0 ? `p${pid}` : `w${pid}`] = row;
  });
  return out;
}

let port = 18_900;
for (let r = 0; r < reps; r++) {
  for (const kind of (r % 2 === 0 ? ['gyre', 'centrifugo'] : ['centrifugo', 'gyre']) as ServerKind[]) {
    const srv = await startServer(kind, ++port, {
      gyreDist,
      centrifugoBin: process.env['CENTRIFUGO_BIN'] ?? join(homedir(), 'go', 'bin', 'centrifugo'),
      nodeFlags: [],
      workers,
    });
    try {
      await sleep(1500);
      const t0 = Date.now();
      const base = cpuByProcess(srv.pid);
      const pids = [...base.keys()];
      const baseThreads = new Map(pids.map((p) => [p, threadCpu(p)]));
      const at: Record<string, number> = {};
      for (const t of steps.slice(1)) {
        await sleep(Math.max(0, t0 + t - Date.now()));
        const now = cpuByProcess(srv.pid);
        let sum = 0;
        for (const [pid, cpu] of now) sum += cpu - (base.get(pid) ?? 0);
        at[`${t}ms`] = Math.round(sum * 1000) / 1000;
      }
      const endThreads = new Map(pids.map((p) => [p, threadCpu(p)]));
      console.log(JSON.stringify({ rep: r + 1, kind, cpuSecSinceMeasureStart: at, byThread: split(pids, baseThreads, endThreads) }));
    } finally {
      await srv.stop();
      await sleep(1000);
    }
  }
}
