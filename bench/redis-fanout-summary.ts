// Summary table of bench/redis-fanout.sh: per peer and publish stage, deliveries/s and publish→deliver latency
// (gyre-bench JSON report), plus server CPU per delivery over the whole run (both nodes) and Redis CPU.
// With PROBE=1, the latency split at Redis (probe.json of bench/profile/redis-pubsub-probe.ts) as well.
//   usage: node --import tsx bench/redis-fanout-summary.ts OUT_DIR peer...
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Stage {
  deliveries: number;
  expectedDeliveries: number;
  deliveriesPerSec: number;
  latency: { p50: number; p99: number };
  publish: { ok: number };
  publishRate: number;
  sequence: { gaps: number; duplicates: number };
}
interface Report {
  stages: Stage[];
}
interface Cpu {
  wall_s: number;
  cpu_s_node1: number;
  cpu_s_node2: number;
  cpu_s_redis: number;
}

const [dir, ...peers] = process.argv.slice(2);
if (dir === undefined || peers.length === 0) throw new Error('usage: redis-fanout-summary.ts OUT_DIR peer...');
const lines = [
  '| peer | publish rate | published | deliveries/s | delivered | gaps/dups | p50 ms | p99 ms |',
  '|---|---|---|---|---|---|---|---|',
];
const cpuLines = ['| peer | deliveries | node CPU s (subscriber node + publishing node) | µs CPU per delivery | Redis CPU s |', '|---|---|---|---|---|'];
for (const peer of peers) {
  const r = JSON.parse(readFileSync(join(dir, `${peer}.json`), 'utf8')) as Report;
  const cpu = JSON.parse(readFileSync(join(dir, `${peer}-cpu.json`), 'utf8')) as Cpu;
  let total = 0;
  r.stages.forEach((s) => {
    total += s.deliveries;
    const ratio = s.expectedDeliveries > 0 ? ((100 * s.deliveries) / s.expectedDeliveries).toFixed(1) : '-';
    lines.push(
      `| ${peer} | ${s.publishRate}/s | ${s.publish.ok} | ${Math.round(s.deliveriesPerSec)} | ${ratio}% | ${s.sequence.gaps}/${s.sequence.duplicates} | ${s.latency.p50.toFixed(2)} | ${s.latency.p99.toFixed(2)} |`,
    );
  });
  const nodeCpu = cpu.cpu_s_node1 + cpu.cpu_s_node2;
  cpuLines.push(
    `| ${peer} | ${total} | ${nodeCpu.toFixed(2)} (${cpu.cpu_s_node1.toFixed(2)} + ${cpu.cpu_s_node2.toFixed(2)}) | ${total > 0 ? ((nodeCpu * 1e6) / total).toFixed(2) : '-'} | ${cpu.cpu_s_redis.toFixed(2)} |`,
  );
}
const probeFile = join(dir, 'probe.json');
const probeLines: string[] = [];
if (existsSync(probeFile)) {
  type ProbeStage = { count: number; p50: number; p90: number; p99: number };
  const probe = JSON.parse(readFileSync(probeFile, 'utf8')) as Record<string, ProbeStage[]>;
  probeLines.push(
    '',
    '| peer | stage | send → Redis PUB/SUB p50 / p90 / p99 ms (publishing side) | messages |',
    '|---|---|---|---|',
  );
  for (const peer of peers) {
    (probe[`bench-${peer}`] ?? []).forEach((s, i) => {
      probeLines.push(`| ${peer} | ${i + 1} | ${s.p50.toFixed(2)} / ${s.p90.toFixed(2)} / ${s.p99.toFixed(2)} | ${s.count} |`);
    });
  }
}
console.log([...lines, '', ...cpuLines, ...probeLines].join('\n'));
