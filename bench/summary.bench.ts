// Summary metric micro-benchmark: one observation into a label set's child of prom-client's Summary (a t-digest
// per age bucket, labels hashed per call) against Gyre's (src/metrics/summary.ts: a count per log-linear bucket in
// the current age bucket), with the two windows Gyre uses (60 s in 2 age buckets: client commands and surveys;
// 10 min in 5: API commands and proxies). Durations are lognormal around 200 µs (a connect's range), cycled from a
// pre-drawn table. Then the cost of reading one series (3 quantiles, _sum, _count) as a scrape does.
// Prints CPU ns per observation (median of RUNS alternating runs) and ours ÷ prom-client.
// Run: node --import tsx bench/summary.bench.ts
import { Registry, Summary } from 'prom-client';
import { WindowSummary } from '../src/metrics/summary.js';
import { compareCpu, median } from './lib/cpu-ab.js';

const RUNS = 7;
const RUN_MS = 200;
const MAX_ITERATIONS_PER_RUN = 20_000_000;

/** Runs `a` and `b` alternately RUNS times each (so both see the same noise); medians in ns/op. */
const compare = (a: () => unknown, b: () => unknown): [number, number] =>
  compareCpu(a, b, { runs: RUNS, runMs: RUN_MS, maxCallsPerRun: MAX_ITERATIONS_PER_RUN });

// Lognormal durations (seconds) around 200 µs, deterministic.
const values = new Float64Array(4096);
{
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  for (let i = 0; i < values.length; i++) {
    const normal = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    values[i] = 2e-4 * Math.exp(normal);
  }
}
const MASK = values.length - 1;

console.log(`summary.bench: median of ${RUNS} alternating runs x ${RUN_MS} ms CPU, node ${process.version}`);
console.log('| case | prom-client Summary | Gyre WindowSummary | ours / prom-client |');
console.log('|---|---|---|---|');
for (const [maxAgeSeconds, ageBuckets] of [
  [60, 2],
  [600, 5],
] as const) {
  const labelNames = ['method', 'channel_namespace'];
  const theirs = new Summary({ name: 't', help: 'h', labelNames, percentiles: [0.5, 0.99, 0.999], maxAgeSeconds, ageBuckets, registers: [] });
  const ours = new WindowSummary({ name: 'o', help: 'h', labelNames, percentiles: [0.5, 0.99, 0.999], maxAgeSeconds, ageBuckets });
  const labels = { method: 'connect', channel_namespace: '' };
  const theirChild = theirs.labels(labels);
  const ourChild = ours.labels(labels);
  let i = 0;
  let j = 0;
  const [t, o] = compare(
    () => theirChild.observe(values[i++ & MASK]!),
    () => ourChild.observe(values[j++ & MASK]!),
  );
  console.log(`| observe, ${maxAgeSeconds} s in ${ageBuckets} age buckets | ${t.toFixed(0)} ns | ${o.toFixed(1)} ns | ${(o / t).toFixed(3)} |`);

  // A read as /metrics does it: one series with the observations above.
  const rt = new Registry();
  const ro = new Registry();
  rt.registerMetric(theirs);
  const oursRead = new WindowSummary({ name: 'o', help: 'h', labelNames, percentiles: [0.5, 0.99, 0.999], maxAgeSeconds, ageBuckets, registers: [ro] });
  for (let k = 0; k < 100_000; k++) oursRead.labels(labels).observe(values[k & MASK]!);
  const readTimes: [number[], number[]] = [[], []];
  for (let r = 0; r < RUNS; r++) {
    for (const [reg, out] of [
      [rt, readTimes[0]],
      [ro, readTimes[1]],
    ] as const) {
      const n = 200;
      const start = process.cpuUsage();
      for (let k = 0; k < n; k++) void reg.getMetricsAsJSON();
      const d = process.cpuUsage(start);
      out.push(((d.user + d.system) * 1000) / n);
    }
  }
  const [rtMed, roMed] = [median(readTimes[0]), median(readTimes[1])];
  console.log(`| read one series (3 quantiles, sum, count), ${maxAgeSeconds} s / ${ageBuckets} | ${(rtMed / 1000).toFixed(1)} µs | ${(roMed / 1000).toFixed(1)} µs | ${(roMed / rtMed).toFixed(2)} |`);
}
