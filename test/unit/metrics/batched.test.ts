import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import { BatchedCounter, BatchedGauge, flushMetrics } from '../../../src/metrics/batched.js';
import { metricUpdateErrors, setMetricsLogger } from '../../../src/metrics/update-errors.js';

/** What prom-client holds for one label set, read without `get()` (which would apply the pending deltas). */
function held(m: Counter<string> | Gauge<string>, name: string, value: string): number | undefined {
  return (m as unknown as { hashMap: Record<string, { value: number } | undefined> }).hashMap[`${name}:${value},`]?.value;
}

async function valueOf(m: Counter<string> | Gauge<string>, label: string, want: string): Promise<number | undefined> {
  return (await m.get()).values.find((v) => v.labels[label] === want)?.value;
}

describe('batched metrics', () => {
  it('counter deltas are added per key and reach prom-client when the metric is read, once', async () => {
    const reg = new Registry();
    const c = new Counter({ name: 't_batched_counter', help: 'h', labelNames: ['type'], registers: [reg] });
    const b = new BatchedCounter(c);
    b.inc('a', { type: 'a' });
    b.inc('a', { type: 'a' }, 4);
    b.inc('b', { type: 'b' }, 2);
    assert.equal(held(c, 'type', 'a'), undefined, 'not applied before a read');
    assert.equal(await valueOf(c, 'type', 'a'), 5);
    assert.equal(await valueOf(c, 'type', 'b'), 2);
    flushMetrics(); // nothing pending: no double counting
    assert.equal(await valueOf(c, 'type', 'a'), 5);
    b.inc('a', { type: 'a' });
    assert.equal(held(c, 'type', 'a'), 5);
    assert.match(await reg.metrics(), /t_batched_counter\{type="a"\} 6/, 'a scrape of the registry applies them too');
  });

  it('gauge increments and decrements net out; flushMetrics applies every batch', async () => {
    const reg = new Registry();
    const g = new Gauge({ name: 't_batched_gauge', help: 'h', labelNames: ['p'], registers: [reg] });
    const b = new BatchedGauge(g);
    b.inc('json', { p: 'json' }, 3);
    b.dec('json', { p: 'json' });
    b.inc('pb', { p: 'pb' });
    b.dec('pb', { p: 'pb' });
    flushMetrics();
    assert.equal(held(g, 'p', 'json'), 2);
    // A label set first seen with a net 0 (a client connected and left between two reads) still gets its
    // series, at 0, as a gauge updated at once would have it (Centrifugo's inflight gauge keeps it).
    assert.equal(held(g, 'p', 'pb'), 0, 'a new label set that netted out to 0 appears at 0');
    assert.match(await reg.metrics(), /t_batched_gauge\{p="pb"\} 0/);
    b.dec('json', { p: 'json' }, 2);
    assert.equal(await valueOf(g, 'p', 'json'), 0);
  });

  it('an update with an undeclared label is dropped, counted and logged once per metric; the flush goes on', async () => {
    const lines: string[] = [];
    setMetricsLogger(pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }));
    const reg = new Registry();
    // <string>: the typings would refuse the undeclared label that a coding mistake elsewhere slips through.
    const c = new Counter<string>({ name: 't_batched_bad_label', help: 'h', labelNames: ['type'], registers: [reg] });
    const other = new Counter({ name: 't_batched_after_bad', help: 'h', labelNames: ['type'], registers: [reg] });
    const b = new BatchedCounter(c);
    const after = new BatchedCounter(other);
    const errors = async (): Promise<number> => (await valueOf(metricUpdateErrors, 'metric', 't_batched_bad_label')) ?? 0;
    b.inc('bad', { type: 'x', channel: 'oops' });
    b.inc('good', { type: 'y' });
    after.inc('z', { type: 'z' });
    flushMetrics(); // threw out of here (and out of the flush that ran in a setImmediate: a crash) before
    assert.equal(await valueOf(c, 'type', 'y'), 1, 'the good update of the same metric still applied');
    assert.equal(await valueOf(other, 'type', 'z'), 1, 'the metrics after it still flushed');
    assert.equal(await errors(), 1);
    b.inc('bad', { type: 'x', channel: 'oops' });
    assert.equal(await valueOf(c, 'type', 'y'), 1, 'a read of the metric applies its batch and does not throw');
    assert.equal(await errors(), 2, 'counted every time');
    const logged = lines.map((l) => JSON.parse(l) as { metric?: string; level: number }).filter((l) => l.metric === 't_batched_bad_label');
    assert.equal(logged.length, 1, 'logged once per metric name');
    assert.equal(logged[0]!.level, 50);
    flushMetrics();
    assert.equal(await errors(), 2, 'a dropped update is not retried');
  });

  it("keeps a metric's own collect", async () => {
    const reg = new Registry();
    let collected = 0;
    const g = new Gauge({ name: 't_batched_collect', help: 'h', labelNames: ['p'], registers: [reg], collect() { collected++; } });
    const b = new BatchedGauge(g);
    b.inc('x', { p: 'x' }, 7);
    assert.equal(await valueOf(g, 'p', 'x'), 7);
    assert.equal(collected, 1);
  });
});
