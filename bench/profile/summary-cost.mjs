// CPU of one observation through a prom-client Summary child with the API command summary's settings (5 age
// buckets over 600 s, 3 quantiles) against a Histogram child (BENCHMARKS.md §10.8).
//   node bench/profile/summary-cost.mjs
import { Histogram, Registry, Summary } from 'prom-client';

const registry = new Registry();
const summary = new Summary({
  name: 's5',
  help: 'h',
  labelNames: ['protocol', 'method'],
  percentiles: [0.5, 0.99, 0.999],
  maxAgeSeconds: 600,
  ageBuckets: 5,
  registers: [registry],
});
const histogram = new Histogram({ name: 'h', help: 'h', labelNames: ['protocol', 'method'], registers: [registry] });
const s = summary.labels('http', 'publish');
const h = histogram.labels('http', 'publish');
const N = 200_000;
for (const [name, observe] of [
  ['summary (5 age buckets) child', (v) => s.observe(v)],
  ['histogram child', (v) => h.observe(v)],
]) {
  for (let round = 0; round < 3; round++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) observe(0.0001 + Math.random() * 0.001);
    const c = process.cpuUsage(c0);
    console.log(`${name}: ${(((c.user + c.system) * 1000) / N).toFixed(0)} ns per observation`);
  }
}
