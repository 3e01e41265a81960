import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Aggregator } from '../../../loadtest/src/aggregate.js';
import { LatencyRecorder } from '../../../loadtest/src/histogram.js';
import { checkLimits } from '../../../loadtest/src/limits.js';
import { renderHtmlReport } from '../../../loadtest/src/report/html.js';
import { buildReport } from '../../../loadtest/src/report/json.js';
import { formatTextReport } from '../../../loadtest/src/report/text.js';
import { emptySequenceStats } from '../../../loadtest/src/sequence.js';

function sampleReport() {
  const t0 = performance.now();
  const agg = new Aggregator(t0);
  const lat = new LatencyRecorder();
  const con = new LatencyRecorder();
  for (let i = 1; i <= 100; i++) {
    lat.recordMs(i / 10);
    con.recordMs(i);
  }
  agg.ingest({
    workerId: 0, connected: 100, connecting: 0, settled: 100, subscribedOnce: 100, attempts: 102,
    failures: { ECONNRESET: 2 }, drops: {}, reconnectFailures: {}, reconnected: 0, deliveries: 100, pings: 3,
    seq: { ...emptySequenceStats(), received: 100, inOrder: 99, gaps: 1, missing: 4 },
    connectHist: con.serialize(), reconnectHist: null, latencyHist: lat.serialize(), connectBuckets: { '1': 5 },
  });
  agg.sample(t0 + 1000);
  const limits = checkLimits({ clients: 100, workers: 2, sourceAddresses: 1, extraSockets: 0 }, { fdSoft: 20000, fdHard: 20000, portLow: 32768, portHigh: 60999 });
  return buildReport({
    scenario: 'fanout', startedAt: Date.now() - 2000, finishedAt: Date.now(), stopReason: 'completed', error: null,
    options: { url: 'ws://127.0.0.1:8000/connection/websocket', apiKey: 'k', hmacSecret: 's', clients: 100 },
    limits, warnings: [], clientsRequested: 100, agg, extras: {},
  });
}

test('JSON report shape: numbers, series, buckets, and redacted secrets', () => {
  const r = JSON.parse(JSON.stringify(sampleReport())) as ReturnType<typeof sampleReport>;
  assert.equal(r.tool, 'gyre-bench');
  assert.equal(r.version, 1);
  assert.equal(r.scenario, 'fanout');
  assert.equal(r.stopReason, 'completed');
  assert.deepEqual(r.clients, { requested: 100, subscribed: 100, connectedAtEnd: 100, attempts: 102, failed: 2, failures: { ECONNRESET: 2 }, drops: {} });
  assert.equal(r.timeToSubscribed.count, 100);
  for (const k of ['p50', 'p90', 'p99', 'p999', 'max'] as const) assert.equal(typeof r.deliveries.latency[k], 'number');
  assert.equal(r.deliveries.latencyBuckets.reduce((s, b) => s + b.count, 0), 100);
  assert.equal(r.series.length, 1);
  assert.equal(r.series[0]?.connected, 100);
  assert.equal(r.series[0]?.latency.count, 100);
  assert.deepEqual(r.sequence, { received: 100, inOrder: 99, gaps: 1, missing: 4, duplicates: 0 });
  assert.equal(r.options['apiKey'], '***');
  assert.equal(r.options['hmacSecret'], '***');
  assert.equal(r.options['clients'], 100);
  assert.ok(Array.isArray(r.stages) && r.storm === null && r.server === null);
});

test('HTML report is self-contained: inline SVG, no scripts or external src/href', () => {
  const html = renderHtmlReport(sampleReport());
  assert.ok(html.startsWith('<!doctype html>'));
  assert.ok((html.match(/<svg/g) ?? []).length >= 3, 'connected, latency-over-time and histogram charts');
  assert.equal(/<script/i.test(html), false);
  assert.equal(/\ssrc\s*=/i.test(html), false);
  assert.equal(/href\s*=\s*"https?:/i.test(html), false);
  assert.equal(/@import|url\(/i.test(html), false);
  assert.equal(/https?:\/\//.test(html.replace('ws://127.0.0.1:8000/connection/websocket', '')), false);
});

test('text summary mentions failures and gaps', () => {
  const text = formatTextReport(sampleReport());
  assert.match(text, /ECONNRESET=2/);
  assert.match(text, /gaps 1 \(missing 4\)/);
});
