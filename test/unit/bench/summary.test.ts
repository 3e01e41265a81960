import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cell, formatNumber, formatRatio, median, metricsFor, ratio, renderMarkdown } from '../../../bench/lib/summary.js';
import type { FanoutResult, RunRecord } from '../../../bench/lib/result.js';
import { tableWorkloads, type FanoutWorkload } from '../../../bench/lib/workloads.js';

test('median: odd, even, empty, non-finite ignored', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([]), null);
  assert.equal(median([Number.NaN, 5]), 5);
});

test('ratio and formatting', () => {
  assert.equal(ratio(2, 4), 0.5);
  assert.equal(ratio(null, 4), null);
  assert.equal(ratio(2, 0), null);
  assert.equal(formatRatio(0.5), '0.50×');
  assert.equal(formatRatio(null), '—');
  assert.equal(formatNumber(12345.6), '12,346');
  assert.equal(formatNumber(123.4), '123');
  assert.equal(formatNumber(12.34), '12.3');
  assert.equal(formatNumber(1.234), '1.23');
  assert.equal(formatNumber(0), '0');
  assert.equal(formatNumber(0.01234), '0.012');
  assert.equal(formatNumber(null), '—');
});

const w: FanoutWorkload = (() => {
  const found = tableWorkloads(1).find((x): x is FanoutWorkload => x.kind === 'fanout' && x.group === 'fanout');
  if (found === undefined) throw new Error('no fanout workload');
  return found;
})();

function fanRecord(peer: string, run: number, perSec: number, ok = true): RunRecord {
  const result: FanoutResult = {
    kind: 'fanout',
    subscribed: 10,
    failures: 0,
    published: 10,
    publishErrors: 0,
    expectedDeliveries: 100,
    deliveries: 50,
    measureSec: 10,
    deliveriesPerSec: perSec,
    latency: { count: 50, p50: 1, p99: 2, max: 3 },
    cpuSecondsPerMillion: 10,
    server: null,
  };
  return ok ? { peer, run, workload: w, startedAt: '', ok, result } : { peer, run, workload: w, startedAt: '', ok, error: 'boom\nmore' };
}

test('cell: median over successful runs of one peer and workload only', () => {
  const m = metricsFor(w).find((x) => x.label === 'deliveries/s');
  assert.ok(m !== undefined);
  const recs = [fanRecord('gyre', 1, 100), fanRecord('gyre', 2, 300), fanRecord('gyre', 3, 0, false), fanRecord('ws-bare', 1, 999)];
  assert.deepEqual(cell(recs, w.id, 'gyre', m), { median: 200, runs: 2 });
  assert.deepEqual(cell(recs, 'other', 'gyre', m), { median: null, runs: 0 });
});

test('renderMarkdown: medians, Gyre/peer ratios, delivered %, failed runs listed', () => {
  const recs = [fanRecord('gyre', 1, 200), fanRecord('ws-bare', 1, 400), fanRecord('centrifugo', 1, 0, false)];
  const md = renderMarkdown(recs, [w], ['gyre', 'centrifugo', 'ws-bare']);
  assert.match(md, /### 3\. Fan-out throughput and cost/);
  assert.match(md, /\| workload \| metric \| gyre \| centrifugo \| ws-bare \| gyre\/centrifugo \| gyre\/ws-bare \|/);
  const row = md.split('\n').find((l) => l.includes('deliveries/s ↑'));
  assert.equal(row, `| 1 ch × 10,000 subs @ ${w.publishRate} pub/s | deliveries/s ↑ | 200 | — | 400 | — | 0.50× |`);
  assert.ok(md.split('\n').some((l) => l.includes('delivered (% of expected) ↑ | 50.0 |')));
  assert.match(md, /- centrifugo · .* · run 1: boom$/m);
});

test('renderMarkdown without gyre has no ratio columns', () => {
  const md = renderMarkdown([fanRecord('ws-bare', 1, 400)], [w], ['ws-bare']);
  assert.doesNotMatch(md, /gyre\//);
});
