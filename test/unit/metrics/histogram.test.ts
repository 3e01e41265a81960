// Gyre's histogram metric (src/metrics/histogram.ts) against prom-client's Histogram: the same observations give
// the same exposition text, the same JSON (what the workers' merge reads) and the same merged text, through real
// prom-client Registries; reset and zero behave like prom-client's, and a kept series survives a reset.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { BucketHistogram } from '../../../src/metrics/histogram.js';
import { metricUpdateErrors } from '../../../src/metrics/update-errors.js';

const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Values on, between, below and above the bounds. */
const VALUES = [0, 0.00005, 0.0001, 0.0002, 0.001, 0.0049, 0.005, 0.3, 1, 2.5, 9.99, 10, 10.5, 120];

function pair(labelNames: string[]): { ours: BucketHistogram; theirs: Histogram; a: Registry; b: Registry } {
  const a = new Registry();
  const b = new Registry();
  const ours = new BucketHistogram({ name: 'h_seconds', help: 'help text', labelNames, buckets: BUCKETS, registers: [a] });
  const theirs = new Histogram({ name: 'h_seconds', help: 'help text', labelNames, buckets: BUCKETS, registers: [b] });
  return { ours, theirs, a, b };
}

async function same(a: Registry, b: Registry): Promise<void> {
  assert.equal(await a.metrics(), await b.metrics());
  assert.deepEqual(await a.getMetricsAsJSON(), await b.getMetricsAsJSON());
}

describe('BucketHistogram against prom-client Histogram', () => {
  it('labelled series: positional labels, label objects, zero()', async () => {
    const { ours, theirs, a, b } = pair(['method', 'channel_namespace']);
    ours.zero({ method: 'rpc', channel_namespace: '' });
    theirs.zero({ method: 'rpc', channel_namespace: '' });
    const oc = ours.labels('connect', '');
    const tc = theirs.labels('connect', '');
    for (const v of VALUES) {
      oc.observe(v);
      tc.observe(v);
      ours.observe({ method: 'subscribe', channel_namespace: 'chat' }, v * 2);
      theirs.observe({ method: 'subscribe', channel_namespace: 'chat' }, v * 2);
    }
    ours.labels({ method: 'rpc', channel_namespace: '' }).observe(0.002);
    theirs.labels({ method: 'rpc', channel_namespace: '' }).observe(0.002);
    await same(a, b);
    assert.match(await a.metrics(), /^h_seconds_bucket\{le="\+Inf",method="connect",channel_namespace=""\} 14$/m);
  });

  it('a histogram without labels lists its series at 0 from the start, and observe(value)', async () => {
    const { ours, theirs, a, b } = pair([]);
    await same(a, b);
    for (const v of VALUES) {
      ours.observe(v);
      theirs.observe(v);
    }
    await same(a, b);
  });

  it('reset() empties the exposition; a series kept from labels() counts again from 0', async () => {
    const { ours, theirs, a, b } = pair(['method', 'channel_namespace']);
    const kept = ours.labels('connect', '');
    const keptTheirs = theirs.labels('connect', '');
    kept.observe(0.003);
    keptTheirs.observe(0.003);
    ours.labels('publish', '').observe(1);
    theirs.labels('publish', '').observe(1);
    ours.reset();
    theirs.reset();
    await same(a, b);
    assert.doesNotMatch(await a.metrics(), /h_seconds_count/);
    kept.observe(0.02);
    keptTheirs.observe(0.02);
    await same(a, b);
    assert.match(await a.metrics(), /^h_seconds_count\{method="connect",channel_namespace=""\} 1$/m);
    assert.doesNotMatch(await a.metrics(), /publish/);
    const unlabelled = pair([]);
    unlabelled.ours.observe(1);
    unlabelled.theirs.observe(1);
    unlabelled.ours.reset();
    unlabelled.theirs.reset();
    await same(unlabelled.a, unlabelled.b);
  });

  it("merged across workers like prom-client's (AggregatorRegistry sums the buckets)", async () => {
    const w1 = pair(['method', 'channel_namespace']);
    const w2 = pair(['method', 'channel_namespace']);
    for (const [i, v] of VALUES.entries()) {
      const w = i % 2 === 0 ? w1 : w2;
      w.ours.labels('connect', '').observe(v);
      w.theirs.labels('connect', '').observe(v);
    }
    const ours = AggregatorRegistry.aggregate([await w1.a.getMetricsAsJSON(), await w2.a.getMetricsAsJSON()]);
    const theirs = AggregatorRegistry.aggregate([await w1.b.getMetricsAsJSON(), await w2.b.getMetricsAsJSON()]);
    assert.equal(await ours.metrics(), await theirs.metrics());
    assert.match(await ours.metrics(), /^h_seconds_count\{method="connect",channel_namespace=""\} 14$/m);
  });

  it('refuses what prom-client refuses when the labels are given; a non-finite value is counted as an update error', async () => {
    const { ours } = pair(['method']);
    assert.throws(() => ours.labels('a', 'b'), /2 label values for 1 labels/);
    assert.throws(() => ours.labels({ nope: 'x' } as unknown as { method: string }), /unknown label nope/);
    assert.throws(() => new BucketHistogram({ name: 'x', help: 'x', labelNames: ['le'] }), /reserved/);
    assert.throws(() => new BucketHistogram({ name: 'x', help: 'x', buckets: [1, 1] }), /ascending/);
    const errors = async (): Promise<number> =>
      (await metricUpdateErrors.get()).values.find((v) => v.labels['metric'] === 'h_seconds')?.value ?? 0;
    const before = await errors();
    const s = ours.labels('m');
    s.observe(NaN);
    s.observe(Infinity);
    assert.equal(s.count, 0);
    assert.equal((await errors()) - before, 2);
  });
});
