import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Gauge, Registry } from 'prom-client';
import { BatchedCounter, BatchedGauge, flushMetrics } from '../../../src/metrics/batched.js';

async function valueOf(m: Counter<string> | Gauge<string>, label: string, want: string): Promise<number | undefined> {
  return (await m.get()).values.find((v) => v.labels[label] === want)?.value;
}

describe('batched metrics', () => {
  it('counter deltas are added per key and reach prom-client on flush, not before', async () => {
    const reg = new Registry();
    const c = new Counter({ name: 't_batched_counter', help: 'h', labelNames: ['type'], registers: [reg] });
    const b = new BatchedCounter(c);
    b.inc('a', { type: 'a' });
    b.inc('a', { type: 'a' }, 4);
    b.inc('b', { type: 'b' }, 2);
    assert.equal(await valueOf(c, 'type', 'a'), undefined);
    flushMetrics();
    assert.equal(await valueOf(c, 'type', 'a'), 5);
    assert.equal(await valueOf(c, 'type', 'b'), 2);
    flushMetrics(); // nothing pending: no double counting
    assert.equal(await valueOf(c, 'type', 'a'), 5);
  });

  it('gauge increments and decrements net out; a macrotask flushes by itself', async () => {
    const reg = new Registry();
    const g = new Gauge({ name: 't_batched_gauge', help: 'h', labelNames: ['p'], registers: [reg] });
    const b = new BatchedGauge(g);
    b.inc('json', { p: 'json' }, 3);
    b.dec('json', { p: 'json' });
    b.inc('pb', { p: 'pb' });
    b.dec('pb', { p: 'pb' });
    await new Promise((r) => setImmediate(r));
    assert.equal(await valueOf(g, 'p', 'json'), 2);
    b.dec('json', { p: 'json' }, 2);
    flushMetrics();
    assert.equal(await valueOf(g, 'p', 'json'), 0);
  });
});
