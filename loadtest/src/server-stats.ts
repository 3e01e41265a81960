// Target server resource usage from /proc/<pid>: resident memory and CPU ticks.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcSample {
  rssKb: number;
  /** utime + stime in clock ticks. */
  cpuTicks: number;
  /** performance.now() when sampled. */
  at: number;
}

/** Parses VmRSS (kB) out of /proc/<pid>/status. */
export function parseVmRssKb(status: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m === null ? null : Number(m[1]);
}

/** utime + stime (fields 14 and 15) of /proc/<pid>/stat; the command name may contain spaces. */
export function parseCpuTicks(stat: string): number | null {
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const fields = stat.slice(close + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14 → index 11, stime field 15 → index 12.
  const u = Number(fields[11]);
  const s = Number(fields[12]);
  return Number.isFinite(u) && Number.isFinite(s) ? u + s : null;
}

let clkTck: number | null = null;
export function clockTicksPerSecond(): number {
  if (clkTck === null) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

export function sampleProcess(pid: number): ProcSample | null {
  try {
    const rss = parseVmRssKb(readFileSync(`/proc/${pid}/status`, 'utf8'));
    const cpu = parseCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    if (rss === null || cpu === null) return null;
    return { rssKb: rss, cpuTicks: cpu, at: performance.now() };
  } catch {
    return null;
  }
}

export interface ServerUsage {
  pid: number;
  rssBeforeKb: number;
  rssAfterKb: number;
  rssPerConnectionKb: number | null;
  cpuSeconds: number;
  cpuPercent: number;
  /** Server CPU seconds per connection per second of wall time (×1e6 = µs per connection-second). */
  cpuPerConnectionPerSec: number | null;
}

export function usageBetween(pid: number, a: ProcSample, b: ProcSample, connections: number): ServerUsage {
  const cpuSeconds = (b.cpuTicks - a.cpuTicks) / clockTicksPerSecond();
  const wall = Math.max(0.001, (b.at - a.at) / 1000);
  return {
    pid,
    rssBeforeKb: a.rssKb,
    rssAfterKb: b.rssKb,
    rssPerConnectionKb: connections > 0 ? Math.round(((b.rssKb - a.rssKb) / connections) * 100) / 100 : null,
    cpuSeconds: Math.round(cpuSeconds * 100) / 100,
    cpuPercent: Math.round((cpuSeconds / wall) * 1000) / 10,
    cpuPerConnectionPerSec: connections > 0 ? cpuSeconds / wall / connections : null,
  };
}
