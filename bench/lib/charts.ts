// Charts for the benchmark table: pure functions from RunRecord[] to chart data (the same medians as table.md,
// through summary.ts's metricsFor/cell) and from chart data to self-contained SVG (no scripts, fonts or links),
// so the HTML page and the PNGs screenshotted from it (bench/lib/charts-png.ts) show exactly the table's numbers.
// A value with no successful run is null and is drawn as "n/a", never as a zero-height bar.
import { esc } from '../../loadtest/src/report/svg.js';
import type { RunRecord } from './result.js';
import { PEERS } from './servers.js';
import { cell, describeWorkload, formatNumber, metricsFor, type Metric } from './summary.js';
import { expectedDeliveryRate, type FanoutWorkload, type Workload } from './workloads.js';

export interface ChartValue {
  readonly peer: string;
  /** Median over the successful runs; null when there is none (peer not run, every run failed). */
  readonly median: number | null;
  readonly runs: number;
}

export interface ChartGroup {
  readonly label: string;
  /** Optional second line under the group (the workload of a latency pair, the expected delivery rate). */
  readonly sublabel: string | null;
  readonly values: readonly ChartValue[];
}

export interface ChartSpec {
  /** File stem of the PNG and element id in the HTML page. */
  readonly id: string;
  readonly title: string;
  readonly yLabel: string;
  readonly xLabel: string;
  readonly better: 'lower' | 'higher';
  readonly peers: readonly string[];
  readonly groups: readonly ChartGroup[];
  /** Caveats printed under the chart (e.g. rates the load generator could not reach). */
  readonly notes: readonly string[];
}

export interface ChartOptions {
  /** Peers to show, in this order; default: every peer in the records, canonical order first. */
  readonly peers?: readonly string[];
  /** Workloads to chart; default: every workload in the records (so a workload never run can still show n/a). */
  readonly workloads?: readonly Workload[];
}

/** One colour per peer, the same in every chart. */
const PEER_COLOURS: Readonly<Record<string, string>> = {
  gyre: '#2563eb',
  centrifugo: '#e8590c',
  socketio: '#7c3aed',
  'ws-bare': '#6b7280',
};
const SPARE_COLOURS = ['#0d9488', '#db2777', '#65a30d', '#0891b2'] as const;

export function peerColour(peer: string, peers: readonly string[]): string {
  const fixed = PEER_COLOURS[peer];
  if (fixed !== undefined) return fixed;
  const unknown = peers.filter((p) => PEER_COLOURS[p] === undefined);
  return SPARE_COLOURS[Math.max(0, unknown.indexOf(peer)) % SPARE_COLOURS.length] ?? '#444';
}

/** Peers of the records, the table's canonical order first, then any other name in first-seen order. */
export function peersOf(records: readonly RunRecord[]): string[] {
  const seen = [...new Set(records.map((r) => r.peer))];
  const canonical: readonly string[] = PEERS;
  return [...canonical.filter((p) => seen.includes(p)), ...seen.filter((p) => !canonical.includes(p))];
}

/** Distinct workloads of the records, by id, in first-seen order (the table's run order). */
export function workloadsOf(records: readonly RunRecord[]): Workload[] {
  const byId = new Map<string, Workload>();
  for (const r of records) if (!byId.has(r.workload.id)) byId.set(r.workload.id, r.workload);
  return [...byId.values()];
}

/** The table's metric of that label, so the charts can never drift from table.md's medians. */
export function metricNamed(w: Workload, label: string): Metric {
  const m = metricsFor(w).find((x) => x.label === label);
  if (m === undefined) throw new Error(`no metric "${label}" for workload ${w.id}`);
  return m;
}

function values(records: readonly RunRecord[], w: Workload, label: string, peers: readonly string[]): ChartValue[] {
  const m = metricNamed(w, label);
  return peers.map((peer) => ({ peer, ...cell(records, w.id, peer, m) }));
}

const int = (n: number): string => n.toLocaleString('en-US');

/** `fanout` charts: one per (channels × subscribers) shape, one group per publish rate. */
function cpuCharts(records: readonly RunRecord[], ws: readonly Workload[], peers: readonly string[]): ChartSpec[] {
  const shapes = new Map<string, FanoutWorkload[]>();
  for (const w of ws) {
    if (w.kind !== 'fanout' || w.group !== 'fanout') continue;
    const key = `${w.channels}x${w.subscribersPerChannel}`;
    shapes.set(key, [...(shapes.get(key) ?? []), w]);
  }
  const charts: ChartSpec[] = [];
  for (const [key, list] of shapes) {
    const sorted = [...list].sort((a, b) => a.publishRate - b.publishRate);
    const first = sorted[0];
    if (first === undefined) continue;
    const notes: string[] = [];
    const groups = sorted.map((w) => {
      const expected = expectedDeliveryRate(w);
      // The cost per delivery is only comparable when the deliveries happened: say so where a peer fell short.
      const achieved = values(records, w, 'deliveries/s', peers);
      if (achieved.some((v) => v.median !== null && v.median < 0.95 * expected)) {
        const list = achieved.map((v) => `${v.peer} ${v.median === null ? 'n/a' : formatNumber(v.median)}`).join(' · ');
        notes.push(`At ${int(w.publishRate)} pub/s not every peer reached the expected ${int(expected)} deliveries/s (achieved: ${list}).`);
      }
      return {
        label: `${int(w.publishRate)} pub/s`,
        sublabel: `${int(expected)} deliveries/s expected`,
        values: values(records, w, 'server CPU s per 1M deliveries', peers),
      };
    });
    charts.push({
      id: `cpu-${key}`,
      title: `Fan-out cost: ${int(first.channels)} channel${first.channels === 1 ? '' : 's'} × ${int(first.subscribersPerChannel)} subscribers`,
      yLabel: 'server CPU-seconds per 1M deliveries',
      xLabel: 'publish rate (publications/s over all channels)',
      better: 'lower',
      peers,
      groups,
      notes,
    });
  }
  return charts;
}

/** Every chart the records allow, in the table's section order; a chart with no workload is left out. */
export function buildCharts(records: readonly RunRecord[], opts: ChartOptions = {}): ChartSpec[] {
  const peers = opts.peers ?? peersOf(records);
  const ws = opts.workloads ?? workloadsOf(records);
  const charts: ChartSpec[] = [];
  const burst = ws.find((w) => w.kind === 'burst');
  if (burst !== undefined) {
    charts.push({
      id: 'burst',
      title: `Connect burst: ${int(burst.connections)} clients connect + subscribe at once`,
      yLabel: 'time to subscribed (ms)',
      xLabel: 'percentile over clients',
      better: 'lower',
      peers,
      groups: (['p50', 'p99'] as const).map((p) => ({
        label: p,
        sublabel: null,
        values: values(records, burst, `time-to-subscribed ${p} (ms)`, peers),
      })),
      notes: [],
    });
  }
  const idle = ws.find((w) => w.kind === 'idle');
  if (idle !== undefined) {
    charts.push({
      id: 'idle',
      title: 'Idle memory per connection',
      yLabel: 'server RSS per connection (KiB)',
      xLabel: 'RSS growth ÷ connections, after the hold',
      better: 'lower',
      peers,
      groups: [
        {
          label: `${int(idle.connections)} connections`,
          sublabel: `held ${idle.holdSec} s`,
          values: values(records, idle, 'RSS per connection (KiB)', peers),
        },
      ],
      notes: [],
    });
  }
  charts.push(...cpuCharts(records, ws, peers));
  const latency = ws.filter((w): w is FanoutWorkload => w.kind === 'fanout' && w.group === 'latency');
  if (latency.length > 0) {
    charts.push({
      id: 'latency',
      title: 'Publish → deliver latency at a fixed load',
      yLabel: 'latency (ms)',
      xLabel: 'percentile · workload',
      better: 'lower',
      peers,
      groups: latency.flatMap((w) =>
        (['p50', 'p99'] as const).map((p) => ({
          label: p,
          sublabel: describeWorkload(w),
          values: values(records, w, `latency ${p} (ms)`, peers),
        })),
      ),
      notes: [],
    });
  }
  return charts;
}

/** "median of 3 runs", or "median of 1–3 runs per bar" when some (peer, workload) lost runs. */
export function runsNote(spec: ChartSpec): string {
  const counts = spec.groups.flatMap((g) => g.values.filter((v) => v.median !== null).map((v) => v.runs));
  if (counts.length === 0) return 'no successful run';
  const lo = Math.min(...counts);
  const hi = Math.max(...counts);
  return lo === hi ? `median of ${hi} run${hi === 1 ? '' : 's'}` : `median of ${lo}–${hi} runs per bar`;
}

// ---- SVG ----

const FONT = "'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif";
const BAR_W = 46;
const BAR_GAP = 4;
const GROUP_GAP = 40;
const PAD_L = 84;
const PAD_R = 24;
const PLOT_TOP = 96;
const PLOT_H = 280;
const NOTE_LINE = 16;
const CHAR_W = 7; // rough width of one 12 px character, enough to wrap notes and size the legend

/**
 * The y axis for values up to `max`: a round tick step (1, 2, 2.5 or 5 × 10^k) giving at most 5 intervals, and
 * the top as the first step multiple at or above `max`, so the tallest bar keeps little empty space above it.
 */
export function yAxis(max: number): { readonly step: number; readonly top: number } {
  if (!(max > 0) || !Number.isFinite(max)) return { step: 0.2, top: 1 };
  const raw = max / 5;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = ([1, 2, 2.5, 5, 10].map((m) => m * p).find((x) => x >= raw * (1 - 1e-9)) ?? 10 * p);
  return { step, top: step * Math.ceil(max / step - 1e-9) };
}

function wrap(text: string, maxChars: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > maxChars) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

const f1 = (n: number): string => n.toFixed(1);

/** Axis ticks: 2,000 / 12.5 / 0.4, without the table's fixed decimals (5.00). */
function tick(v: number): string {
  return Number.isInteger(v) ? int(v) : String(Number(v.toFixed(3)));
}

/** The chart as one standalone <svg> element (white background, system fonts, no external references). */
export function renderChartSvg(spec: ChartSpec): string {
  const nPeers = Math.max(1, spec.peers.length);
  const groupW = nPeers * BAR_W + (nPeers - 1) * BAR_GAP;
  const nGroups = Math.max(1, spec.groups.length);
  const legendW = spec.peers.reduce((s, p) => s + 28 + p.length * CHAR_W, 0);
  const width = Math.ceil(
    Math.max(560, PAD_L + nGroups * (groupW + GROUP_GAP) + PAD_R, PAD_L + legendW + PAD_R, 24 + spec.title.length * 11),
  );
  // The plot takes the whole width; a chart with few groups gets wider gaps, not empty space on the right.
  const plotW = width - PAD_L - PAD_R;
  const slotW = plotW / nGroups;
  const footer = [`${spec.better === 'lower' ? 'Lower is better' : 'Higher is better'} · ${runsNote(spec)}`];
  if (spec.groups.some((g) => g.values.some((v) => v.median === null))) footer.push('n/a: no successful run of that peer and workload.');
  footer.push(...spec.notes);
  const noteLines = footer.flatMap((n) => wrap(n, Math.floor((width - 24 - PAD_R) / CHAR_W)));
  const hasSub = spec.groups.some((g) => g.sublabel !== null);
  const base = PLOT_TOP + PLOT_H;
  const xLabelY = base + (hasSub ? 58 : 42);
  const height = xLabelY + 14 + noteLines.length * NOTE_LINE + 10;

  let max = 0;
  for (const g of spec.groups) for (const v of g.values) if (v.median !== null && v.median > max) max = v.median;
  const axis = yAxis(max);
  const py = (y: number): number => base - (y / axis.top) * PLOT_H;

  const o: string[] = [];
  o.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" ` +
      `font-family="${FONT}" role="img" aria-label="${esc(spec.title)}">`,
  );
  o.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  o.push(`<text x="24" y="30" font-size="17" font-weight="bold" fill="#111">${esc(spec.title)}</text>`);
  // Legend: one swatch per peer, in the peers' order.
  let lx = PAD_L;
  for (const p of spec.peers) {
    o.push(`<rect x="${f1(lx)}" y="46" width="14" height="14" rx="2" fill="${peerColour(p, spec.peers)}"/>`);
    o.push(`<text x="${f1(lx + 19)}" y="58" font-size="13" fill="#222">${esc(p)}</text>`);
    lx += 28 + p.length * CHAR_W;
  }
  // Grid and y ticks.
  const ticks = Math.round(axis.top / axis.step);
  for (let i = 0; i <= ticks; i++) {
    const v = axis.step * i;
    const y = f1(py(v));
    o.push(`<line x1="${PAD_L}" x2="${PAD_L + plotW}" y1="${y}" y2="${y}" stroke="${i === 0 ? '#555' : '#e3e3e3'}"/>`);
    o.push(`<text x="${PAD_L - 8}" y="${f1(py(v) + 4)}" text-anchor="end" font-size="12" fill="#444">${esc(tick(v))}</text>`);
  }
  const yMid = f1(PLOT_TOP + PLOT_H / 2);
  o.push(
    `<text transform="translate(20 ${yMid}) rotate(-90)" text-anchor="middle" font-size="13" fill="#333">${esc(spec.yLabel)}</text>`,
  );
  // Bars, value labels, group labels.
  spec.groups.forEach((g, gi) => {
    const gx = PAD_L + gi * slotW + (slotW - groupW) / 2;
    g.values.forEach((v, pi) => {
      const x = gx + pi * (BAR_W + BAR_GAP);
      const cx = f1(x + BAR_W / 2);
      if (v.median === null) {
        o.push(
          `<rect x="${f1(x)}" y="${f1(base - 22)}" width="${BAR_W}" height="22" fill="none" stroke="#bbb" stroke-dasharray="3 3"/>`,
        );
        o.push(`<text x="${cx}" y="${f1(base - 7)}" text-anchor="middle" font-size="12" font-style="italic" fill="#777">n/a</text>`);
        return;
      }
      const top = py(v.median);
      o.push(
        `<rect x="${f1(x)}" y="${f1(top)}" width="${BAR_W}" height="${f1(base - top)}" fill="${peerColour(v.peer, spec.peers)}">` +
          `<title>${esc(`${v.peer}: ${formatNumber(v.median)} (${v.runs} run${v.runs === 1 ? '' : 's'})`)}</title></rect>`,
      );
      o.push(`<text x="${cx}" y="${f1(top - 5)}" text-anchor="middle" font-size="12" fill="#111">${esc(formatNumber(v.median))}</text>`);
    });
    const mid = f1(gx + groupW / 2);
    o.push(`<text x="${mid}" y="${base + 20}" text-anchor="middle" font-size="13" font-weight="bold" fill="#222">${esc(g.label)}</text>`);
    if (g.sublabel !== null) {
      o.push(`<text x="${mid}" y="${base + 37}" text-anchor="middle" font-size="11" fill="#555">${esc(g.sublabel)}</text>`);
    }
  });
  o.push(`<text x="${f1(PAD_L + plotW / 2)}" y="${xLabelY}" text-anchor="middle" font-size="13" fill="#333">${esc(spec.xLabel)}</text>`);
  noteLines.forEach((line, i) => {
    o.push(`<text x="24" y="${xLabelY + 24 + i * NOTE_LINE}" font-size="12" fill="#555">${esc(line)}</text>`);
  });
  o.push('</svg>');
  return o.join('\n');
}

/** Light shape check of a parsed records.json (RunRecord[] written by bench/table.ts). */
export function parseRecords(json: unknown): RunRecord[] {
  if (!Array.isArray(json)) throw new Error('records: expected a JSON array of RunRecord');
  json.forEach((r: unknown, i) => {
    const ok =
      typeof r === 'object' &&
      r !== null &&
      'peer' in r &&
      typeof r.peer === 'string' &&
      'ok' in r &&
      typeof r.ok === 'boolean' &&
      'workload' in r &&
      typeof r.workload === 'object' &&
      r.workload !== null &&
      'id' in r.workload &&
      typeof r.workload.id === 'string';
    if (!ok) throw new Error(`records[${i}]: not a RunRecord (needs peer, ok, workload.id)`);
  });
  return json as RunRecord[];
}
