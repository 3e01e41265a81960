import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Aggregator } from '../../../loadtest/src/aggregate.js';
import { LatencyRecorder } from '../../../loadtest/src/histogram.js';
import type { WorkerTick } from '../../../loadtest/src/messages.js';
import { emptySequenceStats } from '../../../loadtest/src/sequence.js';

function tick(workerId: number, over: Partial<WorkerTick>): WorkerTick {
  return {
    workerId,
    connected: 0,
    connecting: 0,
    settled: 0,
    subscribedOnce: 0,
    attempts: 0,
    failures: {},
    drops: {},
    reconnectFailures: {},
    reconnected: 0,
    deliveries: 0,
    pings: 0,
    seq: emptySequenceStats(),
    connectHist: null,
    reconnectHist: null,
    latencyHist: null,
    connectBuckets: {},
    ...over,
  };
}

test('recorder summary is in ms with percentiles', () => {
  const r = new LatencyRecorder();
  for (let i = 1; i <= 1000; i++) r.recordMs(i); // 1..1000 ms
  const s = r.summary();
  assert.equal(s.count, 1000);
  assert.ok(Math.abs(s.p50 - 500) <= 1, `p50 ${s.p50}`);
  assert.ok(Math.abs(s.p99 - 990) <= 1, `p99 ${s.p99}`);
  assert.ok(Math.abs(s.max - 1000) <= 1, `max ${s.max}`);
  const buckets = r.bucketList();
  assert.equal(buckets.reduce((a, b) => a + b.count, 0), 1000);
  assert.equal(buckets.find((b) => b.le === 1)?.count, 1); // exactly one value ≤ 1 ms
});

test('interval histograms from two workers merge into the same distribution as one recorder', () => {
  const w0 = new LatencyRecorder();
  const w1 = new LatencyRecorder();
  const all = new LatencyRecorder();
  for (let i = 0; i < 500; i++) {
    w0.recordMs(1 + (i % 10));
    all.recordMs(1 + (i % 10));
    w1.recordMs(100 + i);
    all.recordMs(100 + i);
  }
  const agg = new Aggregator(performance.now());
  agg.ingest(tick(0, { latencyHist: w0.drain(), connected: 3, deliveries: 500, failures: { ECONNREFUSED: 2 } }));
  agg.ingest(tick(1, { latencyHist: w1.drain(), connected: 4, deliveries: 500, failures: { ECONNREFUSED: 1, timeout: 5 } }));
  assert.equal(w0.count, 0, 'drain resets the worker recorder');
  const merged = agg.latencyHist.summary();
  const single = all.summary();
  // Same distribution; `max` may be reported as the top of its HdrHistogram bucket (3 significant digits).
  assert.deepEqual({ ...merged, max: 0 }, { ...single, max: 0 });
  assert.ok(Math.abs(merged.max - single.max) <= single.max * 0.001, `max ${merged.max} vs ${single.max}`);
  assert.deepEqual(agg.latencyHist.bucketList(), all.bucketList());
  const t = agg.totals();
  assert.equal(t.connected, 7);
  assert.equal(t.deliveries, 1000);
  assert.deepEqual(t.failures, { ECONNREFUSED: 3, timeout: 5 });
});

test('later ticks replace a worker\'s cumulative counters but add its interval histograms', () => {
  const agg = new Aggregator(performance.now());
  const r = new LatencyRecorder();
  r.recordMs(5);
  agg.ingest(tick(0, { connected: 10, connectHist: r.serialize() }));
  agg.ingest(tick(0, { connected: 12, connectHist: r.serialize() }));
  assert.equal(agg.totals().connected, 12);
  assert.equal(agg.connectHist.count, 2);
  const p = agg.sample(performance.now());
  assert.equal(p.connected, 12);
  assert.equal(p.connectLatency.count, 2);
  assert.equal(agg.sample(performance.now()).connectLatency.count, 0, 'series points are per interval');
});

test('connect buckets are merged and reported from a start time with empty buckets filled', () => {
  const agg = new Aggregator(performance.now());
  agg.ingest(tick(0, { connectBuckets: { '100': 2, '103': 1 } }));
  agg.ingest(tick(1, { connectBuckets: { '100': 3, '99': 7 } }));
  assert.deepEqual(agg.connectRate(100 * 100), [
    { atMs: 0, count: 5 },
    { atMs: 100, count: 0 },
    { atMs: 200, count: 0 },
    { atMs: 300, count: 1 },
  ]);
});
