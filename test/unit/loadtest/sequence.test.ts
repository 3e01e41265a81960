import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptySequenceStats, observeSeq, SEQ_UNKNOWN, SequenceTracker } from '../../../loadtest/src/sequence.js';

test('payload seq stream: an injected gap and an injected duplicate are counted', () => {
  const stats = emptySequenceStats();
  let last = 0; // payload seq starts at 1
  for (const seq of [1, 2, 3, /* gap: 4,5 missing */ 6, 7, /* duplicate */ 7, 8]) last = observeSeq(stats, last, seq);
  assert.deepEqual(stats, { received: 7, inOrder: 5, gaps: 1, missing: 2, duplicates: 1 });
  assert.equal(last, 8);
});

test('a clean stream has no gaps or duplicates', () => {
  const stats = emptySequenceStats();
  let last = 0;
  for (let s = 1; s <= 100; s++) last = observeSeq(stats, last, s);
  assert.deepEqual(stats, { received: 100, inOrder: 100, gaps: 0, missing: 0, duplicates: 0 });
});

test('offset streams take their baseline from the first delivery; late out-of-order counts as duplicate', () => {
  const stats = emptySequenceStats();
  let last = SEQ_UNKNOWN;
  for (const off of [41, 42, 44, 43]) last = observeSeq(stats, last, off);
  assert.equal(stats.inOrder, 2);
  assert.equal(stats.gaps, 1);
  assert.equal(stats.missing, 1);
  assert.equal(stats.duplicates, 1);
  assert.equal(last, 44);
});

test('the keyed tracker keeps streams apart and classifies each observation', () => {
  const t = new SequenceTracker(true);
  assert.equal(t.observe('a', 1), 'in-order');
  assert.equal(t.observe('b', 1), 'in-order');
  assert.equal(t.observe('a', 3), 'gap');
  assert.equal(t.observe('b', 1), 'duplicate');
  assert.equal(t.observe('b', 2), 'in-order');
  t.reset('a');
  assert.equal(t.observe('a', 1), 'in-order');
  assert.deepEqual(t.stats, { received: 6, inOrder: 4, gaps: 1, missing: 1, duplicates: 1 });
});
