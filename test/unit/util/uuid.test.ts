// Client ids (src/util/uuid.ts): the canonical version-4 form, unique across several refills of the random pool,
// and every hex digit used in the random positions (a digit stuck at one value would show here).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomUuid } from '../../../src/util/uuid.js';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('randomUuid', () => {
  it('gives version-4 UUIDs, all different over 10,000 (40 refills of the pool)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const id = randomUuid();
      assert.match(id, V4);
      seen.add(id);
    }
    assert.equal(seen.size, 10_000);
  });

  it('uses every hex digit at every random position', () => {
    const digits = Array.from({ length: 36 }, () => new Set<string>());
    for (let i = 0; i < 2_000; i++) [...randomUuid()].forEach((c, k) => digits[k]!.add(c));
    digits.forEach((set, k) => {
      if (k === 8 || k === 13 || k === 18 || k === 23) assert.deepEqual([...set], ['-']);
      else if (k === 14) assert.deepEqual([...set], ['4']);
      else if (k === 19) assert.equal(set.size, 4, `position ${k}`);
      else assert.equal(set.size, 16, `position ${k}`);
    });
  });
});
