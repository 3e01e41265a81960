// Worker restart backoff (src/cluster/restart.ts) and the `node.workers` count (src/cluster/count.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveWorkers } from '../../../src/cluster/count.js';
import { RestartPolicy } from '../../../src/cluster/restart.js';
import { loadConfig } from '../../../src/config/index.js';

describe('RestartPolicy', () => {
  it('doubles the delay while a worker keeps failing soon after its start, up to the cap', () => {
    const p = new RestartPolicy({ baseMs: 100, maxMs: 1000, healthyAfterMs: 30_000, rand: () => 0.5 });
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].map(() => p.nextDelay(1, 50)),
      [100, 200, 400, 800, 1000, 1000],
    );
  });

  it('starts again from the first delay after a worker ran long enough, per slot', () => {
    const p = new RestartPolicy({ baseMs: 100, maxMs: 10_000, healthyAfterMs: 1000, rand: () => 0.5 });
    p.nextDelay(1, 10);
    p.nextDelay(1, 10);
    assert.equal(p.nextDelay(2, 10), 100, 'another slot has its own count');
    assert.equal(p.nextDelay(1, 10), 400);
    assert.equal(p.nextDelay(1, 5000), 100);
  });

  it('jitters within ±25 %', () => {
    const lo = new RestartPolicy({ baseMs: 1000, rand: () => 0 }).nextDelay(1, 0);
    const hi = new RestartPolicy({ baseMs: 1000, rand: () => 1 }).nextDelay(1, 0);
    assert.deepEqual([lo, hi], [750, 1250]);
  });
});

describe('node.workers', () => {
  it('defaults to 1, takes a count or auto (one per CPU), refuses 0 and words', () => {
    assert.equal(loadConfig({ flags: {} }).config.node.workers, 1);
    assert.equal(loadConfig({ flags: { 'node.workers': '3' } }).config.node.workers, 3);
    assert.equal(loadConfig({ flags: { 'node.workers': 'auto' } }).config.node.workers, 'auto');
    assert.throws(() => loadConfig({ flags: { 'node.workers': '0' } }));
    assert.throws(() => loadConfig({ flags: { 'node.workers': 'many' } }));
    assert.equal(resolveWorkers('auto', () => 6), 6);
    assert.equal(resolveWorkers(2, () => 6), 2);
  });
});
