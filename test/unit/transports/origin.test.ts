import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createOriginCheck } from '../../../src/transports/origin.js';
import { splitUrl } from '../../../src/http/url.js';
import { chooseSubprotocol, formatOf } from '../../../src/transports/upgrade.js';

describe('origin check', () => {
  it('empty list: only requests without Origin pass', () => {
    const ok = createOriginCheck([]);
    assert.equal(ok(undefined), true);
    assert.equal(ok('https://example.com'), false);
  });
  it('globs match the lower-cased origin; dots are literal', () => {
    const ok = createOriginCheck(['https://*.example.com', 'http://localhost:*']);
    assert.equal(ok('https://a.example.com'), true);
    assert.equal(ok('HTTPS://A.EXAMPLE.COM'), true);
    assert.equal(ok('https://aexample.com'), false);
    assert.equal(ok('https://a.example.com.evil.org'), false);
    assert.equal(ok('http://localhost:3000'), true);
    assert.equal(ok(undefined), true);
  });
  it('["*"] allows everything', () => {
    assert.equal(createOriginCheck(['*'])('https://x.y'), true);
  });
});

describe('upgrade helpers', () => {
  it('selects protobuf by the chosen subprotocol or by query, JSON otherwise', () => {
    assert.equal(formatOf('centrifuge-protobuf', ''), 'protobuf');
    assert.equal(formatOf('centrifuge-json', ''), 'json');
    assert.equal(formatOf(false, 'format=protobuf'), 'protobuf');
    assert.equal(formatOf(false, 'a=1&cf_protocol=protobuf'), 'protobuf');
    assert.equal(formatOf(false, 'format=json'), 'json');
  });
  it("echoes the client's first subprotocol that is ours (Centrifugo's choice)", () => {
    assert.equal(chooseSubprotocol(new Set(['x', 'centrifuge-json'])), 'centrifuge-json');
    assert.equal(chooseSubprotocol(new Set(['centrifuge-json', 'centrifuge-protobuf'])), 'centrifuge-json');
    assert.equal(chooseSubprotocol(['centrifuge-protobuf', 'centrifuge-json']), 'centrifuge-protobuf');
    assert.equal(chooseSubprotocol(new Set(['x'])), false);
  });
  it('splits url into path and query', () => {
    assert.deepEqual(splitUrl('/a/b?x=1'), { path: '/a/b', query: 'x=1' });
    assert.deepEqual(splitUrl('/a'), { path: '/a', query: '' });
  });
});
