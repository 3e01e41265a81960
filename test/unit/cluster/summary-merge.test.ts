// /metrics with worker processes (src/cluster/metrics.ts): summaries are merged before prom-client's aggregation,
// which would add up their quantiles. Two real prom-client registries with Gyre's summary (src/metrics/summary.ts)
// stand for two workers; their JSON goes through the structured clone the workers' IPC uses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deserialize, serialize } from 'node:v8';
import { AggregatorRegistry, Counter, Registry } from 'prom-client';
import { withMergedSummaries } from '../../../src/cluster/metrics.js';
import { WindowSummary } from '../../../src/metrics/summary.js';
import { parseScrape, total } from '../../harness/prom-text.js';

function worker(observations: number[], reset = false): { registry: Registry; counter: Counter } {
  const registry = new Registry();
  const s = new WindowSummary({ name: 'cmd_seconds', help: 'h', labelNames: ['method'], percentiles: [0.5, 0.99], maxAgeSeconds: 60, ageBuckets: 2, registers: [registry] });
  const counter = new Counter({ name: 'cmd_total', help: 'h', registers: [registry] });
  for (const v of observations) s.labels('connect').observe(v);
  if (reset) s.reset();
  counter.inc(observations.length);
  return { registry, counter };
}

async function merged(...regs: Registry[]): Promise<ReturnType<typeof parseScrape>> {
  // As a worker's answer travels (cluster serialization 'advanced': NaN stays NaN).
  const parts = (await Promise.all(regs.map((r) => r.getMetricsAsJSON()))).map((p) => deserialize(serialize(p)) as typeof p);
  return parseScrape(await AggregatorRegistry.aggregate(withMergedSummaries(parts)).metrics());
}

describe('worker /metrics: summaries', () => {
  it('adds up _sum and _count, takes the largest quantile, and still sums the other metrics', async () => {
    const a = worker([1, 1, 1, 1]);
    const b = worker([5, 5]);
    const s = await merged(a.registry, b.registry);
    assert.equal(total(s, 'cmd_seconds_count', { method: 'connect' }), 6);
    assert.equal(total(s, 'cmd_seconds_sum', { method: 'connect' }), 14);
    assert.equal(total(s, 'cmd_seconds', { method: 'connect', quantile: '0.99' }), 5);
    assert.equal(total(s, 'cmd_seconds', { method: 'connect', quantile: '0.5' }), 5);
    assert.equal(total(s, 'cmd_total'), 6);
    assert.equal(s.types.get('cmd_seconds'), 'summary');
  });

  it('a worker without observations in the window (quantiles NaN) does not lower the quantile', async () => {
    const idle = worker([7], true);
    const busy = worker([2, 2, 2]);
    for (const order of [[idle, busy], [busy, idle]]) {
      const s = await merged(...order.map((w) => w.registry));
      assert.equal(total(s, 'cmd_seconds', { method: 'connect', quantile: '0.99' }), 2);
      assert.equal(total(s, 'cmd_seconds_count', { method: 'connect' }), 3);
    }
    const none = await merged(idle.registry, worker([1], true).registry);
    assert.ok(Number.isNaN(total(none, 'cmd_seconds', { method: 'connect', quantile: '0.5' })), 'NaN when every worker is idle');
    assert.equal(total(none, 'cmd_seconds_count', { method: 'connect' }), 0);
  });
});
