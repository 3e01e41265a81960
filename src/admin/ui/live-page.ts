// The Live page: per-second charts (uPlot) fed by the server's NDJSON stream while the page is open. Each chart
// keeps the last 120 samples; a chart whose set of series grows (a new refusal reason, a new node) is rebuilt.
import uPlot from 'uplot';
import { liveStream } from './api.js';
import { h } from './dom.js';
import type { LiveSample } from './live-sample.js';

type Sample = LiveSample;

type Pick = (s: Sample) => Record<string, number | null>;

const KEEP = 120;
const COLORS = ['#2f7ed8', '#e4572e', '#29a35a', '#f3a712', '#8e44ad', '#17a2b8', '#c0392b', '#7f8c8d'];

class Chart {
  readonly el: HTMLElement;
  private readonly plotEl: HTMLElement;
  private keys: string[] = [];
  private readonly times: number[] = [];
  private readonly values = new Map<string, (number | null)[]>();
  private plot: uPlot | undefined;

  constructor(
    readonly id: string,
    readonly title: string,
    private readonly pick: Pick,
    private readonly unit: string,
  ) {
    this.plotEl = h('div');
    this.el = h('section', { class: 'chart', id: `chart-${id}`, 'data-samples': '0' }, h('h3', {}, title), this.plotEl);
  }

  add(s: Sample): void {
    const v = this.pick(s);
    let grew = false;
    for (const k of Object.keys(v)) {
      if (!this.values.has(k)) {
        this.values.set(k, this.times.map(() => null));
        this.keys.push(k);
        grew = true;
      }
    }
    this.times.push(s.t / 1000);
    for (const k of this.keys) this.values.get(k)?.push(v[k] ?? (this.unit === '/s' ? 0 : null));
    if (this.times.length > KEEP) {
      this.times.shift();
      for (const arr of this.values.values()) arr.shift();
    }
    this.el.dataset['samples'] = String(Number(this.el.dataset['samples']) + 1);
    this.el.dataset['last'] = JSON.stringify(v);
    const peak: Record<string, number> = {};
    for (const k of this.keys) peak[k] = Math.max(0, ...(this.values.get(k) ?? []).map((x) => x ?? 0));
    this.el.dataset['peak'] = JSON.stringify(peak);
    const data = [this.times, ...this.keys.map((k) => this.values.get(k) ?? [])] as uPlot.AlignedData;
    if (grew || this.plot === undefined) this.build(data);
    else this.plot.setData(data);
  }

  private build(data: uPlot.AlignedData): void {
    this.plot?.destroy();
    const width = Math.max(280, this.el.clientWidth - 16 || 420);
    this.plot = new uPlot(
      {
        width,
        height: 160,
        legend: { show: true },
        cursor: { show: true },
        axes: [{}, { label: this.unit, size: 50 }],
        series: [{}, ...this.keys.map((k, i) => ({ label: k, stroke: COLORS[i % COLORS.length] ?? '#333', width: 2, spanGaps: false }))],
      },
      data,
      this.plotEl,
    );
  }

  destroy(): void {
    this.plot?.destroy();
  }
}

const num = (v: number | null): number | null => v;

const CHARTS: readonly [string, string, Pick, string][] = [
  ['connections', 'Connections (per node)', (s) => {
    const out: Record<string, number | null> = { 'this node': s.clients };
    for (const n of s.nodes) if (s.nodes.length > 1) out[n.name] = n.num_clients;
    return out;
  }, 'conns'],
  ['connect-rate', 'Connect rate', (s) => ({ accepted: s.connectRate }), '/s'],
  ['refusals', 'Refusals by reason', (s) => ({ ...s.refusals }), '/s'],
  ['disconnects', 'Server disconnects by code', (s) => ({ ...s.disconnects }), '/s'],
  ['fanout', 'Fan-out (publications delivered)', (s) => ({ delivered: s.fanoutRate }), '/s'],
  ['lag', 'Publish-to-deliver lag', (s) => ({ mean: num(s.publishLagMs) }), 'ms'],
  ['loop', 'Event-loop lag', (s) => ({ p99: s.loopLagP99Ms, max: s.loopLagMaxMs }), 'ms'],
  ['fds', 'File descriptors vs limit', (s) => ({ open: s.fds, limit: s.fdLimit }), 'fds'],
  ['overflows', 'Accept-queue overflows (host)', (s) => ({ overflows: s.acceptOverflows }), '/s'],
  ['engine', 'Engine state (1 = ok), reconnects/s, drain', (s) => ({ engine: s.engine.ok ? 1 : 0, reconnects: s.engineReconnects, draining: s.draining ? 1 : 0 }), 'state'],
];

/** Mounts the page into `root`; returns the function that closes the stream and the charts. */
export function mountLive(root: HTMLElement, onError: (e: unknown) => void): () => void {
  const status = h('p', { class: 'muted', id: 'live-status' }, 'connecting…');
  const grid = h('div', { class: 'grid' });
  root.append(h('h2', {}, 'Live'), status, grid);
  const charts = CHARTS.map(([id, title, pick, unit]) => new Chart(id, title, pick, unit));
  for (const c of charts) grid.append(c.el);
  const abort = new AbortController();
  liveStream((raw) => {
    const s = raw as Sample;
    for (const c of charts) c.add(s);
    const problems = s.engine.problems.length > 0 ? ` · engine: ${s.engine.problems.join('; ')}` : '';
    status.textContent = `${new Date(s.t).toLocaleTimeString()} · ${s.clients} connections${s.draining ? ' · DRAINING' : ''}${problems}`;
  }, abort.signal).catch((e: unknown) => {
    if (!abort.signal.aborted) onError(e);
  });
  return () => {
    abort.abort();
    for (const c of charts) c.destroy();
  };
}
