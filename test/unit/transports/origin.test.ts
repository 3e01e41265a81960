import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { createOriginCheck } from '../../../src/transports/origin.js';
import { pickSubprotocol, selectFormat, splitUrl } from '../../../src/transports/upgrade.js';

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
  const req = (h: Record<string, string>): IncomingMessage => ({ headers: h }) as unknown as IncomingMessage;
  it('selects protobuf by subprotocol or query, JSON otherwise', () => {
    assert.equal(selectFormat(req({ 'sec-websocket-protocol': 'centrifuge-protobuf' }), ''), 'protobuf');
    assert.equal(selectFormat(req({ 'sec-websocket-protocol': 'centrifuge-json' }), ''), 'json');
    assert.equal(selectFormat(req({}), 'format=protobuf'), 'protobuf');
    assert.equal(selectFormat(req({}), 'a=1&cf_protocol=protobuf'), 'protobuf');
    assert.equal(selectFormat(req({}), 'format=json'), 'json');
  });
  it('echoes the known subprotocol, protobuf first', () => {
    assert.equal(pickSubprotocol(new Set(['x', 'centrifuge-json'])), 'centrifuge-json');
    assert.equal(pickSubprotocol(new Set(['centrifuge-json', 'centrifuge-protobuf'])), 'centrifuge-protobuf');
    assert.equal(pickSubprotocol(new Set(['x'])), false);
  });
  it('splits url into path and query', () => {
    assert.deepEqual(splitUrl('/a/b?x=1'), { path: '/a/b', query: 'x=1' });
    assert.deepEqual(splitUrl('/a'), { path: '/a', query: '' });
  });
});
