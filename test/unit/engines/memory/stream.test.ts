import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Stream } from '../../../../src/engines/memory/stream.js';
import type { Publication } from '../../../../src/protocol/types.js';

const p = (): Publication => ({ data: new Uint8Array([1]) });
const offs = (l: Publication[]): number[] => l.map((x) => x.offset ?? -1);

function filled(n: number, size: number): Stream {
  const s = new Stream('EPOCHxyz');
  for (let i = 0; i < n; i++) s.append(p(), size);
  return s;
}

describe('Stream', () => {
  it('append assigns offsets and trims', () => {
    const s = filled(5, 3);
    assert.equal(s.top, 5);
    assert.equal(s.size, 3);
    assert.deepEqual(offs(s.read({ limit: -1 })), [3, 4, 5]);
    assert.deepEqual(s.position(), { offset: 5, epoch: 'EPOCHxyz' });
  });

  it('size below 1 keeps one publication', () => {
    const s = filled(3, 0);
    assert.deepEqual(offs(s.read({ limit: -1 })), [3]);
  });

  it('stays correct across many appends (internal compaction)', () => {
    const s = filled(10_000, 7);
    assert.deepEqual(offs(s.read({ limit: -1 })), [9994, 9995, 9996, 9997, 9998, 9999, 10000]);
    assert.deepEqual(offs(s.read({ limit: 2, reverse: true })), [10000, 9999]);
    assert.deepEqual(offs(s.read({ since: { offset: 9997, epoch: '' }, limit: -1 })), [9998, 9999, 10000]);
    assert.deepEqual(offs(s.read({ since: { offset: 9997, epoch: '' }, limit: -1, reverse: true })), [9996, 9995, 9994]);
  });

  it('forward reads', () => {
    const s = filled(6, 4); // 3..6
    assert.deepEqual(offs(s.read({ limit: 0 })), []);
    assert.deepEqual(offs(s.read({ limit: 2 })), [3, 4]);
    assert.deepEqual(offs(s.read({ since: { offset: 0, epoch: '' }, limit: -1 })), [3, 4, 5, 6]);
    assert.deepEqual(offs(s.read({ since: { offset: 2, epoch: '' }, limit: -1 })), [3, 4, 5, 6]);
    assert.deepEqual(offs(s.read({ since: { offset: 3, epoch: '' }, limit: -1 })), [4, 5, 6]);
    assert.deepEqual(offs(s.read({ since: { offset: 5, epoch: '' }, limit: 5 })), [6]);
    assert.deepEqual(offs(s.read({ since: { offset: 6, epoch: '' }, limit: -1 })), []);
    assert.deepEqual(offs(s.read({ since: { offset: 60, epoch: '' }, limit: -1 })), []);
  });

  it('reverse reads', () => {
    const s = filled(6, 4); // 3..6
    assert.deepEqual(offs(s.read({ limit: -1, reverse: true })), [6, 5, 4, 3]);
    assert.deepEqual(offs(s.read({ limit: 3, reverse: true })), [6, 5, 4]);
    assert.deepEqual(offs(s.read({ since: { offset: 7, epoch: '' }, limit: -1, reverse: true })), [6, 5, 4, 3]);
    assert.deepEqual(offs(s.read({ since: { offset: 8, epoch: '' }, limit: -1, reverse: true })), []);
    assert.deepEqual(offs(s.read({ since: { offset: 5, epoch: '' }, limit: -1, reverse: true })), [4, 3]);
    assert.deepEqual(offs(s.read({ since: { offset: 4, epoch: '' }, limit: 1, reverse: true })), [3]);
    assert.deepEqual(offs(s.read({ since: { offset: 3, epoch: '' }, limit: -1, reverse: true })), []);
    assert.deepEqual(offs(s.read({ since: { offset: 0, epoch: '' }, limit: -1, reverse: true })), []);
  });

  it('clear keeps top and epoch; appends continue', () => {
    const s = filled(3, 10);
    s.clear();
    assert.equal(s.size, 0);
    assert.deepEqual(s.read({ limit: -1 }), []);
    assert.deepEqual(s.read({ limit: -1, reverse: true }), []);
    s.append(p(), 10);
    assert.deepEqual(offs(s.read({ limit: -1 })), [4]);
  });
});
