// Label-child cache micro-benchmark: the two ways src/metrics cached a metric's label children, as a lookup
// only (the child's own work is a counter bump in both) and with a prom-client histogram observe behind it.
//   joined: one Map keyed by the label values joined with \u0000, the child made by a closure passed on every
//           call (registry.ts's former `childOf`)
//   nested: one Map level per label value, the factory given once (src/metrics/children.ts, `Children2`)
// The label values cycle over 4 x 4 combinations read from arrays, as a hot path sees them (already-made strings).
// Prints CPU ns per lookup (median of RUNS alternating runs) and nested / joined.
// Run: /work/wt/notes/bench-lock node --import tsx bench/label-cache.bench.ts
import { Histogram } from 'prom-client';
import { Children1, Children2 } from '../src/metrics/children.js';
import { compareCpu } from './lib/cpu-ab.js';

const RUNS = 9;
const RUN_MS = 200;

const AB = { runs: RUNS, runMs: RUN_MS };
const compare = (a: () => unknown, b: () => unknown): [number, number] => compareCpu(a, b, AB);

function childOf<C>(cache: Map<string, C>, key: string, make: () => C): C {
  let c = cache.get(key);
  if (c === undefined) {
    c = make();
    cache.set(key, c);
  }
  return c;
}

const A = ['publication', 'join', 'leave', 'control'];
const B = ['', 'chat', 'rooms', 'news'];
const MASK = 15;

console.log(`label-cache.bench: median of ${RUNS} alternating runs x ${RUN_MS} ms CPU, node ${process.version}`);
console.log('| case | joined key + closure | nested Maps, factory once | nested / joined |');
console.log('|---|---|---|---|');
{
  const joined = new Map<string, { n: number }>();
  const nested = new Children2<{ n: number }>(() => ({ n: 0 }));
  let i = 0;
  let j = 0;
  const [t, o] = compare(
    () => {
      const k = i++ & MASK;
      const a = A[k >> 2]!;
      const b = B[k & 3]!;
      childOf(joined, `${a}\u0000${b}`, () => ({ n: 0 })).n++;
    },
    () => {
      const k = j++ & MASK;
      nested.get(A[k >> 2]!, B[k & 3]!).n++;
    },
  );
  console.log(`| two labels, lookup + bump | ${t.toFixed(1)} ns | ${o.toFixed(1)} ns | ${(o / t).toFixed(2)} |`);
}
{
  const joined = new Map<string, { n: number }>();
  const nested = new Children1<{ n: number }>(() => ({ n: 0 }));
  let i = 0;
  let j = 0;
  const [t, o] = compare(
    () => {
      const a = A[i++ & 3]!;
      childOf(joined, a, () => ({ n: 0 })).n++;
    },
    () => {
      nested.get(A[j++ & 3]!).n++;
    },
  );
  console.log(`| one label, lookup + bump | ${t.toFixed(1)} ns | ${o.toFixed(1)} ns | ${(o / t).toFixed(2)} |`);
}
{
  const h1 = new Histogram({ name: 'h1', help: 'h', labelNames: ['type', 'channel_namespace'], buckets: [0.001, 0.01, 0.1, 1], registers: [] });
  const h2 = new Histogram({ name: 'h2', help: 'h', labelNames: ['type', 'channel_namespace'], buckets: [0.001, 0.01, 0.1, 1], registers: [] });
  type Child = ReturnType<typeof h1.labels>;
  const joined = new Map<string, Child>();
  const nested = new Children2<Child>((a, b) => h2.labels(a, b));
  let i = 0;
  let j = 0;
  const [t, o] = compare(
    () => {
      const k = i++ & MASK;
      const a = A[k >> 2]!;
      const b = B[k & 3]!;
      childOf(joined, `${a}\u0000${b}`, () => h1.labels(a, b)).observe(0.004);
    },
    () => {
      const k = j++ & MASK;
      nested.get(A[k >> 2]!, B[k & 3]!).observe(0.004);
    },
  );
  console.log(`| two labels, prom-client histogram observe | ${t.toFixed(1)} ns | ${o.toFixed(1)} ns | ${(o / t).toFixed(2)} |`);
}
