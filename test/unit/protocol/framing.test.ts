import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  concatBytes,
  encodeVarint,
  joinDelimited,
  joinNewline,
  readVarint,
  splitDelimited,
  varintSize,
  type VarintCursor,
} from '../../../src/protocol/framing.js';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

describe('varint', () => {
  const cases: Array<[number, number[]]> = [
    [0, [0x00]],
    [1, [0x01]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [300, [0xac, 0x02]],
    [16383, [0xff, 0x7f]],
    [16384, [0x80, 0x80, 0x01]],
    [2 ** 31, [0x80, 0x80, 0x80, 0x80, 0x08]],
    [2 ** 32 - 1, [0xff, 0xff, 0xff, 0xff, 0x0f]],
  ];
  for (const [n, enc] of cases) {
    it(`encodes and reads ${n}`, () => {
      assert.deepEqual([...encodeVarint(n)], enc);
      assert.equal(varintSize(n), enc.length);
      const cur: VarintCursor = { pos: 0, value: -1 };
      assert.equal(readVarint(Uint8Array.from(enc), cur), true);
      assert.deepEqual(cur, { pos: enc.length, value: n });
    });
  }

  it('rejects truncated and over-long varints without moving the cursor', () => {
    const cur: VarintCursor = { pos: 0, value: 7 };
    assert.equal(readVarint(bytes(0x80), cur), false);
    assert.equal(readVarint(bytes(), cur), false);
    assert.equal(readVarint(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x01), cur), false);
    assert.equal(readVarint(bytes(0xff, 0xff, 0xff, 0xff, 0x1f), cur), false); // > 2^32-1
    assert.deepEqual(cur, { pos: 0, value: 7 });
  });
});

describe('joinNewline', () => {
  it('returns a single message as is (no copy)', () => {
    const m = bytes(0x7b, 0x7d);
    assert.equal(joinNewline([m]), m);
  });
  it('joins with one newline, no trailing newline', () => {
    assert.deepEqual([...joinNewline([bytes(1), bytes(2, 3), bytes(4)])], [1, 10, 2, 3, 10, 4]);
    assert.equal(joinNewline([]).length, 0);
  });
});

describe('joinDelimited / splitDelimited', () => {
  it('prefixes every message, even a single or empty one', () => {
    assert.deepEqual([...joinDelimited([new Uint8Array(0)])], [0x00]);
    assert.deepEqual([...joinDelimited([bytes(9, 9)])], [2, 9, 9]);
    assert.deepEqual([...joinDelimited([bytes(1), new Uint8Array(0), bytes(2, 3)])], [1, 1, 0, 2, 2, 3]);
  });
  it('handles multi-byte length prefixes', () => {
    const big = new Uint8Array(300).fill(7);
    const framed = joinDelimited([big, bytes(1)]);
    assert.deepEqual([...framed.subarray(0, 2)], [0xac, 0x02]);
    const { messages, error } = splitDelimited(framed);
    assert.equal(error, undefined);
    assert.equal(messages.length, 2);
    assert.deepEqual(messages[0], big);
    assert.deepEqual([...(messages[1] ?? [])], [1]);
  });
  it('reports truncation with the messages read so far', () => {
    const r = splitDelimited(bytes(1, 5, 3, 1));
    assert.equal(r.messages.length, 1);
    assert.equal(typeof r.error, 'string');
    assert.equal(typeof splitDelimited(bytes(0x80)).error, 'string');
  });
});

describe('concatBytes', () => {
  it('concatenates', () => {
    const one = bytes(1);
    assert.equal(concatBytes([one]), one);
    assert.deepEqual([...concatBytes([bytes(1, 2), bytes(), bytes(3)])], [1, 2, 3]);
    assert.equal(concatBytes([]).length, 0);
  });
});
