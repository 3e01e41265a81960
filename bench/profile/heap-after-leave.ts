// Does one Gyre process keep memory after its clients leave? Starts one Gyre (compiled, memory engine, HMAC
// tokens) with the inspector on a loopback port, then runs --cycles connect+subscribe → hold → leave cycles of
// gyre-bench idle. After each leave it waits until the API counts 0 clients, forces two full GCs through the
// inspector (HeapProfiler.collectGarbage), and reads the used heap (Runtime.getHeapUsage), process.memoryUsage()
// and the RSS. Used heap after GC that grows cycle on cycle is a leak; flat used heap with growing RSS is V8 or
// the allocator keeping pages it grew. --snapshots DIR writes a heap snapshot after the first and the last cycle
// (compare them with heapsnapshot-top.ts).
//
//   node --import tsx bench/profile/heap-after-leave.ts [--clients 10000] [--cycles 6] [--rate 2000] [--hold 5s]
//        [--processes 1] [--snapshots DIR] [--out FILE.json]
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { freePort } from '../../test/harness/ports.js';
import { API_KEY, HMAC, HOST, runBench, sampleOne, sleep, startServer } from './procs.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function arg(name: string, d: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? d) : d;
}

/** A minimal Chrome DevTools Protocol client over the inspector's WebSocket. */
class Inspector {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private chunks: string[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: { chunk?: string } };
      if (m.method === 'HeapProfiler.addHeapSnapshotChunk') this.chunks.push(m.params?.chunk ?? '');
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(m.error.message));
      else p.resolve(m.result);
    });
  }

  static async open(port: number): Promise<Inspector> {
    const until = Date.now() + 20_000;
    for (;;) {
      try {
        const list = (await (await fetch(`http://${HOST}:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
        const url = list[0]?.webSocketDebuggerUrl;
        if (url !== undefined) {
          const ws = new WebSocket(url, { maxPayload: 1 << 30 });
          await new Promise<void>((res, rej) => {
            ws.once('open', () => res());
            ws.once('error', rej);
          });
          return new Inspector(ws);
        }
      } catch {
        /* not yet */
      }
      if (Date.now() > until) throw new Error(`inspector on ${port} not reachable`);
      await sleep(200);
    }
  }

  call<T>(method: string, params: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<T> {
    const id = this.next++;
    this.ws.send(JSON.stringify({ id, method, params }));
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method} timed out`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(t);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
    });
  }

  async snapshot(file: string): Promise<void> {
    this.chunks = [];
    await this.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false }, 300_000);
    writeFileSync(file, this.chunks.join(''));
    this.chunks = [];
  }

  close(): void {
    this.ws.close();
  }
}

async function serverClients(port: number): Promise<number | null> {
  try {
    const r = await fetch(`http://${HOST}:${port}/api/info`, { method: 'POST', headers: { 'X-API-Key': API_KEY }, body: '{}' });
    const j = (await r.json()) as { result?: { nodes?: Array<{ num_clients?: number }> } };
    return (j.result?.nodes ?? []).reduce((a, n) => a + (n.num_clients ?? 0), 0);
  } catch {
    return null;
  }
}

interface Reading {
  cycle: number;
  subscribed: number | null;
  /** The generator's failures by reason (e.g. refused by the admission guard on a loaded machine). */
  failures: Record<string, number>;
  clientsAfterLeave: number | null;
  waitedForZeroMs: number;
  usedHeapMiB: number;
  totalHeapMiB: number;
  rssMiB: number;
  memoryUsage: Record<string, number>;
  /** process.memoryUsage() (MiB) before the forced GCs: what a plain RSS sample after the leave sees. */
  beforeGc: Record<string, number>;
}

const mib = (b: number): number => Math.round((b / 1024 / 1024) * 10) / 10;

async function memoryUsage(insp: Inspector): Promise<Record<string, number>> {
  const ev = await insp.call<{ result: { value?: string } }>('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
  const mu = JSON.parse(ev.result.value ?? '{}') as Record<string, number>;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(mu)) out[k] = mib(v);
  return out;
}

async function read(insp: Inspector, pid: number): Promise<Omit<Reading, 'cycle' | 'subscribed' | 'failures' | 'clientsAfterLeave' | 'waitedForZeroMs'>> {
  const beforeGc = await memoryUsage(insp);
  await insp.call('HeapProfiler.collectGarbage');
  await insp.call('HeapProfiler.collectGarbage');
  const h = await insp.call<{ usedSize: number; totalSize: number }>('Runtime.getHeapUsage');
  const after = await memoryUsage(insp);
  return { usedHeapMiB: mib(h.usedSize), totalHeapMiB: mib(h.totalSize), rssMiB: mib((sampleOne(pid)?.rssKb ?? 0) * 1024), memoryUsage: after, beforeGc };
}

async function main(): Promise<void> {
  const clients = Number(arg('--clients', '10000'));
  // Bounded: at most 20 cycles.
  const cycles = Math.min(20, Number(arg('--cycles', '6')));
  const snapDir = arg('--snapshots', '');
  const out = arg('--out', '');
  const port = await freePort(HOST);
  const inspPort = await freePort(HOST);
  const srv = await startServer('gyre', port, { gyreDist: join(REPO, 'dist'), centrifugoBin: '', nodeFlags: [`--inspect=${HOST}:${inspPort}`], workers: 1 });
  const insp = await Inspector.open(inspPort);
  const readings: Reading[] = [];
  const deadline = Date.now() + 30 * 60_000;
  try {
    await sleep(1500);
    const base = await read(insp, srv.pid);
    readings.push({ cycle: 0, subscribed: null, failures: {}, clientsAfterLeave: await serverClients(port), waitedForZeroMs: 0, ...base });
    process.stderr.write(`before: ${JSON.stringify(readings[0])}\n`);
    for (let c = 1; c <= cycles && Date.now() < deadline; c++) {
      const addr = `${HOST}:${port}`;
      const r = await runBench(
        REPO,
        join(REPO, 'bin', 'gyre-bench.js'),
        ['idle', '-c', String(clients), '--rate', arg('--rate', '2000'), '-d', arg('--hold', '5s'),
          '--processes', arg('--processes', '1'), '--source-ips', '127.0.0.1-127.0.0.4', '--connect-timeout', '60s', '--timeout', '180s',
          '--url', `ws://${addr}/connection/websocket`, '--api', `http://${addr}/api`, '--api-key', API_KEY, '--hmac-secret', HMAC],
        srv.pid,
        {},
        240_000,
      );
      const t0 = Date.now();
      let left = await serverClients(port);
      while (left !== 0 && Date.now() - t0 < 60_000) {
        await sleep(250);
        left = await serverClients(port);
      }
      const waitedForZeroMs = Date.now() - t0;
      const m = await read(insp, srv.pid);
      const report = r.report as { clients?: { subscribed: number; failures?: Record<string, number> } } | null;
      const row: Reading = { cycle: c, subscribed: report?.clients?.subscribed ?? null, failures: report?.clients?.failures ?? {}, clientsAfterLeave: left, waitedForZeroMs, ...m };
      readings.push(row);
      process.stderr.write(`cycle ${c}/${cycles}: ${JSON.stringify(row)}\n`);
      if (snapDir !== '' && (c === 1 || c === cycles)) {
        const f = join(snapDir, `after-cycle-${c}.heapsnapshot`);
        await insp.snapshot(f);
        process.stderr.write(`snapshot ${f}\n`);
      }
    }
  } finally {
    insp.close();
    await srv.stop();
  }
  const res = { clients, cycles, readings };
  if (out !== '') writeFileSync(out, JSON.stringify(res, null, 2));
  console.log(JSON.stringify(res, null, 2));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
