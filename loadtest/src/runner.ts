// Runs a pool of clients over worker threads (optionally spread over child processes, or in this thread):
// splits clients, starts/stops workers, feeds the aggregator, samples the per-second series, and enforces
// the run's hard deadline on every wait.
import { Aggregator } from './aggregate.js';
import type { SeriesPoint, Totals } from './aggregate.js';
import type { FromWorker, PoolConfig, ToWorker } from './messages.js';
import { openLinks, planSlots } from './links.js';
import type { Link, LinkMode } from './links.js';

export type PoolBase = Omit<PoolConfig, 'firstIndex' | 'count' | 'ratePerSec'>;

export interface GroupOptions {
  /** Worker threads per process; 0 = run the pool in the calling thread (one pool per process). */
  workers: number;
  /** Generator processes (default 1 = this process only); each gets a slice of clients and addresses. */
  processes?: number;
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
  private links: Link[] = [];
  private workerIds: number[] = [];
  private linkMode: LinkMode = 'inline';
  private readonly pending = new Map<number, () => void>();
  /** Latest CPU time (µs) reported by each child process. */
  private readonly childCpu = new Map<number, number>();
  private sampler: NodeJS.Timeout | null = null;
  private fatal: string | null = null;
  private stopped = false;

  constructor(private readonly opts: GroupOptions) {
    this.agg = new Aggregator(performance.now());
  }

  get fatalError(): string | null {
    return this.fatal;
  }

  /** How the pools run: in this thread, worker threads (compiled/dist/tsx) or child processes. */
  get mode(): LinkMode {
    return this.linkMode;
  }

  /** Pools (worker threads or in-thread pools) over all processes. */
  get poolCount(): number {
    return this.workerIds.length;
  }

  /** CPU time of the whole generator (this process with its threads, plus every child process), µs. */
  cpuUs(): number {
    const u = process.cpuUsage();
    let total = u.user + u.system;
    for (const v of this.childCpu.values()) total += v;
    return total;
  }

  /** Spawns workers, hands each its slice of clients and waits until every token is signed. */
  async prepare(): Promise<void> {
    const o = this.opts;
    const plan = planSlots({
      clients: o.clients,
      workers: o.workers,
      processes: o.processes ?? 1,
      rate: o.rate,
      pool: o.pool,
    });
    const ready: Promise<void>[] = [];
    for (const p of plan) {
      for (const slot of p.slots) {
        this.workerIds.push(slot.workerId);
        ready.push(new Promise<void>((resolve) => this.pending.set(slot.workerId, resolve)));
      }
    }
    const opened = openLinks(plan, o.workers > 0, {
      onMessage: (m) => this.onMessage(m),
      onError: (workerIds, message) => {
        this.fatal = message;
        for (const id of workerIds) {
          this.pending.get(id)?.();
          this.pending.get(1_000_000 + id)?.();
          this.pending.get(2_000_000 + id)?.();
        }
      },
    });
    this.links = opened.links;
    this.linkMode = opened.mode;
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
        if (m.proc !== undefined) this.childCpu.set(m.proc.pid, m.proc.cpuUs);
        this.agg.ingest(m.tick);
        this.pending.get(1_000_000 + m.tick.workerId)?.();
        return;
      case 'stopped':
        if (m.proc !== undefined) this.childCpu.set(m.proc.pid, m.proc.cpuUs);
        this.agg.ingest(m.tick);
        this.pending.get(2_000_000 + m.tick.workerId)?.();
        return;
      case 'fatal':
        this.fatal = `worker ${m.workerId}: ${m.message}`;
        return;
    }
  }

  private broadcast(msg: ToWorker): void {
    for (const l of this.links) l.post(msg);
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
    const waits = this.workerIds.map(
      (id) => new Promise<void>((resolve) => this.pending.set(1_000_000 + id, resolve)),
    );
    this.broadcast({ type: 'flush' });
    await within(Promise.all(waits), Math.min(timeoutMs, this.opts.deadline.remaining()));
    for (const id of this.workerIds) this.pending.delete(1_000_000 + id);
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
    const waits = this.workerIds.map(
      (id) => new Promise<void>((resolve) => this.pending.set(2_000_000 + id, resolve)),
    );
    this.broadcast({ type: 'stop' });
    await within(Promise.all(waits), 5000);
    this.agg.sample(performance.now());
    await Promise.all(this.links.map((l) => l.close()));
  }
}
