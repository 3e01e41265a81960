// gyre-shared's storm manners (client/src/backoff.ts): decorrelated jitter stays within [base, cap] and grows
// from the previous delay, a drain hint spreads the next delay over drainSpreadMs, a Retry-After waits at least
// that long, and the first-connect delay is 0 unless the page loaded during an outage.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DecorrelatedJitter, initialDelay } from '../../../client/src/backoff.js';
import { seededRandom as seeded } from '../../harness/rng.js';

describe('client: decorrelated jitter', () => {
  it('stays in [base, cap] and never exceeds 3× the previous delay', () => {
    const j = new DecorrelatedJitter({ baseMs: 500, capMs: 20_000, drainSpreadMs: 10_000, random: seeded(7) });
    let prev = 500;
    let max = 0;
    for (let i = 0; i < 1000; i++) {
      const d = j.next();
      assert.ok(d >= 500 && d <= 20_000, `delay ${d}`);
      assert.ok(d <= Math.max(500, prev * 3) + 1, `delay ${d} after ${prev}`);
      prev = d;
      max = Math.max(max, d);
    }
    assert.ok(max > 10_000, 'reaches toward the cap');
  });

  it('spreads browsers: 1000 jitters started together give distinct first delays', () => {
    const r = seeded(42);
    const first = new Set<number>();
    for (let i = 0; i < 1000; i++) first.add(new DecorrelatedJitter({ baseMs: 500, capMs: 20_000, drainSpreadMs: 10_000, random: r }).next());
    assert.ok(first.size > 500, `only ${first.size} distinct first delays`);
  });

  it('reset() starts again from base; drain() and retryAfter() shape the next delay only', () => {
    const j = new DecorrelatedJitter({ baseMs: 500, capMs: 20_000, drainSpreadMs: 10_000, random: seeded(1) });
    for (let i = 0; i < 20; i++) j.next();
    j.reset();
    assert.ok(j.next() <= 1500, 'after reset: at most 3 × base');
    j.drain();
    const d = j.next();
    assert.ok(d >= 500 && d <= 10_000, `drain delay ${d}`);
    j.retryAfter(7000);
    const r = j.next();
    assert.ok(r >= 7000 && r <= 7500, `retry-after delay ${r}`);
  });

  it('first connect: immediate normally, uniform in [0, max) after an outage', () => {
    assert.equal(initialDelay(false, 5000, () => 0.9), 0);
    assert.equal(initialDelay(true, 5000, () => 0.5), 2500);
    assert.equal(initialDelay(true, 5000, () => 0), 0);
  });
});
