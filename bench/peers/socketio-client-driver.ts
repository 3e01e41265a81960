// The Socket.IO counterpart of gyre-bench: runs one bench workload (burst / idle / fanout, see
// bench/lib/workloads.ts) against the Socket.IO peer with socket.io-client over WebSocket only, spread over
// worker threads, and prints a WorkloadResult (bench/lib/result.ts) as JSON.
// Run: node --import tsx bench/peers/socketio-client-driver.ts --url http://127.0.0.1:PORT
//        --api http://127.0.0.1:PORT/api --api-key KEY --workload '<json>'
//        [--server-pid PID] [--workers 2] [--json]
import { Worker } from 'node:worker_threads';
import { LatencyRecorder } from '../../loadtest/src/histogram.js';
import type { BurstResult, FanoutResult, IdleResult, LatencyMs, ServerUsage, WorkloadResult } from '../lib/result.js';
import { cpuPerMillionAtRate } from '../lib/result.js';
import { HttpPublisher } from '../../loadtest/src/publisher.js';
import { sampleProcess, type ProcSample } from '../lib/proc-stats.js';
import { parseWorkload } from '../lib/workload-json.js';
import type { FanoutWorkload, Workload } from '../lib/workloads.js';
import { channelOf, type FromWorker, type ToWorker } from './socketio-messages.js';

interface DriverArgs {
  readonly url: string;
  /** HTTP API base (…/api); publications go to <base>/publish. */
  readonly apiBase: string;
  readonly apiKey: string;
  readonly workload: Workload;
  readonly serverPid: number | null;
  readonly workers: number;
  readonly json: boolean;
}

function parseArgs(argv: readonly string[]): DriverArgs {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const url = get('url');
  const wl = get('workload');
  if (url === undefined || wl === undefined) throw new Error('--url and --workload are required');
  const pid = get('server-pid');
  return {
    url,
    apiBase: get('api') ?? `${url}/api`,
    apiKey: get('api-key') ?? 'key',
    workload: parseWorkload(wl),
    serverPid: pid === undefined ? null : Number(pid),
    workers: Math.max(1, Math.min(8, Number(get('workers') ?? '2'))),
    json: argv.includes('--json'),
  };
}

// Worker threads do not inherit tsx's loader hooks (Node 20), so each worker registers tsx itself first.
const WORKER_BOOTSTRAP = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then(({ register }) => { register(); return import(${JSON.stringify(new URL('./socketio-worker.ts', import.meta.url).href)}); })`;

/** A worker with a request/response helper: each call waits for the next message of the given type. */
class WorkerHandle {
  private readonly worker: Worker;
  private waiting: ((m: FromWorker) => void) | null = null;
  private failed: Error | null = null;

  constructor() {
    this.worker = new Worker(WORKER_BOOTSTRAP, { eval: true });
    this.worker.on('message', (m: FromWorker) => {
      const w = this.waiting;
      this.waiting = null;
      w?.(m);
    });
    this.worker.on('error', (err) => {
      this.failed = err;
      const w = this.waiting;
      this.waiting = null;
      w?.({ type: 'closed' });
    });
  }

  post(msg: ToWorker): void {
    this.worker.postMessage(msg);
  }

  request<T extends FromWorker['type']>(msg: ToWorker, type: T, timeoutMs: number): Promise<Extract<FromWorker, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker: no '${type}' within ${timeoutMs} ms`)), timeoutMs);
      this.waiting = (m) => {
        clearTimeout(timer);
        if (m.type === type) resolve(m as Extract<FromWorker, { type: T }>);
        else if (this.failed !== null) reject(this.failed);
        else reject(new Error(`worker: expected '${type}', got '${m.type}'`));
      };
      this.post(msg);
    });
  }

  async close(): Promise<void> {
    try {
      await this.request({ type: 'close' }, 'closed', 5000);
    } catch {
      // fall through to terminate
    }
    await this.worker.terminate();
  }
}

const toLatency = (r: LatencyRecorder): LatencyMs => {
  const s = r.summary();
  return { count: s.count, p50: s.p50, p99: s.p99, max: s.max };
};

function usage(before: ProcSample | null, after: ProcSample | null, rssBefore?: ProcSample | null): ServerUsage | null {
  if (before === null || after === null) return null;
  return {
    cpuSeconds: after.cpuSeconds - before.cpuSeconds,
    wallSeconds: (after.atMs - before.atMs) / 1000,
    rssBeforeBytes: (rssBefore ?? before).rssBytes,
    rssAfterBytes: after.rssBytes,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function connectPhase(
  handles: WorkerHandle[],
  args: DriverArgs,
  connections: number,
  channels: number,
  concurrency: number,
): Promise<{ subscribed: number; failures: number; totalMs: number; tts: LatencyRecorder }> {
  const per = Math.ceil(connections / handles.length);
  const replies = await Promise.all(
    handles.map((h, w) => {
      const first = w * per;
      const count = Math.max(0, Math.min(per, connections - first));
      const msg: ToWorker = {
        type: 'connect',
        url: args.url,
        first,
        count,
        channels,
        concurrency: Math.ceil(concurrency / handles.length),
        timeoutMs: 30_000,
      };
      return h.request(msg, 'connected', 60_000);
    }),
  );
  const tts = new LatencyRecorder();
  let subscribed = 0;
  let failures = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (const r of replies) {
    subscribed += r.subscribed;
    failures += r.failures;
    first = Math.min(first, r.firstStartMs);
    last = Math.max(last, r.lastDoneMs);
    if (r.tts !== null) tts.addSerialized(r.tts);
  }
  return { subscribed, failures, totalMs: last - first, tts };
}

async function run(args: DriverArgs, handles: WorkerHandle[]): Promise<WorkloadResult> {
  const w = args.workload;
  const sample = (): ProcSample | null => (args.serverPid === null ? null : sampleProcess(args.serverPid));
  const base = sample();
  switch (w.kind) {
    case 'burst': {
      const c = await connectPhase(handles, args, w.connections, w.channels, w.concurrency);
      const r: BurstResult = {
        kind: 'burst',
        connections: w.connections,
        subscribed: c.subscribed,
        failures: c.failures,
        totalMs: Math.round(c.totalMs),
        timeToSubscribed: toLatency(c.tts),
        server: usage(base, sample()),
      };
      return r;
    }
    case 'idle': {
      const c = await connectPhase(handles, args, w.connections, w.channels, w.concurrency);
      await sleep(1000); // let the accept burst settle before the idle window
      const holdStart = sample();
      await sleep(w.holdSec * 1000);
      const holdEnd = sample();
      const srv = usage(holdStart, holdEnd, base);
      const r: IdleResult = {
        kind: 'idle',
        connections: w.connections,
        subscribed: c.subscribed,
        failures: c.failures,
        holdSec: w.holdSec,
        bytesPerConnection:
          srv !== null && c.subscribed > 0 ? Math.round((srv.rssAfterBytes - srv.rssBeforeBytes) / c.subscribed) : null,
        server: srv,
      };
      return r;
    }
    case 'fanout':
      return fanout(w, args, handles, sample);
  }
}

/** Time between polls of the delivery count while draining, as gyre-bench does: quiet 500 ms, at most 5 s. */
const DRAIN_QUIET_MS = 500;
const DRAIN_MAX_MS = 5000;
const MAX_INFLIGHT = 5000;

async function totalDeliveries(handles: WorkerHandle[], final: boolean): Promise<{ deliveries: number; lat: LatencyRecorder }> {
  const reports = await Promise.all(handles.map((h) => h.request({ type: 'report', final }, 'report', 10_000)));
  const lat = new LatencyRecorder();
  let deliveries = 0;
  for (const r of reports) {
    deliveries += r.deliveries;
    if (r.latency !== null) lat.addSerialized(r.latency);
  }
  return { deliveries, lat };
}

/**
 * Mirrors gyre-bench's fanout: stages of `durationSec` at `publishRate` (a warm-up stage first when
 * warmupSec > 0), per-channel ordered HTTP publishing with gyre-bench's own publisher, a drain after each
 * stage; the last stage is the measurement.
 */
async function fanout(
  w: FanoutWorkload,
  args: DriverArgs,
  handles: WorkerHandle[],
  sample: () => ProcSample | null,
): Promise<FanoutResult> {
  const conns = w.channels * w.subscribersPerChannel;
  const c = await connectPhase(handles, args, conns, w.channels, w.concurrency);
  const pub = new HttpPublisher(args.apiBase, args.apiKey, w.payloadBytes, undefined);
  const seqs = new Array<number>(w.channels).fill(0);
  const stages = w.warmupSec > 0 ? 2 : 1;
  let last: FanoutResult | null = null;
  try {
    for (let stage = 0; stage < stages; stage++) {
      const durMs = (stage === 0 && stages === 2 ? w.warmupSec : w.durationSec) * 1000;
      for (const h of handles) h.post({ type: 'stage-begin' });
      const okBefore = pub.stats.ok;
      const failedBefore = Object.values(pub.stats.failed).reduce((a, b) => a + b, 0);
      const s0 = sample();
      const start = performance.now();
      let sent = 0;
      let ch = 0;
      for (;;) {
        const elapsed = performance.now() - start;
        if (elapsed >= durMs) break;
        const due = Math.floor((elapsed / 1000) * w.publishRate) + 1;
        while (sent < due && pub.inflight < MAX_INFLIGHT) {
          const seq = (seqs[ch] ?? 0) + 1;
          seqs[ch] = seq;
          pub.publish(channelOf(ch, w.channels), seq);
          ch = (ch + 1) % w.channels;
          sent++;
        }
        await sleep(2);
      }
      const elapsedSec = (performance.now() - start) / 1000;
      const s1 = sample();
      // Drain: publisher idle, then the delivery count quiet for DRAIN_QUIET_MS (≤ DRAIN_MAX_MS).
      const drainEnd = performance.now() + DRAIN_MAX_MS;
      while (pub.inflight > 0 && performance.now() < drainEnd) await sleep(10);
      let lastCount = -1;
      let quietSince = performance.now();
      while (performance.now() < drainEnd) {
        const { deliveries } = await totalDeliveries(handles, false);
        if (deliveries !== lastCount) {
          lastCount = deliveries;
          quietSince = performance.now();
        } else if (performance.now() - quietSince >= DRAIN_QUIET_MS) break;
        await sleep(100);
      }
      const { deliveries, lat } = await totalDeliveries(handles, true);
      const ok = pub.stats.ok - okBefore;
      const failed = Object.values(pub.stats.failed).reduce((a, b) => a + b, 0) - failedBefore;
      const srv = usage(s0, s1);
      const perSec = deliveries / Math.max(0.001, elapsedSec);
      last = {
        kind: 'fanout',
        subscribed: c.subscribed,
        failures: c.failures,
        published: ok,
        publishErrors: failed,
        expectedDeliveries: ok * w.subscribersPerChannel,
        deliveries,
        measureSec: Math.round(elapsedSec * 10) / 10,
        deliveriesPerSec: Math.round(perSec),
        latency: toLatency(lat),
        cpuSecondsPerMillion: srv === null ? null : cpuPerMillionAtRate(srv.cpuSeconds / srv.wallSeconds, perSec),
        server: srv,
      };
    }
  } finally {
    await pub.close();
  }
  if (last === null) throw new Error('no stage ran');
  return last;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const handles: WorkerHandle[] = [];
  for (let i = 0; i < args.workers; i++) handles.push(new WorkerHandle());
  const hardStop = setTimeout(() => {
    process.stderr.write('socketio-client-driver: hard time limit reached\n');
    process.exit(2);
  }, 15 * 60_000);
  hardStop.unref();
  try {
    const result = await run(args, handles);
    process.stdout.write(args.json ? `${JSON.stringify(result)}\n` : `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await Promise.all(handles.map((h) => h.close()));
  }
}

await main();
