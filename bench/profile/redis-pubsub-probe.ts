// Where the publish→deliver latency of bench/redis-fanout.sh is spent: a passive extra subscriber on the bench's
// Redis (PSUBSCRIBE `<pattern>`, default `bench-*.client.*`) notes when each publication reaches Redis PUB/SUB
// subscribers, minus the send time gyre-bench wrote into it (`"ts":<epoch ms>` in the data, same machine clock).
// That is the publishing side (generator → publishing node → Redis), the same for Gyre and Centrifugo; what the
// generator measures on top of it is the fan-out side (Redis → subscriber node → client sockets).
//   node --import tsx bench/profile/redis-pubsub-probe.ts PORT OUT.json [PATTERN]   (stops on SIGTERM/SIGINT)
// OUT.json: per prefix (the part before `.client.`), per stage (a pause of over 300 ms starts a new one),
// count and p50/p90/p99/max in ms.
import { writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';

const [portArg, out, pattern = 'bench-*.client.*'] = process.argv.slice(2);
if (portArg === undefined || out === undefined) throw new Error('usage: redis-pubsub-probe.ts PORT OUT.json [PATTERN]');

interface Stage {
  lastAt: number;
  values: number[];
}
const byPrefix = new Map<string, Stage[]>();
const TS = /"ts":([0-9.]+)/;
const STAGE_GAP_MS = 300;

const r = new Redis({ host: '127.0.0.1', port: Number(portArg), lazyConnect: true });
r.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, payload: Buffer) => {
  const now = performance.timeOrigin + performance.now();
  const name = channel.toString();
  const m = TS.exec(payload.toString('latin1'));
  if (m === null) return; // join/leave, or a payload without a send time
  const prefix = name.slice(0, name.indexOf('.client.'));
  let stages = byPrefix.get(prefix);
  if (stages === undefined) byPrefix.set(prefix, (stages = []));
  let st = stages[stages.length - 1];
  if (st === undefined || now - st.lastAt > STAGE_GAP_MS) stages.push((st = { lastAt: now, values: [] }));
  st.lastAt = now;
  st.values.push(now - Number(m[1]));
});

function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function finish(): void {
  const report: Record<string, { count: number; p50: number; p90: number; p99: number; max: number }[]> = {};
  for (const [prefix, stages] of byPrefix) {
    report[prefix] = stages
      .filter((s) => s.values.length >= 20)
      .map((s) => {
        const v = s.values.sort((a, b) => a - b);
        const round = (x: number): number => Math.round(x * 1000) / 1000;
        return { count: v.length, p50: round(pct(v, 50)), p90: round(pct(v, 90)), p99: round(pct(v, 99)), max: round(v[v.length - 1]!) };
      });
  }
  writeFileSync(out!, JSON.stringify(report, null, 1) + '\n');
  r.disconnect();
  process.exit(0);
}
process.on('SIGTERM', finish);
process.on('SIGINT', finish);

await r.connect();
await r.psubscribe(pattern);
process.stdout.write('probe ready\n');
