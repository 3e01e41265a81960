// Several invocations of bench/redis-fanout.sh side by side: per peer and run, µs of server CPU per delivery
// (both nodes), the subscriber and publishing node's CPU and p50/p99 per stage; then the median of each, and
// against a reference peer both the median of the per-run ratios and the ratio of the medians.
//   usage: node --import tsx bench/redis-fanout-runs.ts REF_PEER OUT_DIR... (peers: those of the first OUT_DIR)
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

interface Stage {
  deliveries: number;
  publishRate: number;
  latency: { p50: number; p99: number };
}
interface Cpu {
  cpu_s_node1: number;
  cpu_s_node2: number;
}
interface Run {
  usPerDelivery: number;
  sub: number;
  pub: number;
  p50: number[];
  p99: number[];
}

const [ref, ...dirs] = process.argv.slice(2);
if (ref === undefined || dirs.length === 0) throw new Error('usage: redis-fanout-runs.ts REF_PEER OUT_DIR...');
const first = dirs[0]!;
const peers = readdirSync(first)
  .filter((f) => f.endsWith('-cpu.json'))
  .map((f) => f.slice(0, -'-cpu.json'.length));

function load(dir: string, peer: string): Run | undefined {
  const rf = join(dir, `${peer}.json`);
  const cf = join(dir, `${peer}-cpu.json`);
  if (!existsSync(rf) || !existsSync(cf)) return undefined;
  const stages = (JSON.parse(readFileSync(rf, 'utf8')) as { stages: Stage[] }).stages;
  const cpu = JSON.parse(readFileSync(cf, 'utf8')) as Cpu;
  const deliveries = stages.reduce((a, s) => a + s.deliveries, 0);
  return {
    usPerDelivery: deliveries > 0 ? ((cpu.cpu_s_node1 + cpu.cpu_s_node2) * 1e6) / deliveries : NaN,
    sub: cpu.cpu_s_node1,
    pub: cpu.cpu_s_node2,
    p50: stages.map((s) => s.latency.p50),
    p99: stages.map((s) => s.latency.p99),
  };
}

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const f2 = (x: number): string => x.toFixed(2);
const runs = new Map(peers.map((p) => [p, dirs.map((d) => load(d, p))]));
const refRuns = runs.get(ref) ?? [];
const stageCount = refRuns.find((r) => r !== undefined)?.p99.length ?? 0;
const out = [
  `| peer | µs CPU per delivery (runs) | median | subscriber node CPU s (median) | publishing node CPU s (median) | ${Array.from(
    { length: stageCount },
    (_, i) => `p99 ms stage ${i + 1} (runs)`,
  ).join(' | ')} |`,
  `|---|---|---|---|---|${'---|'.repeat(stageCount)}`,
];
for (const [peer, rs] of runs) {
  const ok = rs.filter((r): r is Run => r !== undefined);
  const cols = Array.from({ length: stageCount }, (_, i) => {
    const xs = ok.map((r) => r.p99[i] ?? NaN);
    return `${xs.map(f2).join(', ')} (**${f2(median(xs))}**)`;
  });
  out.push(
    `| ${peer} | ${ok.map((r) => f2(r.usPerDelivery)).join(', ')} | **${f2(median(ok.map((r) => r.usPerDelivery)))}** | ${f2(median(ok.map((r) => r.sub)))} | ${f2(median(ok.map((r) => r.pub)))} | ${cols.join(' | ')} |`,
  );
}
out.push('', `| peer / ${ref} | CPU per delivery, per run | median of per-run ratios | ratio of medians | p99 per stage, median of per-run ratios |`, '|---|---|---|---|---|');
for (const [peer, rs] of runs) {
  if (peer === ref) continue;
  const ratios: number[] = [];
  const p99Ratios: number[][] = Array.from({ length: stageCount }, () => []);
  rs.forEach((r, i) => {
    const b = refRuns[i];
    if (r === undefined || b === undefined) return;
    ratios.push(r.usPerDelivery / b.usPerDelivery);
    for (let s = 0; s < stageCount; s++) p99Ratios[s]!.push((r.p99[s] ?? NaN) / (b.p99[s] ?? NaN));
  });
  const ofMedians =
    median(rs.filter((r): r is Run => r !== undefined).map((r) => r.usPerDelivery)) /
    median(refRuns.filter((r): r is Run => r !== undefined).map((r) => r.usPerDelivery));
  out.push(
    `| ${peer} | ${ratios.map(f2).join(', ')} | **${f2(median(ratios))}** | ${f2(ofMedians)} | ${p99Ratios.map((xs) => f2(median(xs))).join(' / ')} |`,
  );
}
console.log(out.join('\n'));
