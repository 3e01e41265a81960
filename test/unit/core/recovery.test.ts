import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheRecovery, checkPosition, mergeRecovered, streamRecovery, trackedOffset } from '../../../src/core/recovery.js';
import type { Publication } from '../../../src/protocol/types.js';

const pub = (offset: number): Publication => ({ data: new TextEncoder().encode(String(offset)), offset });
const pubs = (...offsets: number[]): Publication[] => offsets.map(pub);
const offs = (list: Publication[] | null): number[] | null => (list === null ? null : list.map((p) => p.offset ?? -1));
const E = 'epochAAA';

describe('streamRecovery (docs/protocol.md §5.3 step 2)', () => {
  it('recovers the whole gap', () => {
    const r = streamRecovery({ offset: 5, epoch: E }, { publications: pubs(6, 7), position: { offset: 7, epoch: E } });
    assert.equal(r.recovered, true);
    assert.deepEqual(offs(r.publications), [6, 7]);
  });

  it('recovers with nothing missed when the client is at the top', () => {
    const r = streamRecovery({ offset: 7, epoch: E }, { publications: [], position: { offset: 7, epoch: E } });
    assert.deepEqual(r, { recovered: true, publications: [] });
  });

  it('fails when nothing is returned but the top moved (publications expired)', () => {
    const r = streamRecovery({ offset: 5, epoch: E }, { publications: [], position: { offset: 7, epoch: E } });
    assert.deepEqual(r, { recovered: false, publications: [] });
  });

  it('fails when older entries were evicted (first != O+1)', () => {
    const r = streamRecovery({ offset: 2, epoch: E }, { publications: pubs(5, 6, 7), position: { offset: 7, epoch: E } });
    assert.deepEqual(r, { recovered: false, publications: [] });
  });

  it('fails when the recovery limit cut the list (last != top)', () => {
    const r = streamRecovery({ offset: 5, epoch: E }, { publications: pubs(6, 7), position: { offset: 9, epoch: E } });
    assert.deepEqual(r, { recovered: false, publications: [] });
  });

  it('fails on another epoch', () => {
    const r = streamRecovery({ offset: 5, epoch: 'other' }, { publications: pubs(6), position: { offset: 6, epoch: E } });
    assert.deepEqual(r, { recovered: false, publications: [] });
  });

  it('an empty request epoch is accepted', () => {
    const r = streamRecovery({ offset: 0, epoch: '' }, { publications: pubs(1, 2), position: { offset: 2, epoch: E } });
    assert.equal(r.recovered, true);
    assert.deepEqual(offs(r.publications), [1, 2]);
    const fresh = streamRecovery({ offset: 0, epoch: '' }, { publications: [], position: { offset: 0, epoch: E } });
    assert.equal(fresh.recovered, true);
  });

  it('fails when the client is ahead of the stream', () => {
    const r = streamRecovery({ offset: 9, epoch: E }, { publications: [], position: { offset: 7, epoch: E } });
    assert.equal(r.recovered, false);
  });
});

describe('cacheRecovery (§5.4)', () => {
  it('returns the latest publication when it is at the top', () => {
    const r = cacheRecovery({ offset: 0, epoch: '' }, { publications: pubs(7), position: { offset: 7, epoch: E } });
    assert.equal(r.recovered, true);
    assert.deepEqual(offs(r.publications), [7]);
  });

  it('returns nothing when the client already has exactly that state', () => {
    const r = cacheRecovery({ offset: 7, epoch: E }, { publications: pubs(7), position: { offset: 7, epoch: E } });
    assert.deepEqual(r, { recovered: true, publications: [] });
  });

  it('epoch mismatch is not an error: the latest is sent', () => {
    const r = cacheRecovery({ offset: 7, epoch: 'old' }, { publications: pubs(7), position: { offset: 7, epoch: E } });
    assert.equal(r.recovered, true);
    assert.deepEqual(offs(r.publications), [7]);
  });

  it('an older client position gets the latest', () => {
    const r = cacheRecovery({ offset: 3, epoch: E }, { publications: pubs(7), position: { offset: 7, epoch: E } });
    assert.deepEqual(offs(r.publications), [7]);
  });

  it('nothing stored: recovered only when already at the top of the same epoch', () => {
    const at = cacheRecovery({ offset: 7, epoch: E }, { publications: [], position: { offset: 7, epoch: E } });
    assert.deepEqual(at, { recovered: true, publications: [] });
    const behind = cacheRecovery({ offset: 5, epoch: E }, { publications: [], position: { offset: 7, epoch: E } });
    assert.deepEqual(behind, { recovered: false, publications: [] });
    const otherEpoch = cacheRecovery({ offset: 7, epoch: 'x' }, { publications: [], position: { offset: 7, epoch: E } });
    assert.equal(otherEpoch.recovered, false);
  });

  it('latest below the top is not a recovery', () => {
    const r = cacheRecovery({ offset: 0, epoch: '' }, { publications: pubs(6), position: { offset: 7, epoch: E } });
    assert.deepEqual(r, { recovered: false, publications: [] });
  });
});

describe('mergeRecovered', () => {
  it('appends buffered publications that continue the sequence', () => {
    assert.deepEqual(offs(mergeRecovered(pubs(6, 7), pubs(8, 9))), [6, 7, 8, 9]);
  });

  it('drops buffered duplicates', () => {
    assert.deepEqual(offs(mergeRecovered(pubs(6, 7), pubs(6, 7, 8))), [6, 7, 8]);
    assert.deepEqual(offs(mergeRecovered(pubs(6, 7), pubs(7))), [6, 7]);
  });

  it('orders buffered publications by offset', () => {
    assert.deepEqual(offs(mergeRecovered(pubs(6), pubs(8, 7))), [6, 7, 8]);
  });

  it('returns null on a gap', () => {
    assert.equal(mergeRecovered(pubs(6, 7), pubs(9)), null);
    assert.equal(mergeRecovered(pubs(6, 8), []), null, 'gap inside the recovered list');
  });

  it('returns null for buffered publications without offset', () => {
    assert.equal(mergeRecovered(pubs(6), [{ data: new Uint8Array() }]), null);
  });

  it('nothing recovered: uses fromOffset as the start', () => {
    assert.deepEqual(offs(mergeRecovered([], pubs(6, 7), 5)), [6, 7]);
    assert.deepEqual(offs(mergeRecovered([], pubs(4, 5, 6), 5)), [6]);
    assert.equal(mergeRecovered([], pubs(7), 5), null);
    assert.deepEqual(offs(mergeRecovered([], pubs(3, 4))), [3, 4], 'no start known: only contiguity');
    assert.deepEqual(offs(mergeRecovered([], [])), []);
  });

  it('fromOffset also filters the recovered list', () => {
    assert.deepEqual(offs(mergeRecovered(pubs(5, 6), [], 5)), [6]);
  });

  it('does not modify its inputs', () => {
    const buffered = pubs(9, 8);
    mergeRecovered(pubs(7), buffered);
    assert.deepEqual(offs(buffered), [9, 8]);
  });
});

describe('checkPosition (§5.2)', () => {
  const cur = { offset: 5, epoch: E };
  it('next offset in the same epoch is delivered', () => {
    assert.equal(checkPosition(cur, 6, E), 'deliver');
    assert.equal(checkPosition(cur, 6), 'deliver', 'epoch unknown: offsets only');
  });
  it('old or duplicate offsets are dropped', () => {
    assert.equal(checkPosition(cur, 5, E), 'drop');
    assert.equal(checkPosition(cur, 1, E), 'drop');
  });
  it('a gap is insufficient state', () => {
    assert.equal(checkPosition(cur, 7, E), 'insufficient');
    assert.equal(checkPosition(cur, 7), 'insufficient');
  });
  it('another epoch is insufficient state, whatever the offset', () => {
    assert.equal(checkPosition(cur, 6, 'other'), 'insufficient');
    assert.equal(checkPosition(cur, 1, 'other'), 'insufficient');
  });
  it("an empty current epoch adopts the publication's epoch", () => {
    assert.equal(checkPosition({ offset: 0, epoch: '' }, 1, E), 'deliver');
    assert.equal(checkPosition({ offset: 0, epoch: '' }, 3, E), 'insufficient', 'offset rules still apply');
  });
});

describe('trackedOffset', () => {
  it('takes the larger of the result offset and the last publication', () => {
    assert.equal(trackedOffset(5, pubs(6, 7)), 7);
    assert.equal(trackedOffset(9, pubs(6, 7)), 9);
    assert.equal(trackedOffset(5, []), 5);
  });
});
