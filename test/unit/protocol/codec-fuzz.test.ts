// Malformed input must never throw out of decodeCommands: the result carries `error` instead, and whatever
// was decoded is well-typed. Deterministic (seeded) and bounded in iterations.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codecFor } from '../../../src/protocol/index.js';
import type { Command, DecodeResult } from '../../../src/protocol/index.js';
import { seededRandom as rng } from '../../harness/rng.js';

const json = codecFor('json');
const pb = codecFor('protobuf');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

const KINDS = new Set(['pong', 'connect', 'subscribe', 'unsubscribe', 'publish', 'presence', 'presence_stats', 'history', 'rpc', 'send', 'refresh', 'sub_refresh', 'unknown']);

/** Structural invariants every decoded command satisfies, whatever the input was. */
function checkCommand(c: Command): void {
  assert.ok(KINDS.has(c.kind), c.kind);
  assert.ok(Number.isInteger(c.id) && c.id >= 0 && c.id <= 0xffffffff);
  if (c.kind === 'pong') assert.equal(c.id, 0);
  if (c.kind === 'unknown') assert.ok(c.id > 0);
  const req = (c as unknown as Record<string, unknown>)[c.kind];
  if (c.kind !== 'pong' && c.kind !== 'unknown') {
    assert.equal(typeof req, 'object');
    const r = req as Record<string, unknown>;
    for (const k of ['channel', 'token', 'epoch', 'name', 'version', 'method', 'delta']) {
      if (k in r) assert.equal(typeof r[k], 'string', k);
    }
    if ('data' in r) assert.ok(r['data'] instanceof Uint8Array);
    for (const k of ['offset', 'limit', 'flag', 'type']) if (k in r) assert.equal(typeof r[k], 'number', k);
  }
}

function safeDecode(codec: typeof json, frame: Uint8Array): DecodeResult {
  let r: DecodeResult | undefined;
  assert.doesNotThrow(() => {
    r = codec.decodeCommands(frame);
  });
  assert.ok(r !== undefined);
  assert.ok(Array.isArray(r.commands));
  r.commands.forEach(checkCommand);
  if (r.error !== undefined) assert.equal(typeof r.error, 'string');
  return r;
}

const VALID_JSON = [
  '{"connect":{"token":"abc","data":{"x":1},"subs":{"c":{"recover":true,"offset":1,"epoch":"e"}},"name":"js","headers":{"a":"b"}},"id":1}',
  '{"subscribe":{"channel":"chat:index","flag":1,"recover":true,"offset":5,"epoch":"kTQnJrWp","tf":{"op":"and"}},"id":2}',
  '{"publish":{"channel":"c","data":{"text":"héllo 😀"}},"id":3}',
  '{"history":{"channel":"c","limit":10,"since":{"offset":3,"epoch":"e"},"reverse":true},"id":4}',
  '{"rpc":{"method":"m","data":[1,2,3]},"id":5}',
  '{"send":{"data":"x"}}',
  '{}',
];

describe('JSON decode fuzz', () => {
  it('every strict prefix of a command line is an error; the full line is not', () => {
    for (const line of VALID_JSON) {
      for (let i = 0; i < line.length; i++) {
        const r = safeDecode(json, enc(line.slice(0, i)));
        assert.equal(typeof r.error, 'string', line.slice(0, i));
        assert.equal(r.commands.length, 0);
      }
      assert.equal(safeDecode(json, enc(line)).error, undefined);
    }
  });

  it('random bytes never throw', () => {
    const rand = rng(1);
    for (let n = 0; n < 3000; n++) {
      const len = Math.floor(rand() * 64);
      const frame = new Uint8Array(len);
      for (let i = 0; i < len; i++) frame[i] = Math.floor(rand() * 256);
      safeDecode(json, frame);
    }
  });

  it('random mutations of valid frames never throw', () => {
    const rand = rng(2);
    const alphabet = '{}[]":,\n\r 0123456789-.eE\\nulltruefalse"abc';
    for (let n = 0; n < 3000; n++) {
      const chars = [...VALID_JSON.slice(0, 1 + Math.floor(rand() * VALID_JSON.length)).join('\n')];
      const edits = 1 + Math.floor(rand() * 4);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rand() * chars.length);
        const op = rand();
        if (op < 0.4) chars.splice(at, 1);
        else if (op < 0.7) chars.splice(at, 0, alphabet[Math.floor(rand() * alphabet.length)] ?? '');
        else chars[at] = alphabet[Math.floor(rand() * alphabet.length)] ?? '';
      }
      safeDecode(json, enc(chars.join('')));
    }
  });

  it('random values of the wrong type in every field never throw and are rejected or normalised', () => {
    const rand = rng(3);
    const values = ['1', '-1', '1.5', '1e400', '"s"', '""', 'true', 'false', 'null', '[]', '{}', '{"a":1}', '["x"]', '4294967296'];
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)] as T;
    const fields = ['channel', 'token', 'data', 'recover', 'offset', 'epoch', 'since', 'limit', 'subs', 'headers', 'flag', 'tf', 'method', 'reverse', 'name'];
    const requests = ['connect', 'subscribe', 'unsubscribe', 'publish', 'presence', 'presence_stats', 'history', 'rpc', 'send', 'refresh', 'sub_refresh', 'ping'];
    let errors = 0;
    for (let n = 0; n < 3000; n++) {
      const inner = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => `"${pick(fields)}":${pick(values)}`).join(',');
      const req = rand() < 0.1 ? pick(values) : `{${inner}}`;
      const line = `{"id":${rand() < 0.8 ? String(1 + Math.floor(rand() * 100)) : pick(values)},"${pick(requests)}":${req}}`;
      if (safeDecode(json, enc(line)).error !== undefined) errors++;
    }
    assert.ok(errors > 100, `expected many rejections, got ${errors}`);
  });

  it('deeply nested payloads do not throw', () => {
    const deep = `{"id":1,"publish":{"channel":"c","data":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    safeDecode(json, enc(deep));
    safeDecode(json, enc(`{"id":1,"publish":{"channel":"c","data":${'['.repeat(100_000)}}}`));
  });
});

describe('protobuf decode fuzz', () => {
  const valid = pb.joinFrames([
    pb.encodeReply({ id: 1, publish: {} }), // arbitrary bytes that happen to be a valid message
    Uint8Array.from([0x08, 0x01, 0x22, 0x09, 0x0a, 0x03, 0x4a, 0x57, 0x54, 0x22, 0x02, 0x6a, 0x73]),
    Uint8Array.from([0x08, 0x02, 0x2a, 0x06, 0x0a, 0x01, 0x63, 0x38, 0x80, 0x01]),
  ]);

  it('random bytes never throw', () => {
    const rand = rng(4);
    for (let n = 0; n < 5000; n++) {
      const len = Math.floor(rand() * 64);
      const frame = new Uint8Array(len);
      for (let i = 0; i < len; i++) frame[i] = Math.floor(rand() * 256);
      safeDecode(pb, frame);
    }
  });

  it('bit flips and truncations of valid frames never throw', () => {
    const rand = rng(5);
    assert.equal(safeDecode(pb, valid).error, undefined);
    for (let n = 0; n < 5000; n++) {
      const frame = valid.slice(0, 1 + Math.floor(rand() * valid.length));
      const flips = Math.floor(rand() * 3);
      for (let f = 0; f < flips; f++) {
        const at = Math.floor(rand() * frame.length);
        frame[at] = (frame[at] ?? 0) ^ (1 << Math.floor(rand() * 8));
      }
      safeDecode(pb, frame);
    }
  });

  it('deeply nested filter nodes do not throw', () => {
    // subscribe { channel "c", tf { nodes { nodes { … } } } }, built from the inside out
    let node: Uint8Array = new Uint8Array(0);
    for (let d = 0; d < 300; d++) {
      const len = [...pb.joinFrames([node])];
      node = Uint8Array.from([0x32, ...len.slice(0, len.length - node.length), ...node]);
    }
    const tf = [...pb.joinFrames([node])];
    const sub = Uint8Array.from([0x0a, 0x01, 0x63, 0x6a, ...tf]);
    const cmd = Uint8Array.from([0x08, 0x01, 0x2a, ...pb.joinFrames([sub])]);
    safeDecode(pb, pb.joinFrames([cmd]));
  });
});
