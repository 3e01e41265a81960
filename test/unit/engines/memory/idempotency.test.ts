import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdempotencyCache } from '../../../../src/engines/memory/idempotency.js';

describe('IdempotencyCache', () => {
  it('keeps results for ttl, per channel', () => {
    const c = new IdempotencyCache<number>(100);
    c.set('a', 'k', 1, 0);
    assert.equal(c.get('a', 'k', 99)?.result, 1);
    assert.equal(c.get('a', 'k', 100), undefined);
    assert.equal(c.get('b', 'k', 0), undefined);
  });

  it('stores undefined results distinctly from misses', () => {
    const c = new IdempotencyCache<number | undefined>(100);
    c.set('a', 'k', undefined, 0);
    const e = c.get('a', 'k', 1);
    assert.ok(e !== undefined);
    assert.equal(e.result, undefined);
  });

  it('sweep drops expired entries from the front only', () => {
    const c = new IdempotencyCache<number>(100);
    c.set('a', '1', 1, 0);
    c.set('a', '2', 2, 50);
    c.sweep(120);
    assert.equal(c.size, 1);
    assert.equal(c.get('a', '2', 120)?.result, 2);
  });

  it('is bounded', () => {
    const c = new IdempotencyCache<number>(1000, 3);
    for (let i = 0; i < 5; i++) c.set('a', String(i), i, 0);
    assert.equal(c.size, 3);
    assert.equal(c.get('a', '0', 0), undefined);
    assert.equal(c.get('a', '4', 0)?.result, 4);
  });

  it('channel and key cannot collide', () => {
    const c = new IdempotencyCache<number>(1000);
    c.set('a\u0000b', 'c', 1, 0);
    assert.equal(c.get('a', 'b\u0000c', 0), undefined);
  });
});
