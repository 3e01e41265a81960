// Pure summarising of benchmark runs: medians over runs per (workload, peer, metric), ratios Gyre/peer,
// and the Markdown table. No I/O here, so it is unit-tested with made-up records.
import type { RunRecord, WorkloadResult } from './result.js';
import type { Workload } from './workloads.js';

export interface Metric {
  readonly label: string;
  readonly better: 'lower' | 'higher';
  get(r: WorkloadResult): number | null;
}

export function median(values: readonly number[]): number | null {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  const hi = v[mid] ?? 0;
  return v.length % 2 === 1 ? hi : ((v[mid - 1] ?? hi) + hi) / 2;
}

/** Gyre ÷ peer; null when either side is missing or the peer's value is 0. */
export function ratio(gyre: number | null, peer: number | null): number | null {
  if (gyre === null || peer === null || peer === 0) return null;
  return gyre / peer;
}

export function formatNumber(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '—';
  const a = Math.abs(n);
  if (a >= 1000) return Math.round(n).toLocaleString('en-US');
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  if (a >= 1) return n.toFixed(2);
  if (a === 0) return '0';
  return n.toPrecision(2);
}

export function formatRatio(r: number | null): string {
  return r === null ? '—' : `${r.toFixed(2)}×`;
}

const burst = (f: (r: Extract<WorkloadResult, { kind: 'burst' }>) => number | null) => (r: WorkloadResult) =>
  r.kind === 'burst' ? f(r) : null;
const idle = (f: (r: Extract<WorkloadResult, { kind: 'idle' }>) => number | null) => (r: WorkloadResult) =>
  r.kind === 'idle' ? f(r) : null;
const fan = (f: (r: Extract<WorkloadResult, { kind: 'fanout' }>) => number | null) => (r: WorkloadResult) =>
  r.kind === 'fanout' ? f(r) : null;

export function metricsFor(w: Workload): Metric[] {
  switch (w.kind) {
    case 'burst':
      return [
        { label: 'time-to-subscribed p50 (ms)', better: 'lower', get: burst((r) => r.timeToSubscribed.p50) },
        { label: 'time-to-subscribed p99 (ms)', better: 'lower', get: burst((r) => r.timeToSubscribed.p99) },
        { label: 'total time (ms)', better: 'lower', get: burst((r) => r.totalMs) },
        { label: 'failures', better: 'lower', get: burst((r) => r.failures) },
      ];
    case 'idle':
      return [
        { label: 'RSS per connection (KiB)', better: 'lower', get: idle((r) => (r.bytesPerConnection === null ? null : r.bytesPerConnection / 1024)) },
        {
          label: 'idle CPU (% of a core)',
          better: 'lower',
          get: idle((r) => (r.server === null || r.server.wallSeconds <= 0 ? null : (100 * r.server.cpuSeconds) / r.server.wallSeconds)),
        },
        { label: 'failures', better: 'lower', get: idle((r) => r.failures) },
      ];
    case 'fanout': {
      const lat = [
        { label: 'latency p50 (ms)', better: 'lower' as const, get: fan((r) => r.latency.p50) },
        { label: 'latency p99 (ms)', better: 'lower' as const, get: fan((r) => r.latency.p99) },
      ];
      const delivered = {
        label: 'delivered (% of expected)',
        better: 'higher' as const,
        get: fan((r) => (r.expectedDeliveries > 0 ? (100 * r.deliveries) / r.expectedDeliveries : null)),
      };
      const rate = { label: 'deliveries/s', better: 'higher' as const, get: fan((r) => r.deliveriesPerSec) };
      if (w.group === 'latency') return [...lat, rate, delivered];
      return [
        rate,
        { label: 'server CPU s per 1M deliveries', better: 'lower', get: fan((r) => r.cpuSecondsPerMillion) },
        ...lat,
        delivered,
      ];
    }
  }
}

export function describeWorkload(w: Workload): string {
  switch (w.kind) {
    case 'burst':
      return `burst: ${w.connections.toLocaleString('en-US')} connect+subscribe at once`;
    case 'idle':
      return `idle: ${w.connections.toLocaleString('en-US')} connections held ${w.holdSec}s`;
    case 'fanout':
      return `${w.channels.toLocaleString('en-US')} ch × ${w.subscribersPerChannel.toLocaleString('en-US')} subs @ ${w.publishRate} pub/s`;
  }
}

export interface Cell {
  readonly median: number | null;
  readonly runs: number;
}

/** Median of one metric over the successful runs of (workload id, peer). */
export function cell(records: readonly RunRecord[], workloadId: string, peer: string, m: Metric): Cell {
  const values: number[] = [];
  for (const rec of records) {
    if (rec.peer !== peer || rec.workload.id !== workloadId || !rec.ok || rec.result === undefined) continue;
    const v = m.get(rec.result);
    if (v !== null) values.push(v);
  }
  return { median: median(values), runs: values.length };
}

const SECTIONS: readonly { title: string; match: (w: Workload) => boolean }[] = [
  { title: '1. Connect burst', match: (w) => w.kind === 'burst' },
  { title: '2. Idle memory and CPU', match: (w) => w.kind === 'idle' },
  { title: '3. Fan-out throughput and cost', match: (w) => w.kind === 'fanout' && w.group === 'fanout' },
  { title: '4. Latency at fixed load', match: (w) => w.kind === 'fanout' && w.group === 'latency' },
];

/** The Markdown table: one section per workload group, medians per peer and Gyre/peer ratios. */
export function renderMarkdown(records: readonly RunRecord[], workloads: readonly Workload[], peers: readonly string[]): string {
  const others = peers.filter((p) => p !== 'gyre');
  const hasGyre = peers.includes('gyre');
  const head = ['workload', 'metric', ...peers, ...(hasGyre ? others.map((p) => `gyre/${p}`) : [])];
  const out: string[] = [];
  for (const sec of SECTIONS) {
    const ws = workloads.filter(sec.match);
    if (ws.length === 0) continue;
    out.push(`### ${sec.title}`, '', `| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`);
    for (const w of ws) {
      for (const m of metricsFor(w)) {
        const cells = peers.map((p) => cell(records, w.id, p, m));
        const g = cells[peers.indexOf('gyre')]?.median ?? null;
        const row = [
          describeWorkload(w),
          `${m.label} ${m.better === 'lower' ? '↓' : '↑'}`,
          ...cells.map((c) => formatNumber(c.median)),
          ...(hasGyre ? others.map((p) => formatRatio(ratio(g, cells[peers.indexOf(p)]?.median ?? null))) : []),
        ];
        out.push(`| ${row.join(' | ')} |`);
      }
    }
    out.push('');
  }
  const failed = records.filter((r) => !r.ok);
  if (failed.length > 0) {
    out.push('Failed runs (excluded from the medians):', '');
    for (const f of failed) out.push(`- ${f.peer} · ${f.workload.id} · run ${f.run}: ${(f.error ?? '').split('\n')[0] ?? ''}`);
    out.push('');
  }
  return out.join('\n');
}
