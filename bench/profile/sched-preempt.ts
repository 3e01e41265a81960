// Who takes the CPU from one thread, from a system-wide `perf sched record` (BENCHMARKS.md §10.7): every time
// the thread is switched out while still runnable (prev_state R) counts as a preemption until it is switched
// in again, attributed to the task that got the CPU. With a fan-out trace (bench/profile/fanout-trace.sh) it
// also reports how much of the slow fan-out loops and flushes was spent off the CPU.
//   perf sched record -a -o DIR/sched.data -- bench/redis-fanout.sh DIR      (under the bench lock)
//   perf script -i DIR/sched.data -F comm,pid,tid,time,event,trace > DIR/sched.txt
//   node --import tsx bench/profile/sched-preempt.ts DIR/sched.txt TID [TRACE.f64 FROM_EPOCH_MS TO_EPOCH_MS]
// perf's clock is CLOCK_MONOTONIC, the trace's epoch ms: the offset is found by lining the trace's PUB/SUB
// reads up with the thread's switch-ins (the read follows the wake-up within 60 µs).
import { readFileSync } from 'node:fs';

const [schedFile, tidArg, traceFile, fromArg, toArg] = process.argv.slice(2);
if (schedFile === undefined || tidArg === undefined) throw new Error('usage: sched-preempt.ts SCHED.txt TID [TRACE.f64 FROM_MS TO_MS]');
const tid = Number(tidArg);

interface Switch {
  t: number;
  out: boolean;
  state: string;
  next: number;
}
const head = /^\s*(.*?)\s+(\d+)\/(\d+)\s+(\d+\.\d+):/;
const sw = /sched_switch: prev_comm=.*? prev_pid=(\d+) prev_prio=\d+ prev_state=(\S+) ==> next_comm=(.*?) next_pid=(\d+)/;
const proc = new Map<number, { pid: number; comm: string }>();
const switches: Switch[] = [];
for (const line of readFileSync(schedFile, 'utf8').split('\n')) {
  const h = head.exec(line);
  if (h === null) continue;
  const cur = Number(h[3]);
  if (!proc.has(cur)) proc.set(cur, { pid: Number(h[2]), comm: h[1]! });
  const m = sw.exec(line);
  if (m === null) continue;
  const prev = Number(m[1]);
  const next = Number(m[4]);
  if (prev === tid) switches.push({ t: Number(h[4]), out: true, state: m[2]!, next });
  else if (next === tid) switches.push({ t: Number(h[4]), out: false, state: '', next });
}

let offsetS = 0;
let from = -Infinity;
let to = Infinity;
const trace: number[][] = [];
if (traceFile !== undefined) {
  const r = new Float64Array(new Uint8Array(readFileSync(traceFile)).buffer);
  for (let i = 0; i + 4 <= r.length; i += 4) trace.push([r[i]!, r[i + 1]! / 1000]);
  const ins = switches.filter((s) => !s.out).map((s) => s.t);
  const reads = trace.filter((e) => e[0] === 1).map((e) => e[1]!);
  const sample = reads.filter((_, i) => i % 10 === 0);
  const hits = (off: number): number => {
    let n = 0;
    for (const x of sample) {
      const t = x - off;
      let lo = 0;
      let hi = ins.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (ins[mid]! <= t) lo = mid + 1;
        else hi = mid;
      }
      if (lo > 0 && t - ins[lo - 1]! < 60e-6) n++;
    }
    return n;
  };
  // Coarse (20 µs steps over ±1 s around epoch - monotonic now), then fine (1 µs).
  const guess = Date.now() / 1000 - Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  let best = { off: guess, n: -1 };
  for (let k = -50_000; k <= 50_000; k++) {
    const off = guess + k * 20e-6;
    const n = hits(off);
    if (n > best.n) best = { off, n };
  }
  for (let k = -20; k <= 20; k++) {
    const off = best.off + k * 1e-6;
    const n = hits(off);
    if (n > best.n) best = { off, n };
  }
  offsetS = best.off;
  console.log(`clock offset ${offsetS.toFixed(6)} s: ${best.n} of ${sample.length} sampled reads follow a switch-in within 60 µs`);
  if (fromArg !== undefined) from = Number(fromArg) / 1000 - offsetS;
  if (toArg !== undefined) to = Number(toArg) / 1000 - offsetS;
}

// Preemptions inside the window.
const byTask = new Map<string, { n: number; ms: number; over03: number }>();
let total = 0;
let count = 0;
const offCpu: [number, number][] = [];
for (let i = 0; i < switches.length; i++) {
  const s = switches[i]!;
  if (!s.out) continue;
  let j = i + 1;
  while (j < switches.length && switches[j]!.out) j++;
  const back = switches[j];
  if (back === undefined) break;
  offCpu.push([s.t, back.t]);
  i = j;
  if (!s.state.startsWith('R') || s.t < from || s.t > to) continue;
  const ms = (back.t - s.t) * 1000;
  const p = proc.get(s.next);
  const key = `${p?.comm ?? '?'} pid ${p?.pid ?? '?'} tid ${s.next}`;
  const e = byTask.get(key) ?? { n: 0, ms: 0, over03: 0 };
  e.n++;
  e.ms += ms;
  if (ms > 0.3) e.over03++;
  byTask.set(key, e);
  total += ms;
  count++;
}
console.log(`preempted ${count} times, ${total.toFixed(1)} ms runnable but off the CPU`);
console.log('| task that got the CPU | times | ms | times over 0.3 ms |\n|---|---|---|---|');
for (const [k, e] of [...byTask].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) {
  console.log(`| ${k} | ${e.n} | ${e.ms.toFixed(1)} | ${e.over03} |`);
}

if (trace.length > 0) {
  // Off-CPU time inside the trace's slow spans.
  const spans = (startType: number, endType: number, overMs: number): [number, number][] => {
    const out: [number, number][] = [];
    let s = NaN;
    for (const e of trace) {
      const t = e[1]! - offsetS;
      if (t < from || t > to) continue;
      if (e[0] === startType) s = t;
      else if (e[0] === endType && !Number.isNaN(s)) {
        if ((t - s) * 1000 > overMs) out.push([s, t]);
        s = NaN;
      }
    }
    return out;
  };
  const off = (a: number, b: number): number => {
    let sum = 0;
    for (const [x, y] of offCpu) if (y > a && x < b) sum += Math.min(b, y) - Math.max(a, x);
    return sum;
  };
  for (const [name, st, en, over] of [
    ['fan-out loops (message start → end) over 0.5 ms', 2, 3, 0.5],
    ['flushes (100 writes) over 1.5 ms', 4, 5, 1.5],
  ] as const) {
    const sp = spans(st, en, over);
    const dur = sp.reduce((a, [x, y]) => a + (y - x), 0) * 1000;
    const o = sp.reduce((a, [x, y]) => a + off(x, y), 0) * 1000;
    console.log(`${name}: ${sp.length}, ${dur.toFixed(1)} ms in all, of which off the CPU ${o.toFixed(1)} ms`);
  }
}
