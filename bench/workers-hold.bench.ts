// Many simultaneous subscribed connections on one machine with Gyre worker processes (docs/workers.md): one
// process is capped by its fd limit (about 20,000 here), so 38,000 connections need 2 workers. gyre-bench holds
// the connections from several generator processes and source addresses; the server's RSS is summed over the
// primary and its workers, and the connections each worker holds are counted with `ss`.
//
//   node --import tsx bench/workers-hold.bench.ts [--clients 38000] [--workers 2] [--sched rr|none]
//        [--rate 2000] [--hold 20s] [--processes 3] [--out FILE.json]
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_KEY, HMAC, HOST, processTree, runBench, sample, sleep, socketsByPid, startServer } from './profile/procs.js';
import type { Sample } from './profile/procs.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function arg(name: string, d: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? d) : d;
}

async function main(): Promise<void> {
  const clients = Number(arg('--clients', '38000'));
  const workers = Number(arg('--workers', '2'));
  const sched = arg('--sched', 'rr') as 'none' | 'rr';
  const out = arg('--out', '');
  spawnSync(process.execPath, ['scripts/ensure-build.mjs'], { cwd: REPO, stdio: 'inherit' });
  const port = 18_400 + Math.floor(Math.random() * 500);
  const srv = await startServer('gyre', port, {
    gyreDist: join(REPO, 'dist'),
    centrifugoBin: join(homedir(), 'go', 'bin', 'centrifugo'),
    nodeFlags: [],
    workers,
    sched,
  });
  try {
    await sleep(1500);
    const before = sample(srv.pid) as Sample;
    let atHold: Sample | null = null;
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
        atHold = sample(srv.pid);
        spread = socketsByPid(port);
      },
    );
    const report = r.report as { clients?: { subscribed: number; failed: number; failures?: Record<string, number> } } | null;
    const held = Object.values(spread).reduce((a, b) => a + b, 0);
    const hold = atHold as Sample | null;
    const result = {
      clients,
      workers,
      sched,
      processes: processTree(srv.pid).length,
      subscribed: report?.clients?.subscribed ?? null,
      failed: report?.clients?.failed ?? null,
      failures: report?.clients?.failures ?? {},
      heldAtHoldStart: held,
      perProcess: spread,
      rssBeforeKb: before.rssKb,
      rssAtHoldKb: hold?.rssKb ?? null,
      rssPerConnKb: hold !== null && held > 0 ? Math.round(((hold.rssKb - before.rssKb) / held) * 100) / 100 : null,
      serverCpuSecToHold: hold !== null ? Math.round((hold.cpuSec - before.cpuSec) * 100) / 100 : null,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (out !== '') writeFileSync(out, `${JSON.stringify({ result, log: r.log.slice(-4000) }, null, 2)}\n`);
  } finally {
    await srv.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`workers-hold: ${String(err)}\n`);
  process.exit(1);
});
