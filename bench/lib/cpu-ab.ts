// CPU-time micro A/B: runs two functions alternately, each for a fixed slice of process CPU time, so both see
// the same noise, and reports the median CPU nanoseconds per call of each. Used by the *.bench.ts micro-benchmarks.

export interface CpuAbOptions {
  /** Alternating runs of each function. */
  runs: number;
  /** CPU time of one run, ms. */
  runMs: number;
  /** A run also stops after this many calls (for very cheap functions). */
  maxCallsPerRun?: number;
  /** Calls between two reads of the CPU clock. */
  batch?: number;
}

// Every result is stored here, so the optimiser cannot drop a call whose result is unused.
let kept: unknown;

/** Median of `xs` (the upper one of an even count); 0 for none. */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** CPU nanoseconds per call of `fn`, over one run. */
export function cpuNsPerCall(fn: () => unknown, o: CpuAbOptions): number {
  const max = o.maxCallsPerRun ?? Number.POSITIVE_INFINITY;
  const batch = o.batch ?? 1000;
  let n = 0;
  const start = process.cpuUsage();
  let elapsedUs = 0;
  while (elapsedUs < o.runMs * 1000 && n < max) {
    for (let i = 0; i < batch; i++) kept = fn();
    n += batch;
    const d = process.cpuUsage(start);
    elapsedUs = d.user + d.system;
  }
  return (elapsedUs * 1000) / n;
}

/** Runs `a` and `b` alternately `o.runs` times each; their medians in ns per call. */
export function compareCpu(a: () => unknown, b: () => unknown, o: CpuAbOptions): [number, number] {
  const ra: number[] = [];
  const rb: number[] = [];
  for (let r = 0; r < o.runs; r++) {
    ra.push(cpuNsPerCall(a, o));
    rb.push(cpuNsPerCall(b, o));
  }
  return [median(ra), median(rb)];
}

/** The last result kept (read it once at the end so the store stays observable). */
export function lastKept(): unknown {
  return kept;
}
