// Runs one workload through the Socket.IO driver (bench/peers/socketio-client-driver.ts) as a child process
// and reads its WorkloadResult from stdout.
import { writeFileSync } from 'node:fs';
import { workloadTimeoutSec, type DriverOptions } from './gyre-bench-adapter.js';
import type { WorkloadResult } from './result.js';
import { keyErrorLine, runProcess } from './run-process.js';
import { REPO_ROOT, type RunningServer } from './servers.js';
import type { Workload } from './workloads.js';

const KINDS: readonly string[] = ['burst', 'idle', 'fanout'];

export function parseDriverOutput(stdout: string): WorkloadResult {
  const lines = stdout.trim().split('\n');
  const last = lines[lines.length - 1] ?? '';
  const r: unknown = JSON.parse(last);
  if (typeof r !== 'object' || r === null || !KINDS.includes(String((r as { kind?: unknown }).kind))) {
    throw new Error('Socket.IO driver printed no result');
  }
  return r as WorkloadResult;
}

export async function runSocketIoDriver(w: Workload, s: RunningServer, o: DriverOptions): Promise<WorkloadResult> {
  const args = [
    '--import', 'tsx',
    'bench/peers/socketio-client-driver.ts',
    '--url', s.clientUrl,
    '--api', s.publishUrl.replace(/\/publish$/, ''),
    '--api-key', s.apiKey,
    '--workload', JSON.stringify(w),
    '--server-pid', String(s.pid),
    '--workers', String(o.workers),
    '--json',
  ];
  const res = await runProcess(process.execPath, args, { cwd: REPO_ROOT, timeoutMs: (workloadTimeoutSec(w) + 60) * 1000 });
  if (res.code !== 0) {
    const why = `exit ${res.code ?? res.signal ?? '?'}${res.timedOut ? ', timed out' : ''}`;
    throw new Error(`Socket.IO driver failed (${why}): ${keyErrorLine(res.stderr)}\n${res.stderr.slice(-1500)}`);
  }
  const result = parseDriverOutput(res.stdout);
  writeFileSync(o.jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}
