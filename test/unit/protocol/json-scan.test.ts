import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isJsonPayload, isValidJson, parseJson, rawSpan } from '../../../src/protocol/json-scan.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const txt = (b: Uint8Array | undefined): string => (b === undefined ? '<none>' : new TextDecoder().decode(b));
/** The oracle: JSON.parse of the text with a BOM kept (Go and Gyre refuse a BOM; TextDecoder would drop it). */
const bomKeeping = new TextDecoder('utf-8', { ignoreBOM: true });
function oracle(b: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(bomKeeping.decode(b)) as unknown };
  } catch {
    return { ok: false };
  }
}

const RAW = new Set(['data', 'info']);
const OPAQUE_DATA = new Set(['data']);

describe('parseJson: values like JSON.parse, raw bytes for raw keys', () => {
  it('keeps the exact bytes of raw members (big ints, exponents, zeros, escapes, inner whitespace)', () => {
    const payloads = [
      '{"order_id":9007199254740993,"price":1.10,"e":1E3,"s":"\\u00e9"}',
      '123456789012345678901234567890',
      '1e-7',
      '"\\ud83d\\ude00"',
      '{ "a" : [ 1 , 2 ] ,\n "b" : { } }',
      '[[[], [[1.0]]], {"x": [true, false, null]}]',
      '"plain"',
      '-0.0',
      '{"é":"😀"}',
    ];
    for (const p of payloads) {
      const r = parseJson(enc(`{"channel":"c","data":  ${p}\t}`), undefined, undefined, { rawKeys: RAW });
      assert.equal(r.ok, true, p);
      if (!r.ok) continue;
      assert.equal(txt(rawSpan(r.value as object, 'data')), p);
      // structuredClone drops the symbol-keyed span record, leaving what JSON.parse would build.
      assert.deepEqual(structuredClone(r.value), JSON.parse(`{"channel":"c","data":${p}}`));
    }
  });

  it('records raw members at any depth and takes the last of duplicate keys, as JSON.parse does', () => {
    const src = '{"commands":[{"publish":{"data":1,"data":{"k":2.50}}},{"subscribe":{"info":[1 ]}}],"data":"top"}';
    const r = parseJson(enc(src), undefined, undefined, { rawKeys: RAW });
    assert.ok(r.ok);
    const v = r.value as { commands: [{ publish: object }, { subscribe: object }] };
    assert.equal(txt(rawSpan(v.commands[0].publish, 'data')), '{"k":2.50}');
    assert.equal(txt(rawSpan(v.commands[1].subscribe, 'info')), '[1 ]');
    assert.equal(txt(rawSpan(v, 'data')), '"top"');
    assert.equal(rawSpan(v, 'commands'), undefined);
  });

  it('matches keys after unescaping and keeps __proto__ as an own property', () => {
    const r = parseJson(enc('{"d\\u0061ta":[1.0],"__proto__":{"x":1}}'), undefined, undefined, { rawKeys: RAW });
    assert.ok(r.ok);
    assert.equal(txt(rawSpan(r.value as object, 'data')), '[1.0]');
    assert.deepEqual(Object.keys(r.value as object), ['data', '__proto__']);
    assert.equal(Object.getPrototypeOf(r.value), Object.prototype);
  });

  it('opaque keys: the value is the bytes themselves (null stays null), validated and depth-counted', () => {
    const OPAQUE = new Set(['data']);
    const r = parseJson(enc('{"a":{"data": [1.10, {"x":"\\u00e9"}] },"b":{"data":null},"c":[{"data":1}]}'), undefined, undefined, {
      opaqueKeys: OPAQUE,
    });
    assert.ok(r.ok);
    const v = r.value as { a: { data: Uint8Array }; b: { data: null }; c: [{ data: Uint8Array }] };
    assert.ok(v.a.data instanceof Uint8Array);
    assert.equal(txt(v.a.data), '[1.10, {"x":"\\u00e9"}]');
    assert.equal(isJsonPayload(v.a.data), true);
    assert.equal(v.b.data, null);
    assert.equal(txt(v.c[0].data), '1');
    assert.equal(parseJson(enc('{"data":[1,}'), undefined, undefined, { opaqueKeys: OPAQUE }).ok, false);
    const deep = `{"data":${'['.repeat(10)}${']'.repeat(10)}}`;
    assert.equal(parseJson(enc(deep), undefined, undefined, { opaqueKeys: OPAQUE, maxDepth: 11 }).ok, true);
    assert.deepEqual(parseJson(enc(deep), undefined, undefined, { opaqueKeys: OPAQUE, maxDepth: 10 }), { ok: false, error: 'depth', offset: 17 });
    // Beyond rawDepth the member is an ordinary value.
    const far = parseJson(enc('{"a":{"b":{"data":[1]}}}'), undefined, undefined, { opaqueKeys: OPAQUE, rawDepth: 2 });
    assert.ok(far.ok);
    assert.deepEqual((far.value as { a: { b: { data: unknown } } }).a.b.data, [1]);
  });

  it('returns copies: the input buffer can be reused', () => {
    const buf = enc('{"data":{"a":1}}');
    const r = parseJson(buf, undefined, undefined, { rawKeys: RAW });
    assert.ok(r.ok);
    buf.fill(0x20);
    assert.equal(txt(rawSpan(r.value as object, 'data')), '{"a":1}');
  });

  it('parses a sub-range of a buffer', () => {
    const buf = enc('xx{"data":7}yy');
    const r = parseJson(buf, 2, buf.length - 2, { rawKeys: RAW });
    assert.ok(r.ok);
    assert.equal(txt(rawSpan(r.value as object, 'data')), '7');
    assert.equal(parseJson(buf).ok, false);
  });

  it('refuses nesting beyond maxDepth with "depth", iteratively (no RangeError at 1,000,000 levels)', () => {
    const deep = (n: number): Uint8Array => enc('['.repeat(n) + ']'.repeat(n));
    assert.equal(parseJson(deep(10000), undefined, undefined, { maxDepth: 10000 }).ok, true);
    const over = parseJson(deep(10001), undefined, undefined, { maxDepth: 10000 });
    assert.deepEqual(over, { ok: false, error: 'depth', offset: 10000 });
    assert.equal(parseJson(deep(1_000_000)).ok, true);
    assert.equal(isValidJson(deep(1_000_000)), true);
    assert.equal(isValidJson(deep(10001), 0, 20002, 10000), false);
    assert.equal(isValidJson(deep(10000), 0, 20000, 10000), true);
    // Objects count too; the top-level container is level 1 (Go's encoding/json counting).
    const objs = (n: number): Uint8Array => enc('{"a":'.repeat(n - 1) + '{}' + '}'.repeat(n - 1));
    assert.equal(parseJson(objs(5), undefined, undefined, { maxDepth: 5 }).ok, true);
    assert.equal(parseJson(objs(6), undefined, undefined, { maxDepth: 5 }).ok, false);
  });
});

describe('isJsonPayload', () => {
  it('accepts JSON texts (whitespace around allowed) and refuses the rest, including bad UTF-8', () => {
    for (const s of ['{"a":1}', '"x"', '1', ' [ ] ', 'null', '{"u":"é😀"}']) assert.equal(isJsonPayload(enc(s)), true, s);
    for (const s of ['{', '{"a":1}{}', 'nul', "{'a':1}", '\uFEFF{}', '01', '1.', '.5', '"\\x"', '[1,]', '{"a"}'])
      assert.equal(isJsonPayload(enc(s)), false, s);
    assert.equal(isJsonPayload(Uint8Array.from([0xff, 0xfe, 0x00])), false);
    assert.equal(isJsonPayload(Uint8Array.from([0x22, 0xc3, 0x22])), false);
    assert.equal(isJsonPayload(new Uint8Array(0)), true);
  });

  it('a raw span cut by parseJson is known JSON; its decision is remembered', () => {
    const r = parseJson(enc('{"data":{"é":1}}'), undefined, undefined, { rawKeys: RAW });
    assert.ok(r.ok);
    const span = rawSpan(r.value as object, 'data');
    assert.ok(span !== undefined);
    assert.equal(isJsonPayload(span), true);
    assert.equal(isJsonPayload(span), true);
  });
});

describe('fuzz: validity agrees with JSON.parse', () => {
  // Deterministic xorshift so a failure can be replayed.
  let seed = 0x9e3779b9;
  const rnd = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const pieces = ['{', '}', '[', ']', ',', ':', '"', '\\', 'u', '0', '1', '9', '-', '+', '.', 'e', 'E', ' ', '\n', '\t', 'true', 'false', 'null', 'a', 'é', '\u0001', '"k"', '"v"', '\\u00e9', '\\n', '\uFEFF'];
  const seeds = ['{"a":[1,2.5e3,-0,{"b":null}],"c":"\\u00e9"}', '[true,false,null,"x",{}]', '{"id":1,"publish":{"channel":"c","data":{"x":1}}}', '"s"', '-12.5E+3'];

  function mutate(s: string): string {
    const chars = [...s];
    const ops = 1 + rnd(4);
    for (let k = 0; k < ops; k++) {
      const at = rnd(chars.length + 1);
      const op = rnd(3);
      if (op === 0) chars.splice(at, 1);
      else if (op === 1) chars.splice(at, 0, pieces[rnd(pieces.length)] ?? '');
      else chars[at] = pieces[rnd(pieces.length)] ?? '';
    }
    return chars.join('');
  }

  it('5,000 mutated documents: same verdict and same value', () => {
    let valid = 0;
    for (let n = 0; n < 5000; n++) {
      const text = mutate(seeds[n % seeds.length] ?? '');
      const bytes = enc(text);
      const want = oracle(bytes);
      const got = parseJson(bytes, undefined, undefined, { rawKeys: RAW });
      assert.equal(got.ok, want.ok, `parseJson ${JSON.stringify(text)}`);
      assert.equal(isValidJson(bytes), want.ok, `isValidJson ${JSON.stringify(text)}`);
      assert.equal(parseJson(bytes, undefined, undefined, { opaqueKeys: OPAQUE_DATA }).ok, want.ok, `opaque ${JSON.stringify(text)}`);
      if (got.ok && want.ok) {
        valid++;
        assert.deepEqual(structuredClone(got.value), want.value, text);
      }
    }
    assert.ok(valid > 200, `enough valid cases (${valid})`);
  });

  it('random bytes: same verdict (invalid UTF-8 inside strings is accepted by both, refused by isValidJson)', () => {
    for (let n = 0; n < 3000; n++) {
      const len = 1 + rnd(12);
      const bytes = new Uint8Array(len);
      for (let k = 0; k < len; k++) bytes[k] = [0x22, 0x5b, 0x5d, 0x7b, 0x7d, 0x31, 0x2c, 0x3a, 0x20, 0xc3, 0xa9, 0xff, 0x5c, 0x75][rnd(14)] ?? 0;
      const want = oracle(bytes);
      assert.equal(parseJson(bytes).ok, want.ok, `bytes ${Array.from(bytes).join(',')}`);
      if (!want.ok) assert.equal(isValidJson(bytes), false);
    }
  });
});
