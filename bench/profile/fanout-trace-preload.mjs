// Trace hooks for the copy of dist/ made by bench/profile/fanout-trace.sh (node --import this file). Rows of
// 4 Float64 [type, t (epoch ms, the clock gyre-bench stamps), a, b], written at exit to
// $FP_OUT/<config name>-<pid>.f64. Types: 1 PUB/SUB socket read (bytes), 2 message start (ts, seq), 3 message
// end, 4 Writer flush start (writers), 5 flush end, 6 socket write (client index, messages), 7 GC (duration,
// kind), 8 timer callback over 50 µs (duration, delay). bench/profile/latency-dump.ts reads them.
import { writeFileSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';
const out = process.env.FP_OUT ?? '/tmp';
const cfgArg = process.argv[process.argv.indexOf('-c') + 1] ?? '';
const name = (cfgArg.split('/').pop() ?? 'node').replace(/\.json$/, '');
const origin = performance.timeOrigin;
const now = () => origin + performance.now();
let rows = new Float64Array(4 * 1_000_000);
let n = 0;
function rec(type, t, a, b) {
  if (n * 4 + 4 > rows.length) { const r = new Float64Array(rows.length * 2); r.set(rows); rows = r; }
  const i = n++ * 4; rows[i] = type; rows[i + 1] = t; rows[i + 2] = a; rows[i + 3] = b;
}
const SEQ = Buffer.from('"seq":'), TS = Buffer.from('"ts":');
function num(buf, key) {
  const i = buf.indexOf(key); if (i < 0) return -1;
  let j = i + key.length, v = 0, frac = 0, f = 0;
  for (; j < buf.length; j++) { const c = buf[j]; if (c === 46) { f = 1; continue; } if (c < 48 || c > 57) break; if (f) { frac += (c - 48) / 10 ** f; f++; } else v = v * 10 + (c - 48); }
  return v + frac;
}
let msgT = 0;
globalThis.__fp = {
  stream(s) { s.prependListener('data', (chunk) => rec(1, now(), chunk.length, 0)); },
  msgStart(p) { msgT = now(); rec(2, msgT, num(p, TS), num(p, SEQ)); },
  msgEnd() { rec(3, now(), msgT, 0); },
  flushStart(k) { rec(4, now(), k, 0); },
  flushEnd() { rec(5, now(), 0, 0); },
  write(c, k) { rec(6, now(), c, k); },
};
new PerformanceObserver((l) => { for (const e of l.getEntries()) rec(7, origin + e.startTime, e.duration, e.detail?.kind ?? 0); }).observe({ entryTypes: ['gc'] });
// Timer callbacks taking > 50 µs.
for (const k of ['setTimeout', 'setInterval']) {
  const orig = globalThis[k];
  globalThis[k] = function (fn, ms, ...args) {
    if (typeof fn !== 'function') return orig(fn, ms, ...args);
    return orig(function (...a) { const t0 = now(); try { return fn.apply(this, a); } finally { const d = now() - t0; if (d > 0.05) rec(8, t0, d, ms ?? 0); } }, ms, ...args);
  };
}
process.on('exit', () => { writeFileSync(`${out}/${name}-${process.pid}.f64`, new Uint8Array(rows.buffer, 0, n * 32)); });
