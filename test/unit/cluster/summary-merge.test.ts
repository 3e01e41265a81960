// /metrics with worker processes (src/cluster/metrics.ts): summaries are merged before prom-client's aggregation,
// which would add up their quantiles. Two real prom-client registries stand for two workers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregatorRegistry, Counter, Registry, Summary } from 'prom-client';
import { withMergedSummaries } from '../../../src/cluster/metrics.js';
import { parseScrape, total } from '../../harness/prom-text.js';

function worker(observations: number[], reset = false): { registry: Registry; counter: Counter } {
  const registry = new Registry();
  const s = new Summary({ name: 'cmd_seconds', help: 'h', labelNames: ['method'], percentiles: [0.5, 0.99], registers: [registry] });
  const counter = new Counter({ name: 'cmd_total', help: 'h', registers: [registry] });
  for (const v of observations) s.labels('connect').observe(v);
  if (reset) s.reset();
  counter.inc(observations.length);
  return { registry, counter };
}

async function merged(...regs: Registry[]): Promise<ReturnType<typeof parseScrape>> {
  const parts = await Promise.all(regs.map((r) => r.getMetricsAsJSON()));
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

  it('a worker without observations (quantiles at 0) does not lower the quantile', async () => {
    const idle = worker([7], true);
    const busy = worker([2, 2, 2]);
    for (const order of [[idle, busy], [busy, idle]]) {
      const s = await merged(...order.map((w) => w.registry));
      assert.equal(total(s, 'cmd_seconds', { method: 'connect', quantile: '0.99' }), 2);
      assert.equal(total(s, 'cmd_seconds_count', { method: 'connect' }), 3);
    }
  });
});
