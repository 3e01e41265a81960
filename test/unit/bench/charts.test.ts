import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCharts, parseRecords, peerColour, peersOf, renderChartSvg, runsNote, yAxis, type ChartSpec } from '../../../bench/lib/charts.js';
import { parseTableHeader, renderChartsHtml } from '../../../bench/lib/charts-html.js';
import type { BurstResult, FanoutResult, IdleResult, RunRecord } from '../../../bench/lib/result.js';
import { tableWorkloads, type BurstWorkload, type FanoutWorkload, type IdleWorkload } from '../../../bench/lib/workloads.js';

const all = tableWorkloads(1);
const burstW = all.find((w): w is BurstWorkload => w.kind === 'burst');
const idleW = all.find((w): w is IdleWorkload => w.kind === 'idle');
const fan = (id: string): FanoutWorkload => {
  const w = all.find((x): x is FanoutWorkload => x.kind === 'fanout' && x.id === id);
  if (w === undefined) throw new Error(`no workload ${id}`);
  return w;
};
if (burstW === undefined || idleW === undefined) throw new Error('table workloads changed');
const f1 = fan('fanout-1x10000@1');
const f20 = fan('fanout-1x10000@20');
const lat = fan('latency-1x1000@50');

function burst(peer: string, run: number, p50: number, p99: number): RunRecord {
  const result: BurstResult = {
    kind: 'burst',
    connections: 100,
    subscribed: 100,
    failures: 0,
    totalMs: p99 + 1,
    timeToSubscribed: { count: 100, p50, p99, max: p99 + 1 },
    server: null,
  };
  return { peer, run, workload: burstW as BurstWorkload, startedAt: '', ok: true, result };
}

function idle(peer: string, run: number, bytesPerConnection: number | null): RunRecord {
  const result: IdleResult = { kind: 'idle', connections: 100, subscribed: 100, failures: 0, holdSec: 30, bytesPerConnection, server: null };
  return { peer, run, workload: idleW as IdleWorkload, startedAt: '', ok: true, result };
}

function fanout(peer: string, run: number, w: FanoutWorkload, cpu: number, perSec: number, p50 = 1, p99 = 2): RunRecord {
  const result: FanoutResult = {
    kind: 'fanout',
    subscribed: w.subscribersPerChannel,
    failures: 0,
    published: 10,
    publishErrors: 0,
    expectedDeliveries: 100,
    deliveries: 100,
    measureSec: 10,
    deliveriesPerSec: perSec,
    latency: { count: 100, p50, p99, max: p99 + 1 },
    cpuSecondsPerMillion: cpu,
    server: null,
  };
  return { peer, run, workload: w, startedAt: '', ok: true, result };
}

const failed = (peer: string, run: number, r: RunRecord): RunRecord => ({
  peer,
  run,
  workload: r.workload,
  startedAt: '',
  ok: false,
  error: 'server died',
});

// 3 runs; gyre values out of order, centrifugo loses one run to a failure, ws-bare only has burst, socketio never ran.
const records: RunRecord[] = [
  burst('gyre', 1, 30, 301),
  burst('gyre', 2, 10, 105),
  burst('gyre', 3, 20, 203),
  burst('centrifugo', 1, 7, 70),
  burst('centrifugo', 2, 5, 50),
  failed('centrifugo', 3, burst('centrifugo', 3, 0, 0)),
  burst('ws-bare', 1, 3, 33),
  idle('gyre', 1, 9 * 1024),
  idle('gyre', 2, 7 * 1024),
  idle('gyre', 3, 8 * 1024),
  idle('centrifugo', 1, null),
  fanout('gyre', 1, f1, 25, 10_000),
  fanout('gyre', 2, f1, 23, 10_000),
  fanout('gyre', 3, f1, 24, 10_000),
  fanout('gyre', 1, f20, 5.5, 150_000),
  fanout('centrifugo', 1, f20, 8.25, 199_000),
  fanout('gyre', 1, lat, 1, 50_000, 11, 27.5),
  fanout('gyre', 2, lat, 1, 50_000, 9, 30),
  fanout('gyre', 3, lat, 1, 50_000, 10, 28),
];
const PEERS = ['gyre', 'centrifugo', 'socketio', 'ws-bare'];

function chart(charts: readonly ChartSpec[], id: string): ChartSpec {
  const c = charts.find((x) => x.id === id);
  assert.ok(c !== undefined, `chart ${id}`);
  return c;
}

const medians = (c: ChartSpec): (number | null)[][] => c.groups.map((g) => g.values.map((v) => v.median));

test('peersOf: canonical order first, unknown peers after', () => {
  assert.deepEqual(peersOf([...records, burst('other', 1, 1, 1)]), ['gyre', 'centrifugo', 'ws-bare', 'other']);
});

test('buildCharts: one chart per section, CPU charts per shape', () => {
  const charts = buildCharts(records, { peers: PEERS });
  assert.deepEqual(
    charts.map((c) => c.id),
    ['burst', 'idle', 'cpu-1x10000', 'latency'],
  );
  // No fan-out workload with 1,000 channels in the records → no empty chart for it.
  assert.equal(charts.find((c) => c.id === 'cpu-1000x10'), undefined);
});

test('burst: medians over successful runs; a failed run is left out; a peer never run is null (n/a), not 0', () => {
  const c = chart(buildCharts(records, { peers: PEERS }), 'burst');
  assert.deepEqual(c.groups.map((g) => g.label), ['p50', 'p99']);
  assert.deepEqual(medians(c), [
    [20, 6, null, 3],
    [203, 60, null, 33],
  ]);
  assert.deepEqual(c.groups[0]?.values.map((v) => v.runs), [3, 2, 0, 1]);
  assert.equal(runsNote(c), 'median of 1–3 runs per bar');
});

test('idle: KiB per connection; a null sample is n/a', () => {
  const c = chart(buildCharts(records, { peers: PEERS }), 'idle');
  assert.deepEqual(medians(c), [[8, null, null, null]]);
  assert.equal(runsNote(c), 'median of 3 runs');
});

test('cpu chart: groups by publish rate, shortfall of the achieved rate noted', () => {
  const c = chart(buildCharts(records, { peers: PEERS }), 'cpu-1x10000');
  assert.deepEqual(c.groups.map((g) => g.label), ['1 pub/s', '20 pub/s']);
  assert.deepEqual(c.groups.map((g) => g.sublabel), ['10,000 deliveries/s expected', '200,000 deliveries/s expected']);
  assert.deepEqual(medians(c), [
    [24, null, null, null],
    [5.5, 8.25, null, null],
  ]);
  assert.equal(c.notes.length, 1); // 20 pub/s: gyre delivered 150,000 of 200,000/s; 1 pub/s was on target
  assert.match(c.notes[0] ?? '', /At 20 pub\/s .* gyre 150,000 · centrifugo 199,000 · socketio n\/a · ws-bare n\/a/);
});

test('latency: p50 and p99 per latency workload', () => {
  const c = chart(buildCharts(records, { peers: PEERS }), 'latency');
  assert.deepEqual(c.groups.map((g) => `${g.label} ${g.sublabel ?? ''}`), [
    'p50 1 ch × 1,000 subs @ 50 pub/s',
    'p99 1 ch × 1,000 subs @ 50 pub/s',
  ]);
  assert.deepEqual(medians(c), [
    [10, null, null, null],
    [28, null, null, null],
  ]);
});

test('given workloads that never ran still get a chart of n/a', () => {
  const charts = buildCharts([], { peers: ['gyre'], workloads: [f1] });
  const c = chart(charts, 'cpu-1x10000');
  assert.deepEqual(medians(c), [[null]]);
  assert.equal(runsNote(c), 'no successful run');
  assert.doesNotMatch(renderChartSvg(c), /NaN|undefined|Infinity/);
});

test('renderChartSvg: title, axis labels, legend, value labels, n/a without a bar', () => {
  const c = chart(buildCharts(records, { peers: PEERS }), 'burst');
  const svg = renderChartSvg(c);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  for (const s of ['Connect burst: 10,000 clients', 'time to subscribed (ms)', 'percentile over clients', 'Lower is better']) {
    assert.ok(svg.includes(s), s);
  }
  for (const p of PEERS) assert.ok(svg.includes(`>${p}</text>`), `legend ${p}`);
  // Value labels use the table's number format.
  for (const v of ['>20.0<', '>6.00<', '>203<', '>60.0<', '>3.00<', '>33.0<']) assert.ok(svg.includes(v), v);
  assert.equal(svg.match(/>n\/a</g)?.length, 2); // socketio p50 and p99
  assert.ok(svg.includes('n/a: no successful run'));
  // socketio's colour appears in the legend swatch only: no zero-height bar stands in for a missing value.
  assert.equal(svg.split(`fill="${peerColour('socketio', PEERS)}"`).length - 1, 1);
  assert.doesNotMatch(svg, /NaN|undefined|Infinity|null/);
  assert.doesNotMatch(svg, /href|<script|url\(/);
});

test('renderChartsHtml: one figure per chart, header with code, self-contained', () => {
  const md = [
    '## Gyre vs …',
    '',
    'Command: `node --import tsx bench/table.ts --runs 3`  ',
    'Date: 2026-01-01T00:00:00.000Z · commit abc1234 · Node v20  ',
    'Machine: 2 CPUs  ',
    'Runs: 3 · values are medians over runs.  ',
    '| workload | metric |',
  ].join('\n');
  const header = parseTableHeader(md);
  assert.deepEqual(header.map((l) => l.split(':')[0]), ['Command', 'Date', 'Machine', 'Runs']);
  assert.ok(header.every((l) => !l.endsWith(' ')));
  const charts = buildCharts(records, { peers: PEERS });
  const html = renderChartsHtml(charts, header);
  for (const c of charts) assert.ok(html.includes(`<figure class="chart" id="chart-${c.id}">`), c.id);
  assert.ok(html.includes('<code>node --import tsx bench/table.ts --runs 3</code>'));
  assert.ok(html.includes('<figcaption>Date: 2026-01-01T00:00:00.000Z'));
  assert.doesNotMatch(html, /<script|<link|src=|href=|@import|url\(|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  assert.doesNotMatch(html, /NaN|undefined/);
});

test('yAxis: round steps, top just above the maximum', () => {
  assert.deepEqual(yAxis(31.3), { step: 10, top: 40 });
  assert.deepEqual(yAxis(8421), { step: 2000, top: 10_000 });
  assert.deepEqual(yAxis(50.1), { step: 20, top: 60 });
  assert.deepEqual(yAxis(1000), { step: 200, top: 1000 });
  assert.deepEqual(yAxis(0), { step: 0.2, top: 1 });
});

test('parseRecords: accepts RunRecord[], rejects other shapes', () => {
  assert.equal(parseRecords(JSON.parse(JSON.stringify(records)) as unknown).length, records.length);
  assert.throws(() => parseRecords({}), /JSON array/);
  assert.throws(() => parseRecords([{ peer: 'gyre', ok: true }]), /records\[0\]/);
});
