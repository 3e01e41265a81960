// Takes a fan-out run's tail apart: reads the per-delivery dumps of gyre-bench (`fanout --latency-dump`,
// bench/redis-fanout.sh LATENCY_DUMP=1) and reports per stage and peer where the deliveries above p95 sit:
// by generator pool, by the client's place in its channel, by publication (are whole publications late, or
// single deliveries?). With a node trace (rows [type, t, a, b], see TRACE below) it also splits each delivery
// into send → PUB/SUB message on the node, message → socket write, write → receipt by the generator.
//   usage: node --import tsx bench/profile/latency-dump.ts OUT_DIR PEER [TRACE_FILE]
//   TRACE rows: 1 PUB/SUB socket read (bytes), 2 message start (ts, seq), 3 message end, 4 flush start
//   (writers), 5 flush end, 6 socket write (client index, messages), 7 GC (duration, kind), 8 timer callback
//   (duration, delay).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DUMP_COLUMNS, readLatencyDump } from '../../loadtest/src/latency-dump.js';

interface Delivery {
  pool: number;
  client: number;
  seq: number;
  sent: number;
  received: number;
}

const [dir, peer, traceFile] = process.argv.slice(2);
if (dir === undefined || peer === undefined) throw new Error('usage: latency-dump.ts OUT_DIR PEER [TRACE_FILE]');
const channels = Number(process.env['CHANNELS'] ?? 20);

const deliveries: Delivery[] = [];
for (const f of readdirSync(dir).filter((x) => x.startsWith(`${peer}.lat.w`))) {
  const pool = Number(f.slice(`${peer}.lat.w`.length));
  const r = readLatencyDump(readFileSync(join(dir, f)));
  for (let i = 0; i + DUMP_COLUMNS <= r.length; i += DUMP_COLUMNS) {
    deliveries.push({ pool, client: r[i]!, seq: r[i + 1]!, sent: r[i + 2]!, received: r[i + 3]! });
  }
}
deliveries.sort((a, b) => a.sent - b.sent);

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '-');

// Stages: the report's publications sent per stage, in send order.
const sentPerStage = (JSON.parse(readFileSync(join(dir, `${peer}.json`), 'utf8')) as { stages: { publish: { sent: number } }[] }).stages.map(
  (s) => s.publish.sent,
);
const stages: Delivery[][] = sentPerStage.map(() => []);
{
  let stage = 0;
  let seen = 0;
  let last = NaN;
  for (const d of deliveries) {
    if (d.sent !== last) {
      last = d.sent;
      seen++;
      while (stage < sentPerStage.length - 1 && seen > sentPerStage[stage]!) {
        seen -= sentPerStage[stage]!;
        stage++;
      }
    }
    stages[stage]!.push(d);
  }
}

interface Pub {
  sent: number;
  msg: number;
  flushStart: number;
  flushEnd: number;
  writes: Map<number, number>;
}
/** Publications seen by the node, by send time (ts), from the trace. */
const pubs = new Map<number, Pub>();
const gcs: { t: number; d: number }[] = [];
const timers: { t: number; d: number }[] = [];
const reads: { t: number; bytes: number; msgs: number }[] = [];
if (traceFile !== undefined) {
  const r = new Float64Array(new Uint8Array(readFileSync(traceFile)).buffer);
  let open: Pub[] = [];
  let flushing: Pub[] = [];
  for (let i = 0; i + 4 <= r.length; i += 4) {
    const type = r[i]!;
    const t = r[i + 1]!;
    const a = r[i + 2]!;
    if (type === 1) reads.push({ t, bytes: a, msgs: 0 });
    else if (type === 2) {
      const p: Pub = { sent: a, msg: t, flushStart: NaN, flushEnd: NaN, writes: new Map() };
      pubs.set(a, p);
      open.push(p);
      const rd = reads[reads.length - 1];
      if (rd !== undefined) rd.msgs++;
    } else if (type === 4) {
      flushing = open;
      open = [];
      for (const p of flushing) p.flushStart = t;
    } else if (type === 5) {
      for (const p of flushing) p.flushEnd = t;
    } else if (type === 6) {
      for (const p of flushing) if (!p.writes.has(a)) p.writes.set(a, t);
    } else if (type === 7) gcs.push({ t, d: a });
    else if (type === 8) timers.push({ t, d: a });
  }
}

console.log(`## ${peer}: ${deliveries.length} deliveries`);
stages.forEach((st, si) => {
  const lat = st.map((d) => d.received - d.sent);
  const p95 = pct(lat, 95);
  const p99 = pct(lat, 99);
  const slow = st.filter((d) => d.received - d.sent > p95);
  console.log(`\n### stage ${si + 1}: ${st.length} deliveries, p50 ${f2(pct(lat, 50))} p95 ${f2(p95)} p99 ${f2(p99)} max ${f2(pct(lat, 100))} ms`);
  // Per pool.
  const pools = [...new Set(st.map((d) => d.pool))].sort();
  for (const p of pools) {
    const l = st.filter((d) => d.pool === p).map((d) => d.received - d.sent);
    console.log(`pool ${p}: ${l.length} deliveries, p50 ${f2(pct(l, 50))} p99 ${f2(pct(l, 99))}, above p95: ${slow.filter((d) => d.pool === p).length}`);
  }
  // By place of the client in its channel (client index / channels), in tenths.
  const per = Math.ceil(st.reduce((m, d) => Math.max(m, d.client), 0) / channels + 1);
  const tenths = new Array<number>(10).fill(0);
  for (const d of slow) tenths[Math.min(9, Math.floor(((d.client / channels) / per) * 10))]!++;
  console.log(`above p95 by place in channel (tenths of the subscriber list): ${tenths.join(' ')}`);
  // By publication.
  const byPub = new Map<number, Delivery[]>();
  for (const d of st) {
    const l = byPub.get(d.sent);
    if (l === undefined) byPub.set(d.sent, [d]);
    else l.push(d);
  }
  const slowPubs = new Map<number, number>();
  for (const d of slow) slowPubs.set(d.sent, (slowPubs.get(d.sent) ?? 0) + 1);
  const counts = [...slowPubs.values()].sort((a, b) => b - a);
  const whole = counts.filter((c) => c >= 50).length;
  console.log(
    `above p95: ${slow.length} deliveries of ${slowPubs.size} of ${byPub.size} publications; ${whole} publications with >= 50 of their deliveries above p95 hold ${counts.filter((c) => c >= 50).reduce((a, b) => a + b, 0)} of them`,
  );
  // First and last receipt per publication: the publication's own spread vs its start.
  const firsts: number[] = [];
  const spreads: number[] = [];
  for (const l of byPub.values()) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const d of l) {
      lo = Math.min(lo, d.received - d.sent);
      hi = Math.max(hi, d.received - d.sent);
    }
    firsts.push(lo);
    spreads.push(hi - lo);
  }
  console.log(`per publication: first receipt p50 ${f2(pct(firsts, 50))} p95 ${f2(pct(firsts, 95))} p99 ${f2(pct(firsts, 99))}; last - first p50 ${f2(pct(spreads, 50))} p95 ${f2(pct(spreads, 95))} p99 ${f2(pct(spreads, 99))} ms`);
  if (pubs.size === 0) return;
  // Split each delivery at the node's message and write.
  const parts = (ds: Delivery[]): { a: number[]; b: number[]; c: number[]; miss: number } => {
    const a: number[] = [];
    const b: number[] = [];
    const c: number[] = [];
    let miss = 0;
    for (const d of ds) {
      const p = pubs.get(d.sent);
      const w = p?.writes.get(d.client);
      if (p === undefined || w === undefined) {
        miss++;
        continue;
      }
      a.push(p.msg - d.sent);
      b.push(w - p.msg);
      c.push(d.received - w);
    }
    return { a, b, c, miss };
  };
  const all = parts(st);
  const sl = parts(slow);
  console.log(`| split (ms) | all p50 | all p95 | all p99 | above-p95 deliveries p50 | p90 |`);
  console.log(`|---|---|---|---|---|---|`);
  const row = (name: string, x: number[], y: number[]): void =>
    console.log(`| ${name} | ${f2(pct(x, 50))} | ${f2(pct(x, 95))} | ${f2(pct(x, 99))} | ${f2(pct(y, 50))} | ${f2(pct(y, 90))} |`);
  row('send → PUB/SUB message (JS)', all.a, sl.a);
  row('message → its socket write', all.b, sl.b);
  row('write → receipt (generator)', all.c, sl.c);
  console.log(`(unmatched: ${all.miss} of all, ${sl.miss} of above-p95)`);
  // Which part dominates each slow delivery.
  let domA = 0;
  let domB = 0;
  let domC = 0;
  for (let i = 0; i < sl.a.length; i++) {
    const m = Math.max(sl.a[i]!, sl.b[i]!, sl.c[i]!);
    if (m === sl.a[i]) domA++;
    else if (m === sl.b[i]) domB++;
    else domC++;
  }
  console.log(`largest part of each above-p95 delivery: send→message ${domA}, message→write ${domB}, write→receipt ${domC}`);
  // For publications late at the node (send → message above its p95): what preceded the message.
  const lateA = [...byPub.keys()].map((k) => pubs.get(k)).filter((p): p is Pub => p !== undefined);
  const aAll = lateA.map((p) => p.msg - p.sent);
  const aP95 = pct(aAll, 95);
  const late = lateA.filter((p) => p.msg - p.sent > aP95);
  let gcIn = 0;
  let timerIn = 0;
  let fanoutIn = 0;
  for (const p of late) {
    if (gcs.some((g) => g.t < p.msg && g.t + g.d > p.sent)) gcIn++;
    if (timers.some((g) => g.t < p.msg && g.t + g.d > p.sent)) timerIn++;
    // Another publication's fan-out (flush) overlapping [sent, msg].
    for (const q of lateA) {
      if (q !== p && q.flushStart < p.msg && q.flushEnd > p.sent) {
        fanoutIn++;
        break;
      }
    }
  }
  console.log(
    `publications with send → message above p95 (${f2(aP95)} ms): ${late.length}; overlapping a GC ${gcIn}, a timer callback > 50 µs ${timerIn}, another publication's fan-out ${fanoutIn}`,
  );
  const stageReads = reads.filter((r) => r.t >= st[0]!.sent && r.t <= st[st.length - 1]!.received);
  const multi = stageReads.filter((r) => r.msgs > 1).length;
  console.log(`PUB/SUB socket reads in the stage: ${stageReads.length}, with more than one publication: ${multi}`);
  const fl = [...byPub.keys()].map((k) => pubs.get(k)).filter((p): p is Pub => p !== undefined);
  const fd = fl.map((p) => p.flushEnd - p.flushStart);
  const wait = fl.map((p) => p.flushStart - p.msg);
  console.log(`fan-out flush duration p50 ${f2(pct(fd, 50))} p95 ${f2(pct(fd, 95))} p99 ${f2(pct(fd, 99))}; message → flush start p50 ${f2(pct(wait, 50))} p99 ${f2(pct(wait, 99))} ms`);
});
