// Handshake-burst benchmark: N simultaneous WebSocket upgrades from one process against (a) a bare `ws`
// server and (b) Gyre's real upgrade path (startServer, memory engine) where every client also sends a
// `connect` command and waits for its reply. Reports the median wall time of 3 runs per side and the ratio.
// Run: node --import tsx bench/handshake-burst.bench.ts [N]        (default N = 5000)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import WebSocket, { WebSocketServer } from 'ws';
import { startServer } from '../src/app.js';
import { defaultConfig } from '../src/config/index.js';

const N = Math.max(1, Math.min(20_000, Number(process.argv[2] ?? 5000) || 5000));
const RUNS = 3;
const BACKLOG = 4096;
const RUN_TIMEOUT_MS = 60_000;

interface RunResult {
  ms: number;
  ok: number;
  failed: number;
}

/** Opens N clients at once; `ready` resolves per client when it counts as done (open, or connect reply). */
async function burst(url: string, withConnect: boolean): Promise<RunResult> {
  const clients: WebSocket[] = [];
  let ok = 0;
  let failed = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, RUN_TIMEOUT_MS);
    const settle = (): void => {
      if (ok + failed === N) {
        clearTimeout(timer);
        resolve();
      }
    };
    for (let i = 0; i < N; i++) {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      clients.push(ws);
      let done = false;
      const finish = (good: boolean): void => {
        if (done) return;
        done = true;
        if (good) ok++;
        else failed++;
        settle();
      };
      ws.once('error', () => finish(false));
      ws.once('close', () => finish(false));
      ws.once('open', () => {
        if (!withConnect) return finish(true);
        ws.once('message', () => finish(true));
        ws.send(`{"id":1,"connect":{}}`);
      });
    }
  });
  const ms = performance.now() - start;
  await Promise.all(
    clients.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once('close', () => resolve());
          ws.terminate();
        }),
    ),
  );
  return { ms, ok, failed };
}

async function bareRun(): Promise<RunResult> {
  const server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });
  wss.on('connection', (ws) => ws.on('error', () => undefined));
  await new Promise<void>((r) => server.listen({ port: 0, host: '127.0.0.1', backlog: BACKLOG }, r));
  const { port } = server.address() as AddressInfo;
  try {
    return await burst(`ws://127.0.0.1:${port}/`, false);
  } finally {
    wss.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

async function gyreRun(): Promise<RunResult> {
  const c = defaultConfig();
  c.http_server.address = '127.0.0.1';
  c.http_server.port = 0;
  c.http_server.internal_port = 0;
  c.http_server.backlog = BACKLOG;
  c.client.insecure = true;
  c.shutdown.timeout = 2000;
  const srv = await startServer(c, { logger: pino({ level: 'silent' }) });
  try {
    return await burst(`ws://127.0.0.1:${srv.port}/connection/websocket`, true);
  } finally {
    await srv.close();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

const bare: RunResult[] = [];
const gyre: RunResult[] = [];
console.log(`handshake burst: N=${N} simultaneous upgrades, ${RUNS} runs each (alternating), backlog ${BACKLOG}`);
for (let r = 0; r < RUNS; r++) {
  const b = await bareRun();
  bare.push(b);
  console.log(`  run ${r + 1} bare ws        : ${b.ms.toFixed(0).padStart(6)} ms  ok=${b.ok} failed=${b.failed}`);
  const g = await gyreRun();
  gyre.push(g);
  console.log(`  run ${r + 1} gyre (+connect): ${g.ms.toFixed(0).padStart(6)} ms  ok=${g.ok} failed=${g.failed}`);
}
const mb = median(bare.map((x) => x.ms));
const mg = median(gyre.map((x) => x.ms));
console.log(`median bare ws: ${mb.toFixed(0)} ms (${Math.round((N / mb) * 1000)} upgrades/s)`);
console.log(`median gyre   : ${mg.toFixed(0)} ms (${Math.round((N / mg) * 1000)} upgrades+connects/s)`);
console.log(`ratio gyre/bare: ${(mg / mb).toFixed(2)}x`);
