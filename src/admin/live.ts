// The Live page's data: one sample per second, taken only while at least one Live page is open (no timer
// otherwise), kept in a short ring so a page that opens sees the last two minutes at once. Each sample is what
// this node knows: its own counters as per-second deltas, process state (event-loop lag, fds), host accept-queue
// overflows, engine health, and every node's counts from node.info() (all nodes of a cluster).
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Counter, Histogram } from 'prom-client';
import type { NodeInfo } from '../core/types.js';
import type { EngineHealth } from '../engines/types.js';
import { countOpenFds } from '../metrics/fds.js';
import { readListenCounters } from '../metrics/host-tcp.js';
import { metrics, parity, redisMetrics } from '../metrics/registry.js';
import type { LiveSample } from './ui/live-sample.js';

export type { LiveSample } from './ui/live-sample.js';

export interface LiveSources {
  stats(): { clients: number; users: number; subscriptions: number; channels: number };
  info(): Promise<NodeInfo[]>;
  engineHealth(): EngineHealth;
  shuttingDown(): boolean;
}

type Listener = (sample: LiveSample) => void;

const RING = 120;

/** Sums a counter's values grouped by one label (or all together with label ''), optionally filtered. */
async function sumBy(
  m: Counter,
  label: string,
  filter?: (labels: Record<string, string | number | undefined>) => boolean,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const v of (await m.get()).values) {
    if (filter !== undefined && !filter(v.labels)) continue;
    const key = label === '' ? '' : String(v.labels[label] ?? '');
    out.set(key, (out.get(key) ?? 0) + v.value);
  }
  return out;
}

/** Sum and count of a histogram (all label sets). */
async function histogramTotals(h: Histogram, filter?: (labels: Record<string, string | number | undefined>) => boolean): Promise<{ sum: number; count: number }> {
  let sum = 0;
  let count = 0;
  for (const v of (await h.get()).values) {
    if (filter !== undefined && !filter(v.labels)) continue;
    if (v.metricName?.endsWith('_sum') === true) sum += v.value;
    else if (v.metricName?.endsWith('_count') === true) count += v.value;
  }
  return { sum, count };
}

function deltas(now: Map<string, number>, before: Map<string, number> | undefined, seconds: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of now) {
    const d = v - (before?.get(k) ?? 0);
    if (d > 0) out[k] = d / seconds;
  }
  return out;
}

function readFdLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? null : Number(soft);
  } catch {
    return null;
  }
}


interface Totals {
  at: number;
  accepted: number;
  refusals: Map<string, number>;
  disconnects: Map<string, number>;
  fanout: number;
  lag: { sum: number; count: number };
  overflows: number | null;
  reconnects: number;
}

export class LiveSampler {
  private readonly listeners = new Set<Listener>();
  private readonly ring: LiveSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private loop: IntervalHistogram | undefined;
  private last: Totals | undefined;
  private sampling = false;
  private readonly fdLimit = readFdLimit();

  constructor(
    private readonly src: LiveSources,
    private readonly intervalMs = 1000,
  ) {}

  /** Starts sampling on the first listener; the returned function removes it (sampling stops with the last). */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    if (this.timer === undefined) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** The retained samples, oldest first. */
  recent(): readonly LiveSample[] {
    return this.ring;
  }

  get active(): boolean {
    return this.timer !== undefined;
  }

  close(): void {
    this.listeners.clear();
    this.stop();
  }

  private start(): void {
    this.loop = monitorEventLoopDelay({ resolution: 10 });
    this.loop.enable();
    this.last = undefined;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  private stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.loop?.disable();
    this.loop = undefined;
  }

  private async totals(): Promise<Totals> {
    const [accepted, handshake, connectErrors, disconnects, sent, reconnects] = await Promise.all([
      sumBy(metrics.connectionsAccepted, ''),
      sumBy(metrics.handshakeRejected, 'reason'),
      sumBy(metrics.replyErrors, 'code', (l) => l['method'] === 'connect'),
      sumBy(metrics.serverDisconnects, 'code'),
      sumBy(metrics.deliveries, '', (l) => l['type'] === 'publication'),
      sumBy(redisMetrics.pubsubReconnects, ''),
    ]);
    const refusals = new Map(handshake);
    for (const [code, n] of connectErrors) refusals.set(`connect_${code}`, n);
    // Publication time to fan-out here, on every engine; an API publish's duration before any fan-out was seen.
    const fanoutLag = await histogramTotals(parity.pubSubLag);
    const lag = fanoutLag.count > 0 ? fanoutLag : await histogramTotals(metrics.apiCommandDuration, (l) => l['method'] === 'publish');
    return {
      at: performance.now(),
      accepted: accepted.get('') ?? 0,
      refusals,
      disconnects,
      fanout: sent.get('') ?? 0,
      lag,
      overflows: readListenCounters()?.overflows ?? null,
      reconnects: reconnects.get('') ?? 0,
    };
  }

  private async tick(): Promise<void> {
    if (this.sampling) return; // a slow info() never stacks samples
    this.sampling = true;
    try {
      const now = await this.totals();
      const before = this.last;
      this.last = now;
      const seconds = before === undefined ? 1 : Math.max(0.001, (now.at - before.at) / 1000);
      const lagCount = now.lag.count - (before?.lag.count ?? now.lag.count);
      const lagSum = now.lag.sum - (before?.lag.sum ?? now.lag.sum);
      const loop = this.loop;
      const s = this.src.stats();
      const sample: LiveSample = {
        t: Date.now(),
        ...s,
        connectRate: before === undefined ? 0 : (now.accepted - before.accepted) / seconds,
        refusals: before === undefined ? {} : deltas(now.refusals, before.refusals, seconds),
        disconnects: before === undefined ? {} : deltas(now.disconnects, before.disconnects, seconds),
        fanoutRate: before === undefined ? 0 : (now.fanout - before.fanout) / seconds,
        publishLagMs: lagCount > 0 ? (lagSum / lagCount) * 1000 : null,
        loopLagP99Ms: loop === undefined ? 0 : loop.percentile(99) / 1e6,
        loopLagMaxMs: loop === undefined ? 0 : loop.max / 1e6,
        fds: countOpenFds(),
        fdLimit: this.fdLimit,
        acceptOverflows: now.overflows === null || before?.overflows == null ? null : now.overflows - before.overflows,
        engine: this.src.engineHealth(),
        engineReconnects: before === undefined ? 0 : (now.reconnects - before.reconnects) / seconds,
        draining: this.src.shuttingDown(),
        nodes: await this.src.info().catch(() => []),
      };
      loop?.reset();
      if (this.timer === undefined) return; // stopped meanwhile
      this.ring.push(sample);
      if (this.ring.length > RING) this.ring.shift();
      for (const l of this.listeners) l(sample);
    } finally {
      this.sampling = false;
    }
  }
}
