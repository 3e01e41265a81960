import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { durationFromConfig, formatDuration, parseDuration } from '../../../src/config/duration.js';

describe('parseDuration', () => {
  it('parses Go-style strings to ms', () => {
    assert.equal(parseDuration('25s'), 25_000);
    assert.equal(parseDuration('100ms'), 100);
    assert.equal(parseDuration('1m'), 60_000);
    assert.equal(parseDuration('720h'), 2_592_000_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('0s'), 0);
    assert.equal(parseDuration('1000us'), 1);
  });
  it('rejects malformed strings', () => {
    for (const bad of ['', '25', 's', '10 s', '5d', '1h-3m', 'abc', '-']) {
      assert.equal(parseDuration(bad), undefined, bad);
    }
  });
});

describe('durationFromConfig', () => {
  it('accepts strings with units and the number 0 only', () => {
    assert.deepEqual(durationFromConfig('8s'), { ok: true, ms: 8000 });
    assert.deepEqual(durationFromConfig(0), { ok: true, ms: 0 });
    const r = durationFromConfig(30);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.message, /bare number is accepted only for 0/);
    assert.equal(durationFromConfig('-5s').ok, false);
    assert.equal(durationFromConfig(true).ok, false);
  });
});

describe('formatDuration', () => {
  it('renders ms back to strings that parse to the same value', () => {
    const cases: Array<[number, string]> = [
      [0, '0s'],
      [100, '100ms'],
      [1000, '1s'],
      [1500, '1.5s'],
      [25_000, '25s'],
      [60_000, '1m'],
      [5_400_000, '1h30m'],
      [2_592_000_000, '720h'],
    ];
    for (const [ms, text] of cases) {
      assert.equal(formatDuration(ms), text);
      assert.equal(parseDuration(text), ms);
    }
  });
});
