// Runs a pool of clients over worker threads: splits clients, starts/stops workers, feeds the
// aggregator, samples the per-second series, and enforces the run's hard deadline on every wait.
import { Worker } from 'node:worker_threads';
import { Aggregator } from './aggregate.js';
import type { SeriesPoint, Totals } from './aggregate.js';
import type { FromWorker, PoolConfig, ToWorker } from './messages.js';

export type PoolBase = Omit<PoolConfig, 'firstIndex' | 'count' | 'ratePerSec'>;

export interface GroupOptions {
  workers: number;
  clients: number;
  /** Total connect rate per second over all workers; 0 = all at once. */
  rate: number;
  pool: PoolBase;
  /** Every wait gives up when this passes. */
  deadline: Deadline;
  onSample?: (p: SeriesPoint, t: Totals) => void;
}

const SAMPLE_MS = 1000;

/** The run's hard deadline (performance.now() based); `interrupt()` pulls it to now. */
export class Deadline {
  interrupted = false;
  constructor(public at: number) {}
  static in(ms: number): Deadline {
    return new Deadline(performance.now() + ms);
  }
  remaining(): number {
    return Math.max(0, this.at - performance.now());
  }
  passed(): boolean {
    return performance.now() >= this.at;
  }
  interrupt(): void {
    this.interrupted = true;
    this.at = performance.now();
  }
}

/**
 * The worker entry. Compiled: worker.js next to this file. From TypeScript sources (tsx): a tiny JS
 * bootstrap that registers tsx inside the worker, then imports worker.ts (loaders are per thread).
 */
function workerUrl(): URL {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new URL('./worker.js', self);
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./worker.ts', self).href;
  const src = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(entry)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(src)}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

/** Waits for `p` at most `ms`; the timer is cleared either way so nothing lingers. */
export async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | null = null;
  try {
    await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, ms))))]);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}

export class WorkerGroup {
  readonly agg: Aggregator;
  readonly startedAtEpoch = Date.now();
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, () => void>();
  private sampler: NodeJS.Timeout | null = null;
  private fatal: string | null = null;
  private stopped = false;

  constructor(private readonly opts: GroupOptions) {
    this.agg = new Aggregator(performance.now());
  }

  get fatalError(): string | null {
    return this.fatal;
  }

  /** Spawns workers, hands each its slice of clients and waits until every token is signed. */
  async prepare(): Promise<void> {
    const n = Math.max(1, Math.min(this.opts.workers, this.opts.clients || 1));
    const per = Math.floor(this.opts.clients / n);
    const extra = this.opts.clients % n;
    const url = workerUrl();
    const ready: Promise<void>[] = [];
    let first = 0;
    for (let i = 0; i < n; i++) {
      const count = per + (i < extra ? 1 : 0);
      const cfg: PoolConfig = {
        ...this.opts.pool,
        firstIndex: first,
        count,
        ratePerSec: this.opts.rate > 0 ? (this.opts.rate * count) / Math.max(1, this.opts.clients) : 0,
      };
      first += count;
      const w = new Worker(url);
      this.workers.push(w);
      ready.push(
        new Promise<void>((resolve) => {
          this.pending.set(i, resolve);
        }),
      );
      w.on('message', (m: FromWorker) => this.onMessage(m));
      w.on('error', (err) => {
        this.fatal = `worker ${i}: ${err.message}`;
        this.pending.get(i)?.();
      });
      w.postMessage({ type: 'init', workerId: i, config: cfg } satisfies ToWorker);
    }
    await within(Promise.all(ready), this.opts.deadline.remaining());
    if (this.fatal !== null) throw new Error(this.fatal);
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'prepared':
        this.pending.get(m.workerId)?.();
        this.pending.delete(m.workerId);
        return;
      case 'tick':
        this.agg.ingest(m.tick);
        this.pending.get(1_000_000 + m.tick.workerId)?.();
        return;
      case 'stopped':
        this.agg.ingest(m.tick);
        this.pending.get(2_000_000 + m.tick.workerId)?.();
        return;
      case 'fatal':
        this.fatal = `worker ${m.workerId}: ${m.message}`;
        return;
    }
  }

  private broadcast(msg: ToWorker): void {
    for (const w of this.workers) w.postMessage(msg);
  }

  start(): void {
    this.broadcast({ type: 'start' });
    this.sampler = setInterval(() => this.sample(), SAMPLE_MS);
  }

  private sample(): void {
    const p = this.agg.sample(performance.now());
    this.opts.onSample?.(p, this.agg.totals());
  }

  totals(): Totals {
    return this.agg.totals();
  }

  /** Asks every worker for an immediate tick and waits for it (bounded). */
  async flush(timeoutMs = 2000): Promise<void> {
    const waits = this.workers.map(
      (_, i) => new Promise<void>((resolve) => this.pending.set(1_000_000 + i, resolve)),
    );
    this.broadcast({ type: 'flush' });
    await within(Promise.all(waits), Math.min(timeoutMs, this.opts.deadline.remaining()));
    for (let i = 0; i < this.workers.length; i++) this.pending.delete(1_000_000 + i);
  }

  /** Polls `pred` every `everyMs` until it holds, the deadline passes, or `limitMs` elapses. */
  async waitFor(pred: (t: Totals) => boolean, limitMs: number, everyMs = 100): Promise<boolean> {
    const end = performance.now() + limitMs;
    while (performance.now() < end && !this.opts.deadline.passed()) {
      if (this.fatal !== null) return false;
      if (pred(this.agg.totals())) return true;
      await sleep(Math.min(everyMs, end - performance.now(), this.opts.deadline.remaining()));
    }
    return pred(this.agg.totals());
  }

  /** Closes every client and worker; always returns within a few seconds. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.sampler !== null) clearInterval(this.sampler);
    this.sampler = null;
    const waits = this.workers.map(
      (_, i) => new Promise<void>((resolve) => this.pending.set(2_000_000 + i, resolve)),
    );
    this.broadcast({ type: 'stop' });
    await within(Promise.all(waits), 5000);
    this.agg.sample(performance.now());
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
