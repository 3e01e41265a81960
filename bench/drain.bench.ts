// Drain on vs off behind nginx (docs/storm.md §2, §5): 2 Gyre nodes (memory engine) behind Debian's nginx with
// proxy_next_upstream http_503; N official centrifuge clients (default backoff) connect through nginx, then node A
// gets SIGTERM. Reported per run: the peak connect rate the surviving node B sees (connections accepted per 100 ms
// window, ×10 = per second) and the reconnect time of A's clients (3001 received → connected again, p50/p95/max).
// Usage: node --import tsx bench/drain.bench.ts [--clients 400] [--window 4]
import { Centrifuge } from 'centrifuge';
import WebSocket from 'ws';
import { mergeConfig, startGyre, type GyreProcess } from '../test/harness/gyre.js';
import { startNginx } from '../test/harness/nginx.js';
import { connToken } from '../test/harness/tokens.js';
import { baseConfig } from '../test/compat/base-config.js';
import { acceptedConnections } from '../test/storm/probe.js';

function arg(name: string, d: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? d : Number(process.argv[i + 1]);
}
const N = arg('clients', 400);
const WINDOW_S = arg('window', 4);

function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number);
}

const accepted = (g: GyreProcess): Promise<number> => acceptedConnections(g.baseUrl);

async function run(drainS: number): Promise<{ peakPerS: number; p50: number; p95: number; max: number; moved: number }> {
  const cfg = mergeConfig(baseConfig(), {
    prometheus: { enabled: true },
    http_server: { warmup_connections: 0 },
    shutdown: { timeout: `${drainS + 10}s`, drain_duration: `${drainS}s`, pre_drain_delay: '0s' },
  });
  const [a, b] = await Promise.all([startGyre(cfg, { bin: true }), startGyre(cfg, { bin: true })]);
  const nginx = await startNginx([a.port, b.port], { retry503: true });
  const clients: Centrifuge[] = [];
  try {
    const token = await connToken({ sub: 'bench', expIn: 3600 });
    const cut = new Map<Centrifuge, number>();
    const back: number[] = [];
    let connected = 0;
    for (let i = 0; i < N; i++) {
      const c = new Centrifuge(`ws://127.0.0.1:${nginx.port}/connection/websocket`, { token, websocket: WebSocket });
      c.on('connected', () => {
        connected++;
        const t = cut.get(c);
        if (t !== undefined) {
          back.push(performance.now() - t);
          cut.delete(c);
        }
      });
      c.on('connecting', (ctx) => {
        if (ctx.code === 3001) cut.set(c, performance.now());
      });
      clients.push(c);
      c.connect();
    }
    for (let i = 0; i < 600 && connected < N; i++) await new Promise((r) => setTimeout(r, 50));
    const before = await accepted(b);
    const samples: number[] = [before];
    process.kill(a.pid, 'SIGTERM');
    const end = performance.now() + (drainS + 8) * 1000;
    while (performance.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      samples.push(await accepted(b));
    }
    let peak = 0;
    for (let i = 1; i < samples.length; i++) peak = Math.max(peak, (samples[i] as number) - (samples[i - 1] as number));
    back.sort((x, y) => x - y);
    return { peakPerS: peak * 10, p50: pct(back, 0.5), p95: pct(back, 0.95), max: back[back.length - 1] ?? NaN, moved: back.length };
  } finally {
    for (const c of clients) c.disconnect();
    await nginx.stop();
    await a.stop('SIGKILL');
    await b.stop('SIGKILL');
  }
}

const on = await run(WINDOW_S);
const off = await run(0);
const fmt = (r: Awaited<ReturnType<typeof run>>): string =>
  `peak ${r.peakPerS}/s at the surviving node, ${r.moved} clients moved, reconnect p50 ${Math.round(r.p50)} ms p95 ${Math.round(r.p95)} ms max ${Math.round(r.max)} ms`;
console.log(`clients ${N} through nginx, node A SIGTERM`);
console.log(`drain ${WINDOW_S} s: ${fmt(on)}`);
console.log(`drain 0 (Centrifugo-like): ${fmt(off)}`);
console.log(`peak ratio off/on: ${(off.peakPerS / Math.max(1, on.peakPerS)).toFixed(1)}`);
process.exit(0);
