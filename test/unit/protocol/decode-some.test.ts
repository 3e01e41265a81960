// Incremental frame decoding (Codec.decodeSome): the same commands and errors as decodeCommands, a few at a time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Codec, DecodeResult } from '../../../src/protocol/codec.js';
import { codecFor } from '../../../src/protocol/index.js';
import { official } from './official-codec.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Decodes `frame` `max` commands at a time; returns the concatenation and the number of calls. */
function inSteps(codec: Codec, frame: Uint8Array, max: number): DecodeResult & { calls: number } {
  const cursor = { pos: 0 };
  const commands: DecodeResult['commands'] = [];
  let error: string | undefined;
  let calls = 0;
  while (cursor.pos < frame.byteLength && calls < 10_000) {
    calls++;
    const r = codec.decodeSome(frame, cursor, max);
    assert.ok(r.commands.length <= max);
    commands.push(...r.commands);
    if (r.error !== undefined) error = r.error;
  }
  return error === undefined ? { commands, calls } : { commands, error, calls };
}

const cmds = Array.from({ length: 50 }, (_, i) => ({ id: i + 1, rpc: { method: 'm', data: { n: i } } }));

describe('decodeSome', () => {
  const json = codecFor('json');
  const pb = codecFor('protobuf');
  const frames: [string, Codec, Uint8Array][] = [
    ['json', json, enc(cmds.map((c) => JSON.stringify(c)).join('\n'))],
    ['json, trailing newline and CRLF', json, enc(`${cmds.map((c) => JSON.stringify(c)).join('\r\n')}\n`)],
    ['protobuf', pb, official.encodeCommands(cmds)],
  ];
  for (const [name, codec, frame] of frames) {
    it(`${name}: same commands as decodeCommands, in steps`, () => {
      const whole = codec.decodeCommands(frame);
      assert.equal(whole.error, undefined);
      assert.equal(whole.commands.length, 50);
      for (const max of [1, 7, 64]) {
        const r = inSteps(codec, frame, max);
        assert.deepEqual(r.commands, whole.commands);
        assert.equal(r.error, undefined);
        assert.equal(r.calls, Math.ceil(50 / max));
      }
    });
  }

  it('json: an error in the middle ends the frame after the commands before it', () => {
    const frame = enc(`${JSON.stringify(cmds[0])}\n${JSON.stringify(cmds[1])}\n{nope\n${JSON.stringify(cmds[2])}`);
    const whole = json.decodeCommands(frame);
    const r = inSteps(json, frame, 1);
    assert.deepEqual(r.commands, whole.commands);
    assert.equal(r.commands.length, 2);
    assert.equal(typeof r.error, 'string');
    assert.equal(r.error, whole.error);
  });

  it('protobuf: a truncated command ends the frame after the commands before it', () => {
    const full = official.encodeCommands(cmds.slice(0, 3));
    const frame = full.subarray(0, full.byteLength - 2);
    const r = inSteps(pb, frame, 1);
    assert.equal(r.commands.length, 2);
    assert.equal(r.error, pb.decodeCommands(frame).error);
  });

  it('an empty frame is an error in both formats', () => {
    for (const codec of [json, pb]) {
      const cursor = { pos: 0 };
      const r = codec.decodeSome(new Uint8Array(0), cursor, 10);
      assert.equal(r.commands.length, 0);
      assert.equal(typeof r.error, 'string');
      assert.ok(cursor.pos >= 0);
    }
  });
});
