// Resource sampling of a server process through /proc (Linux only): resident memory and CPU time.
import { readFileSync } from 'node:fs';

/** Linux USER_HZ; 100 on every mainstream kernel configuration. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** VmRSS from /proc/PID/status text, in bytes; null if absent. */
export function parseVmRssBytes(statusText: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(statusText);
  return m?.[1] !== undefined ? Number(m[1]) * 1024 : null;
}

/**
 * utime + stime (fields 14 and 15) from /proc/PID/stat text, in seconds. The command name (field 2) may contain
 * spaces and parentheses, so fields are counted after the LAST ')'.
 */
export function parseStatCpuSeconds(statText: string, ticksPerSecond = CLOCK_TICKS_PER_SECOND): number | null {
  const close = statText.lastIndexOf(')');
  if (close < 0) return null;
  const rest = statText.slice(close + 2).trim().split(/\s+/); // rest[0] is field 3 (state)
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return (utime + stime) / ticksPerSecond;
}

export interface ProcSample {
  readonly atMs: number;
  readonly rssBytes: number;
  readonly cpuSeconds: number;
}

/** One sample of a live process; null when the process is gone or /proc is unavailable. */
export function sampleProcess(pid: number): ProcSample | null {
  try {
    const rss = parseVmRssBytes(readFileSync(`/proc/${pid}/status`, 'utf8'));
    const cpu = parseStatCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    if (rss === null || cpu === null) return null;
    return { atMs: Date.now(), rssBytes: rss, cpuSeconds: cpu };
  } catch {
    return null;
  }
}

export interface ProcDelta {
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  readonly rssDeltaBytes: number;
  readonly rssAfterBytes: number;
}

export function diffSamples(before: ProcSample, after: ProcSample): ProcDelta {
  return {
    wallSeconds: (after.atMs - before.atMs) / 1000,
    cpuSeconds: after.cpuSeconds - before.cpuSeconds,
    rssDeltaBytes: after.rssBytes - before.rssBytes,
    rssAfterBytes: after.rssBytes,
  };
}
