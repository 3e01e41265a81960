// The benchmark table: Gyre, real Centrifugo v6, a Socket.IO 4 server and a bare `ws` server (the floor), the
// same workloads applied to each, in one run on one machine. For each run, each peer in a fixed order, each
// workload: start the server fresh, drive it (gyre-bench for the Centrifugo-protocol peers, the Socket.IO
// driver for socketio), stop it. Writes bench/results/<timestamp>/*.json and table.md (medians over runs,
// ratios Gyre/peer) and the charts (charts.html + PNGs, bench/lib/charts-png.ts).
// Run: node --import tsx bench/table.ts [--runs 3] [--quick] [--only gyre,centrifugo,socketio,ws-bare]
//        [--workloads burst,idle,…] [--out bench/results] [--workers 2] [--max-minutes 180]
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { stopAll } from './lib/children.js';
import { writeChartFiles } from './lib/charts-png.js';
import { runGyreBench } from './lib/gyre-bench-adapter.js';
import type { RunRecord, WorkloadResult } from './lib/result.js';
import { centrifugoBinary, REPO_ROOT, startServer, type PeerName, type RunningServer } from './lib/servers.js';
import { parseTableArgs, type TableArgs } from './lib/table-args.js';
import { runSocketIoDriver } from './lib/socketio-runner.js';
import { describeWorkload, renderMarkdown } from './lib/summary.js';
import { sleep } from './lib/wait.js';
import { tableWorkloads, type Workload } from './lib/workloads.js';

function drive(peer: PeerName, w: Workload, s: RunningServer, jsonFile: string, workers: number): Promise<WorkloadResult> {
  const o = { workers, jsonFile };
  return peer === 'socketio' ? runSocketIoDriver(w, s, o) : runGyreBench(w, s, o);
}

function oneLine(r: WorkloadResult): string {
  switch (r.kind) {
    case 'burst':
      return `subscribed ${r.subscribed}/${r.connections}, tts p50 ${r.timeToSubscribed.p50}ms p99 ${r.timeToSubscribed.p99}ms`;
    case 'idle':
      return `subscribed ${r.subscribed}/${r.connections}, ${r.bytesPerConnection ?? '?'} B/conn`;
    case 'fanout':
      return `${r.deliveriesPerSec} deliveries/s (${r.deliveries}/${r.expectedDeliveries}), p50 ${r.latency.p50}ms p99 ${r.latency.p99}ms, cpu/1M ${r.cpuSecondsPerMillion?.toFixed(1) ?? '?'}s`;
  }
}

function tryCmd(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', cwd: REPO_ROOT, timeout: 120_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

function environment(a: TableArgs, argv: readonly string[]): string[] {
  const centrifugo = a.peers.includes('centrifugo') ? tryCmd(centrifugoBinary(), ['version']) : 'not run';
  return [
    `Command: \`node --import tsx bench/table.ts ${argv.join(' ')}\``,
    `Date: ${new Date().toISOString()} · commit ${tryCmd('git', ['rev-parse', '--short', 'HEAD'])} · Node ${process.version} · ${centrifugo}`,
    `Machine: ${availableParallelism()} CPUs, load average at start ${loadavg().map((x) => x.toFixed(2)).join(' ')}`,
    `Runs: ${a.runs}${a.quick ? ' (--quick: every N ÷ 10)' : ''} · load-generator worker threads: ${a.workers} · values are medians over runs.`,
    'Ratios are Gyre ÷ peer: below 1× is better for ↓ metrics, above 1× is better for ↑ metrics.',
  ];
}

async function main(argv: readonly string[]): Promise<number> {
  const a = parseTableArgs(argv);
  const workloads = tableWorkloads(a.quick ? 10 : 1).filter((w) => a.workloadIds === null || a.workloadIds.includes(w.id));
  if (workloads.length === 0) throw new Error('no workload selected');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = join(a.out, stamp);
  mkdirSync(dir, { recursive: true });
  const deadline = Date.now() + a.maxMinutes * 60_000;
  const records: RunRecord[] = [];
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  const env = environment(a, argv);
  log(`bench/table: ${a.peers.join(', ')} × ${workloads.length} workloads × ${a.runs} runs → ${dir}`);
  let stoppedEarly = false;
  try {
    outer: for (let run = 1; run <= a.runs; run++) {
      for (const peer of a.peers) {
        for (const w of workloads) {
          if (Date.now() > deadline) {
            stoppedEarly = true;
            break outer;
          }
          const base = `${peer}.${w.id}.run${run}`;
          const startedAt = new Date().toISOString();
          let server: RunningServer | null = null;
          let rec: RunRecord;
          try {
            server = await startServer(peer);
            const result = await drive(peer, w, server, join(dir, `${base}.raw.json`), a.workers);
            if (!server.alive()) throw new Error(`${peer} died during the workload: ${server.output().slice(-800)}`);
            rec = { peer, run, workload: w, startedAt, ok: true, result };
            log(`[run ${run}] ${peer} · ${w.id}: ${oneLine(result)}`);
          } catch (err) {
            const msg = err instanceof Error ? err.message : String(err);
            rec = { peer, run, workload: w, startedAt, ok: false, error: msg };
            log(`[run ${run}] ${peer} · ${w.id}: FAILED ${msg.split('\n')[0] ?? ''}`);
          } finally {
            await server?.stop();
          }
          records.push(rec);
          writeFileSync(join(dir, `${base}.json`), `${JSON.stringify(rec, null, 2)}\n`);
          await sleep(1000); // let sockets close and the kernel settle between workloads
        }
      }
    }
  } finally {
    await stopAll();
    const md = [
      '## Gyre vs Centrifugo v6 vs Socket.IO 4 vs bare ws',
      '',
      ...env.map((l) => `${l}  `),
      ...(stoppedEarly ? ['', `**Stopped early: --max-minutes ${a.maxMinutes} reached.**`] : []),
      '',
      'Workloads: ' + workloads.map((w) => `\`${w.id}\` (${describeWorkload(w)})`).join(', ') + '.',
      '',
      renderMarkdown(records, workloads, a.peers),
    ].join('\n');
    writeFileSync(join(dir, 'records.json'), `${JSON.stringify(records, null, 2)}\n`);
    writeFileSync(join(dir, 'table.md'), md);
    process.stdout.write(`${md}\n`);
    log(`written: ${join(dir, 'table.md')}`);
    // Charts come last and never cost the table: without Chromium (or on any rendering error) only warn.
    try {
      const charts = await writeChartFiles(records, dir, { peers: a.peers, workloads, header: env });
      log(`written: ${[charts.html, ...charts.pngs].join(', ')}`);
      if (charts.warning !== null) log(`bench/table: warning: ${charts.warning}`);
    } catch (err) {
      log(`bench/table: warning: charts not rendered: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return records.some((r) => !r.ok) ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench/table: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
