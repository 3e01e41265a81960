// observeCommand (the client command histogram and summary, src/metrics/observe.ts) per call in two builds side by
// side in one process, alternating: e.g. main's dist against this branch's. CPU ns per call, median of 7 runs of
// 200 ms each; durations lognormal around 200 µs, as in bench/summary.bench.ts.
//   node --import tsx bench/profile/observe-command-ab.ts BEFORE_DIST AFTER_DIST
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

type Observe = (method: string, seconds: number) => void;

async function load(dist: string): Promise<Observe> {
  const m = (await import(pathToFileURL(resolve(dist, 'src/metrics/observe.js')).href)) as { observeCommand: Observe };
  return m.observeCommand;
}

const [beforeDist, afterDist] = process.argv.slice(2);
if (beforeDist === undefined || afterDist === undefined) throw new Error('usage: observe-command-ab.ts BEFORE_DIST AFTER_DIST');
const before = await load(beforeDist);
const after = await load(afterDist);

const values = new Float64Array(4096);
let seed = 7;
const rnd = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
for (let i = 0; i < values.length; i++) values[i] = 2e-4 * Math.exp(Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd()));

function run(f: Observe): number {
  let n = 0;
  let i = 0;
  const start = process.cpuUsage();
  let us = 0;
  while (us < 200_000) {
    for (let k = 0; k < 1000; k++) f('connect', values[i++ & 4095]!);
    n += 1000;
    const d = process.cpuUsage(start);
    us = d.user + d.system;
  }
  return (us * 1000) / n;
}

const rb: number[] = [];
const ra: number[] = [];
for (let r = 0; r < 7; r++) {
  rb.push(run(before));
  ra.push(run(after));
}
const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[3]!;
console.log(`observeCommand('connect', d): before ${median(rb).toFixed(0)} ns, after ${median(ra).toFixed(0)} ns per call (median of 7 alternating 200 ms CPU runs)`);
process.exit(0);
