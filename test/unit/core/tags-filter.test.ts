// Tags filter validation and matching (src/core/tags-filter.ts), the rules of centrifuge's internal/filter.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareDecimals, matchTags, parseTagsFilter, type TagsFilter } from '../../../src/core/tags-filter.js';

function parsed(v: unknown): TagsFilter {
  const f = parseTagsFilter(v);
  assert.ok(f !== undefined, `valid: ${JSON.stringify(v)}`);
  return f;
}

describe('tags filter', () => {
  it('refuses malformed trees', () => {
    const bad: unknown[] = [
      null,
      [],
      { key: 'a' }, // no cmp
      { key: 'a', cmp: 'eq' }, // eq needs val
      { key: 'a', cmp: 'eq', val: 'x', vals: ['y'] },
      { key: 'a', cmp: 'in' }, // in needs vals
      { key: 'a', cmp: 'in', vals: ['x'], val: 'y' },
      { key: 'a', cmp: 'ex', val: 'x' },
      { cmp: 'eq', val: 'x' }, // key required except ex/nex
      { key: 'a', cmp: 'like', val: 'x' },
      { op: 'and' },
      { op: 'or', nodes: [] },
      { op: 'not', nodes: [{ key: 'a', cmp: 'ex' }, { key: 'b', cmp: 'ex' }] },
      { op: 'xor', nodes: [{ key: 'a', cmp: 'ex' }] },
      { op: 'and', nodes: [{ key: 'a', cmp: 'eq' }] }, // bad child
      { key: 1, cmp: 'eq', val: 'x' },
      { key: 'a', cmp: 'in', vals: [1] },
    ];
    for (const v of bad) assert.equal(parseTagsFilter(v), undefined, JSON.stringify(v));
    let deep: unknown = { key: 'a', cmp: 'ex' };
    for (let i = 0; i < 40; i++) deep = { op: 'not', nodes: [deep] };
    assert.equal(parseTagsFilter(deep), undefined, 'too deep');
    assert.ok(parseTagsFilter({ cmp: 'nex' }), 'ex/nex without a key is allowed');
  });

  it('matches leaf comparisons as centrifuge does', () => {
    const tags = { a: 'hello', n: '10.50', e: '' };
    const cases: Array<[unknown, boolean]> = [
      [{ key: 'a', cmp: 'eq', val: 'hello' }, true],
      [{ key: 'zz', cmp: 'neq', val: 'x' }, true],
      [{ key: 'a', cmp: 'in', vals: ['x', 'hello'] }, true],
      [{ key: 'zz', cmp: 'in', vals: ['x'] }, false],
      [{ key: 'zz', cmp: 'in', vals: ['x', ''] }, true], // a missing tag compares as ''
      [{ key: 'a', cmp: 'nin', vals: ['x'] }, true],
      [{ key: 'e', cmp: 'ex' }, true],
      [{ key: 'zz', cmp: 'nex' }, true],
      [{ key: 'a', cmp: 'sw', val: 'he' }, true],
      [{ key: 'a', cmp: 'ew', val: 'lo' }, true],
      [{ key: 'a', cmp: 'ct', val: 'ell' }, true],
      [{ key: 'n', cmp: 'gte', val: '10.5' }, true],
      [{ key: 'n', cmp: 'gt', val: '10.5' }, false],
      [{ key: 'n', cmp: 'lt', val: '11' }, true],
      [{ key: 'a', cmp: 'lt', val: '11' }, false], // not a number
      [{ key: 'zz', cmp: 'lte', val: '11' }, false],
      [{ op: 'not', nodes: [{ key: 'a', cmp: 'eq', val: 'hello' }] }, false],
      [{ op: 'or', nodes: [{ key: 'zz', cmp: 'ex' }, { key: 'a', cmp: 'ex' }] }, true],
      [{ op: 'and', nodes: [{ key: 'zz', cmp: 'ex' }, { key: 'a', cmp: 'ex' }] }, false],
    ];
    for (const [f, want] of cases) assert.equal(matchTags(parsed(f), tags), want, JSON.stringify(f));
    assert.equal(matchTags(parsed({ key: 'a', cmp: 'nex' }), undefined), true, 'no tags at all');
    assert.equal(matchTags(parsed({ key: 'toString', cmp: 'ex' }), {}), false, 'prototype keys are not tags');
  });

  it('compares decimals exactly', () => {
    assert.equal(compareDecimals('10.50', '10.5'), 0);
    assert.equal(compareDecimals('-0', '0.000'), 0);
    assert.equal(compareDecimals('9007199254740993', '9007199254740992'), 1);
    assert.equal(compareDecimals('-2', '-10'), 1);
    assert.equal(compareDecimals('0.1', '.2'), -1);
    assert.equal(compareDecimals('+3', '3.'), 0);
    assert.equal(compareDecimals('1e3', '1'), undefined);
    assert.equal(compareDecimals('', '1'), undefined);
    assert.equal(compareDecimals('.', '1'), undefined);
  });
});
