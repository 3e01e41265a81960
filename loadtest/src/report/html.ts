// Self-contained HTML report: inline CSS and inline SVG charts, no scripts, no external resources.
import { writeFileSync } from 'node:fs';
import type { Bucket, LatencySummary } from '../histogram.js';
import type { RunReport } from './json.js';
import { barChart, esc, lineChart } from './svg.js';
import { formatTextReport } from './text.js';

function bucketBars(buckets: readonly Bucket[]): { label: string; value: number }[] {
  let first = buckets.findIndex((b) => b.count > 0);
  let last = buckets.length - 1;
  while (last > 0 && (buckets[last]?.count ?? 0) === 0) last--;
  if (first < 0) first = 0;
  return buckets.slice(first, last + 1).map((b) => ({ label: b.le === null ? '>100s' : `≤${b.le}ms`, value: b.count }));
}

function latencyTable(rows: readonly [string, LatencySummary][]): string {
  const head = '<tr><th></th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>';
  const body = rows
    .map(([name, l]) => `<tr><td>${esc(name)}</td><td>${l.count}</td><td>${l.p50}</td><td>${l.p90}</td><td>${l.p99}</td><td>${l.p999}</td><td>${l.max}</td></tr>`)
    .join('');
  return `<table>${head}${body}</table><p class="note">latencies in milliseconds</p>`;
}

export function renderHtmlReport(r: RunReport): string {
  const connected = r.series.map((p) => [p.t, p.connected] as const);
  const lat = (k: 'p50' | 'p90' | 'p99'): (readonly [number, number])[] =>
    r.series.filter((p) => p.latency.count > 0).map((p) => [p.t, p.latency[k]] as const);
  const sub = (k: 'p50' | 'p99'): (readonly [number, number])[] =>
    r.series.filter((p) => p.connectLatency.count > 0).map((p) => [p.t, p.connectLatency[k]] as const);
  const sections: string[] = [];
  sections.push(`<h2>Summary</h2><pre>${esc(formatTextReport(r))}</pre>`);
  sections.push(`<h2>Connected clients</h2>${lineChart('connected clients', 'clients', [{ name: 'connected', color: '#2a9d5c', points: connected }])}`);
  const rows: [string, LatencySummary][] = [['time-to-subscribed', r.timeToSubscribed]];
  if (r.deliveries.latency.count > 0) rows.push(['publish→deliver', r.deliveries.latency]);
  for (const s of r.stages) rows.push([`stage ${s.name}`, s.latency]);
  if (r.storm !== null) rows.push(['reconnect (drop→subscribed)', r.storm.reconnectTime]);
  sections.push(`<h2>Latency</h2>${latencyTable(rows)}`);
  if (r.deliveries.latency.count > 0) {
    sections.push(
      `<h3>Publish→deliver latency over time</h3>${lineChart('latency percentiles', 'ms', [
        { name: 'p50', color: '#4a7bd0', points: lat('p50') },
        { name: 'p90', color: '#e0a030', points: lat('p90') },
        { name: 'p99', color: '#d04a4a', points: lat('p99') },
      ])}`,
    );
    sections.push(`<h3>Publish→deliver latency histogram</h3>${barChart('latency histogram', bucketBars(r.deliveries.latencyBuckets))}`);
  }
  if (r.timeToSubscribed.count > 0) {
    sections.push(
      `<h3>Time-to-subscribed over time</h3>${lineChart('time to subscribed', 'ms', [
        { name: 'p50', color: '#4a7bd0', points: sub('p50') },
        { name: 'p99', color: '#d04a4a', points: sub('p99') },
      ])}`,
    );
    sections.push(`<h3>Time-to-subscribed histogram</h3>${barChart('time to subscribed histogram', bucketBars(r.timeToSubscribedBuckets))}`);
  }
  if (r.storm !== null && r.storm.connectRate.length > 0) {
    const bars = r.storm.connectRate.map((b) => ({ label: `${(b.atMs / 1000).toFixed(1)}s`, value: b.count }));
    sections.push(`<h3>Connects per 100 ms during the storm</h3>${barChart('connect rate', bars)}`);
    sections.push(`<h3>Reconnect time histogram</h3>${barChart('reconnect histogram', bucketBars(r.storm.reconnectBuckets))}`);
  }
  sections.push(`<h2>Options</h2><pre>${esc(JSON.stringify(r.options, null, 2))}</pre>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gyre-bench ${esc(r.scenario)} ${esc(r.startedAt)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:960px}
pre{background:#f6f6f6;padding:12px;overflow-x:auto;font-size:12px;white-space:pre-wrap;overflow-wrap:anywhere}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child{text-align:left}
.note{color:#666;font-size:12px}svg{display:block;margin:8px 0 24px}
</style></head><body>
<h1>gyre-bench: ${esc(r.scenario)}</h1>
<p class="note">${esc(r.startedAt)} → ${esc(r.finishedAt)} · stop: ${esc(r.stopReason)}</p>
${sections.join('\n')}
</body></html>
`;
}

export function writeHtmlReport(path: string, r: RunReport): void {
  writeFileSync(path, renderHtmlReport(r));
}
