import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedDeliveryRate, shrink, tableWorkloads } from '../../../bench/lib/workloads.js';
import { parseWorkload } from '../../../bench/lib/workload-json.js';

test('full table: sizes of the four sections', () => {
  const ws = tableWorkloads(1);
  const byId = new Map(ws.map((w) => [w.id, w]));
  const burst = byId.get('burst');
  assert.ok(burst?.kind === 'burst');
  assert.equal(burst.connections, 10_000);
  const idle = byId.get('idle');
  assert.ok(idle?.kind === 'idle');
  assert.equal(idle.connections, 15_000);
  const ids = ws.map((w) => w.id);
  assert.ok(ids.includes('fanout-1x10000@1'));
  assert.ok(ids.includes('fanout-1000x10@1000'));
  assert.ok(ids.includes('latency-1x1000@50'));
  assert.ok(ids.includes('latency-1x10000@5'));
  assert.equal(new Set(ids).size, ids.length, 'ids are unique');
});

test('--quick shrinks every N by 10, rates unchanged', () => {
  const full = tableWorkloads(1);
  const quick = tableWorkloads(10);
  assert.equal(quick.length, full.length);
  for (let i = 0; i < full.length; i++) {
    const f = full[i];
    const q = quick[i];
    assert.ok(f !== undefined && q !== undefined);
    assert.equal(q.kind, f.kind);
    if (f.kind === 'fanout' && q.kind === 'fanout') {
      assert.equal(q.publishRate, f.publishRate);
      assert.equal(q.channels * q.subscribersPerChannel * 10, f.channels * f.subscribersPerChannel);
    } else if (f.kind !== 'fanout' && q.kind !== 'fanout') {
      assert.equal(q.connections * 10, f.connections);
    }
  }
  assert.equal(shrink(5, 10), 1);
  assert.equal(shrink(0, 10), 1);
});

test('expectedDeliveryRate = rate × subscribers per channel', () => {
  const w = tableWorkloads(1).find((x) => x.id === 'latency-1x1000@50');
  assert.ok(w?.kind === 'fanout');
  assert.equal(expectedDeliveryRate(w), 50_000);
});

test('parseWorkload round-trips every table workload and rejects bad specs', () => {
  for (const w of tableWorkloads(1)) assert.deepEqual(parseWorkload(JSON.stringify(w)), w);
  assert.throws(() => parseWorkload('{"kind":"burst","id":"x","connections":0,"concurrency":1,"channels":1}'));
  assert.throws(() => parseWorkload('{"kind":"nope"}'));
  assert.throws(() => parseWorkload('not json'));
});
