// MemoryHistory with a fake clock: TTL edges without waiting.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryHistory } from '../../../../src/engines/memory/history.js';
import { UnrecoverablePositionError } from '../../../../src/engines/types.js';

function setup(): { h: MemoryHistory; clock: { t: number } } {
  const clock = { t: 1_000_000 };
  let n = 0;
  const h = new MemoryHistory(() => clock.t, () => `E${++n}`);
  return { h, clock };
}
const data = new Uint8Array([1]);
const OPTS = { size: 10, ttlMs: 1000, metaTtlMs: 5000 };

describe('MemoryHistory', () => {
  it('creates a stream with a new epoch on first append or read', () => {
    const { h } = setup();
    assert.deepEqual(h.append('a', { data }, OPTS), { offset: 1, epoch: 'E1' });
    assert.deepEqual(h.read('b', { limit: 0, metaTtlMs: 5000 }).position, { offset: 0, epoch: 'E2' });
    assert.equal(h.size, 2);
  });

  it('history ttl: publications live exactly ttl after the last append', () => {
    const { h, clock } = setup();
    h.append('a', { data }, OPTS);
    clock.t += 600;
    h.append('a', { data }, OPTS);
    clock.t += 999;
    assert.equal(h.read('a', { limit: -1, metaTtlMs: 5000 }).publications.length, 2);
    clock.t += 1;
    const r = h.read('a', { limit: -1, metaTtlMs: 5000 });
    assert.deepEqual(r.publications, []);
    assert.deepEqual(r.position, { offset: 2, epoch: 'E1' });
  });

  it('meta ttl: stream dropped after metaTtl without access; reads and appends refresh it', () => {
    const { h, clock } = setup();
    h.append('a', { data }, OPTS);
    clock.t += 4000;
    h.read('a', { limit: 0, metaTtlMs: 5000 }); // refresh
    clock.t += 4999;
    assert.deepEqual(h.read('a', { limit: 0, metaTtlMs: 5000 }).position, { offset: 1, epoch: 'E1' });
    clock.t += 5000;
    assert.deepEqual(h.read('a', { limit: 0, metaTtlMs: 5000 }).position, { offset: 0, epoch: 'E2' });
  });

  it('metaTtl <= 0 never drops the stream', () => {
    const { h, clock } = setup();
    h.append('a', { data }, { ...OPTS, metaTtlMs: 0 });
    clock.t += 1e12;
    assert.equal(h.read('a', { limit: 0, metaTtlMs: 0 }).position.epoch, 'E1');
  });

  it('sweep applies both TTLs without access', () => {
    const { h, clock } = setup();
    h.append('a', { data }, OPTS);
    h.append('b', { data }, { ...OPTS, metaTtlMs: 100_000 });
    clock.t += 5000;
    h.sweep();
    assert.equal(h.size, 1, "a's meta expired, b kept");
    assert.deepEqual(h.read('b', { limit: -1, metaTtlMs: 100_000 }).publications, [], "b's publications expired");
  });

  it('remove keeps the position; remove of an unknown channel creates nothing', () => {
    const { h } = setup();
    h.append('a', { data }, OPTS);
    h.remove('a');
    h.remove('zzz');
    assert.equal(h.size, 1);
    assert.deepEqual(h.read('a', { limit: -1, metaTtlMs: 5000 }), { publications: [], position: { offset: 1, epoch: 'E1' } });
  });

  it('epoch mismatch throws with the current position', () => {
    const { h } = setup();
    h.append('a', { data }, OPTS);
    assert.throws(
      () => h.read('a', { since: { offset: 0, epoch: 'nope' }, limit: -1, metaTtlMs: 5000 }),
      (e: unknown) => e instanceof UnrecoverablePositionError && e.position.offset === 1 && e.position.epoch === 'E1',
    );
  });

  it('the default epoch is 8 ASCII letters', () => {
    const h = new MemoryHistory(Date.now);
    assert.match(h.read('x', { limit: 0, metaTtlMs: 1000 }).position.epoch, /^[a-zA-Z]{8}$/);
  });
});
