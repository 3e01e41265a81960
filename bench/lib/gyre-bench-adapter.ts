// Runs one workload through gyre-bench (bin/gyre-bench.js, Centrifugo JSON protocol) and turns its JSON
// report (loadtest/src/report/json.ts) into a WorkloadResult. gyre-bench reports server RSS/CPU only for
// `idle`; for fan-out stages the server's CPU is sampled here, over the last stage's publishing window,
// which starts when gyre-bench logs "stage N/N: publishing …" on stderr.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunReport } from '../../loadtest/src/report/json.js';
import { sampleProcess, type ProcSample } from './proc-stats.js';
import { cpuPerMillionAtRate, type LatencyMs, type ServerUsage, type WorkloadResult } from './result.js';
import { keyErrorLine, runProcess } from './run-process.js';
import { REPO_ROOT, type RunningServer } from './servers.js';
import type { Workload } from './workloads.js';

export interface DriverOptions {
  readonly workers: number;
  readonly jsonFile: string;
}

const CONNECT_TIMEOUT_SEC = 30;

/** Total time gyre-bench may take for a workload (its own --timeout); our process limit adds 30 s. */
export function workloadTimeoutSec(w: Workload): number {
  const connect = CONNECT_TIMEOUT_SEC + 10;
  switch (w.kind) {
    case 'burst':
      return connect + 10;
    case 'idle':
      return connect + w.holdSec + 10;
    case 'fanout':
      return connect + (w.warmupSec > 0 ? 2 : 1) * (w.durationSec + 6) + 10;
  }
}

export function gyreBenchArgs(w: Workload, s: RunningServer, o: DriverOptions): string[] {
  const api = s.publishUrl.replace(/\/publish$/, '');
  const common = [
    '--url', s.clientUrl,
    '--api', api,
    '--api-key', s.apiKey,
    '--hmac-secret', s.hmacSecret,
    '--channel-prefix', 'bench-',
    '--rate', '0',
    '--workers', String(o.workers),
    '--connect-timeout', `${CONNECT_TIMEOUT_SEC}s`,
    '--timeout', `${workloadTimeoutSec(w)}s`,
    '--server-pid', String(s.pid),
    '--json', o.jsonFile,
  ];
  switch (w.kind) {
    case 'burst':
      return ['connect', ...common, '--clients', String(w.connections)];
    case 'idle':
      return ['idle', ...common, '--clients', String(w.connections), '--duration', `${w.holdSec}s`];
    case 'fanout': {
      const rates = w.warmupSec > 0 ? `${w.publishRate},${w.publishRate}` : String(w.publishRate);
      return [
        'fanout', ...common,
        '--clients', String(w.channels * w.subscribersPerChannel),
        '--channels', String(w.channels),
        '--publish-rate', rates,
        '--duration', `${w.durationSec}s`,
        '--size', String(w.payloadBytes),
      ];
    }
  }
}

const lat = (l: { count: number; p50: number; p99: number; max: number }): LatencyMs => ({
  count: l.count,
  p50: l.p50,
  p99: l.p99,
  max: l.max,
});

function usage(a: ProcSample | null, b: ProcSample | null): ServerUsage | null {
  if (a === null || b === null) return null;
  return {
    cpuSeconds: b.cpuSeconds - a.cpuSeconds,
    wallSeconds: (b.atMs - a.atMs) / 1000,
    rssBeforeBytes: a.rssBytes,
    rssAfterBytes: b.rssBytes,
  };
}

/** Converts a gyre-bench report; `stageUsage` is the server usage over the last fan-out stage, if sampled. */
export function fromGyreBenchReport(w: Workload, r: RunReport, stageUsage: ServerUsage | null, wholeRun: ServerUsage | null): WorkloadResult {
  const failures = r.clients.failed;
  switch (w.kind) {
    case 'burst':
      return {
        kind: 'burst',
        connections: w.connections,
        subscribed: r.clients.subscribed,
        failures,
        totalMs: Math.round(r.timeToSubscribed.max),
        timeToSubscribed: lat(r.timeToSubscribed),
        server: wholeRun,
      };
    case 'idle': {
      const s = r.server;
      const srv: ServerUsage | null =
        s === null
          ? null
          : {
              cpuSeconds: s.cpuSeconds,
              wallSeconds: r.heldSec ?? w.holdSec,
              rssBeforeBytes: s.rssBeforeKb * 1024,
              rssAfterBytes: s.rssAfterKb * 1024,
            };
      return {
        kind: 'idle',
        connections: w.connections,
        subscribed: r.clients.subscribed,
        failures,
        holdSec: r.heldSec ?? w.holdSec,
        bytesPerConnection: s?.rssPerConnectionKb == null ? null : Math.round(s.rssPerConnectionKb * 1024),
        server: srv,
      };
    }
    case 'fanout': {
      const st = r.stages[r.stages.length - 1];
      if (st === undefined) throw new Error('gyre-bench report has no fan-out stage');
      const failed = Object.values(st.publish.failed).reduce((a, b) => a + b, 0);
      return {
        kind: 'fanout',
        subscribed: r.clients.subscribed,
        failures,
        published: st.publish.ok,
        publishErrors: failed,
        expectedDeliveries: st.expectedDeliveries,
        deliveries: st.deliveries,
        measureSec: st.durationSec,
        deliveriesPerSec: st.deliveriesPerSec,
        latency: lat(st.latency),
        cpuSecondsPerMillion:
          stageUsage === null ? null : cpuPerMillionAtRate(stageUsage.cpuSeconds / stageUsage.wallSeconds, st.deliveriesPerSec),
        server: stageUsage,
      };
    }
  }
}

function parseReport(text: string): RunReport {
  const r: unknown = JSON.parse(text);
  if (typeof r !== 'object' || r === null || (r as { tool?: unknown }).tool !== 'gyre-bench') {
    throw new Error('not a gyre-bench report');
  }
  return r as RunReport;
}

const STAGE_LINE = /^stage (\d+)\/(\d+): publishing/;

export async function runGyreBench(w: Workload, s: RunningServer, o: DriverOptions): Promise<WorkloadResult> {
  const args = [join(REPO_ROOT, 'bin/gyre-bench.js'), ...gyreBenchArgs(w, s, o)];
  const runStart = sampleProcess(s.pid);
  let stageStart: ProcSample | null = null;
  let stageEnd: ProcSample | null = null;
  let stageTimer: NodeJS.Timeout | null = null;
  const res = await runProcess(process.execPath, args, {
    cwd: REPO_ROOT,
    timeoutMs: (workloadTimeoutSec(w) + 30) * 1000,
    onStderrLine: (line) => {
      const m = STAGE_LINE.exec(line);
      if (m === null || m[1] !== m[2] || w.kind !== 'fanout') return;
      stageStart = sampleProcess(s.pid);
      stageTimer = setTimeout(() => {
        stageEnd = sampleProcess(s.pid);
      }, w.durationSec * 1000);
    },
  });
  if (stageTimer !== null) clearTimeout(stageTimer);
  const runEnd = sampleProcess(s.pid);
  let text: string;
  try {
    text = readFileSync(o.jsonFile, 'utf8');
  } catch {
    const why = `exit ${res.code ?? res.signal ?? '?'}${res.timedOut ? ', timed out' : ''}`;
    throw new Error(`gyre-bench wrote no report (${why}): ${keyErrorLine(res.stderr)}\n${res.stderr.slice(-1500)}`);
  }
  const report = parseReport(text);
  if (report.stopReason === 'error') throw new Error(`gyre-bench: ${report.error ?? 'error'}`);
  return fromGyreBenchReport(w, report, usage(stageStart, stageEnd), usage(runStart, runEnd));
}
