// API output of payload bytes (src/api/json.ts): written as Go's encoding/json writes a json.RawMessage.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goCompact, rawOrBase64 } from '../../../src/api/json.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('goCompact', () => {
  it('drops whitespace between tokens, keeps numbers, escapes and order', () => {
    assert.equal(goCompact(enc(' { "b" : [ 1.10 ,\n 1E3 ] ,\t"a":"\\u00e9 x" } ')), '{"b":[1.10,1E3],"a":"\\u00e9 x"}');
    assert.equal(goCompact(enc('123456789012345678901234567890')), '123456789012345678901234567890');
  });

  it('escapes <, >, &, U+2028 and U+2029 inside strings only, and never ends a string at an escaped quote', () => {
    assert.equal(goCompact(enc('"a\\" <b> & \u2028\u2029 é"')), '"a\\" \\u003cb\\u003e \\u0026 \\u2028\\u2029 é"');
    assert.equal(goCompact(enc('["\\\\", " "]')), '["\\\\"," "]');
  });

  it('grows its buffer for many escapes', () => {
    const s = `"${'<'.repeat(5000)}"`;
    assert.equal(goCompact(enc(s)), `"${'\\u003c'.repeat(5000)}"`);
  });
});

describe('rawOrBase64', () => {
  it('JSON text is raw (compacted); anything else is base64', () => {
    const r = rawOrBase64(enc('{ "n" : 9007199254740993 }'));
    assert.ok('raw' in r);
    assert.equal(r.raw.text, '{"n":9007199254740993}');
    assert.deepEqual(rawOrBase64(Uint8Array.from([0, 1, 255])), { b64: 'AAH/' });
  });
});
