// src/metrics/children.ts: one child per distinct label set, made once, whatever the values hold.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Children1, Children2, Children3 } from '../../../src/metrics/children.js';

describe('metrics: label children caches', () => {
  it('Children1 makes one child per value and returns it again', () => {
    const made: string[] = [];
    const c = new Children1((a) => {
      made.push(a);
      return { a };
    });
    const x = c.get('x');
    assert.equal(c.get('x'), x);
    assert.notEqual(c.get('y'), x);
    assert.equal(c.get(''), c.get(''));
    assert.deepEqual(made, ['x', 'y', '']);
  });

  it('Children2 keeps (a, b) apart from (b, a) and from values that would join to the same key', () => {
    let made = 0;
    const c = new Children2((a, b) => {
      made++;
      return `${a}|${b}`;
    });
    assert.equal(c.get('a', 'b'), 'a|b');
    assert.equal(c.get('b', 'a'), 'b|a');
    // Joined with \u0000 these two would be one key ("a\u0000\u0000b"); here they are two label sets.
    assert.equal(c.get('a\u0000', 'b'), 'a\u0000|b');
    assert.equal(c.get('a', '\u0000b'), 'a|\u0000b');
    assert.equal(c.get('a', 'b'), 'a|b');
    assert.equal(made, 4);
  });

  it('Children2 takes non-string label values', () => {
    const c = new Children2((t: string, code: number) => ({ t, code }));
    assert.equal(c.get('websocket', 3000), c.get('websocket', 3000));
    assert.notEqual(c.get('websocket', 3000), c.get('websocket', 3001));
  });

  it('Children3 makes one child per triple', () => {
    let made = 0;
    const c = new Children3((a, b, x) => {
      made++;
      return [a, b, x].join('/');
    });
    assert.equal(c.get('ws', 'unnamed', 'unversioned'), 'ws/unnamed/unversioned');
    assert.equal(c.get('ws', 'unnamed', 'unregistered'), 'ws/unnamed/unregistered');
    assert.equal(c.get('sse', 'unnamed', 'unversioned'), 'sse/unnamed/unversioned');
    assert.equal(c.get('ws', 'unnamed', 'unversioned'), 'ws/unnamed/unversioned');
    assert.equal(made, 3);
  });
});
