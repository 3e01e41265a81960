// The keyed-subscription fields of the client protocol (shared poll): sub_refresh track/untrack requests,
// publications with key/removed/version, the subscribe result's type and the sub_refresh result's items, in
// both codecs, checked against the official client's own protobuf codec.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { num, official } from './official-codec.js';
import { codecFor } from '../../../src/protocol/index.js';
import type { Reply } from '../../../src/protocol/types.js';

const pb = codecFor('protobuf');
const json = codecFor('json');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const txt = (b: Uint8Array): string => new TextDecoder().decode(b);

const track = {
  id: 5,
  sub_refresh: {
    channel: 'poll:a',
    type: 1,
    track: [
      { signature: '1:2:ab', items: [{ key: 'k1', version: 7 }, { key: 'k2' }] },
      { signature: '3:4:cd', items: [{ key: 'k3', version: 2 ** 40 }] },
    ],
    untrack: ['k2'],
  },
};
const expected = { kind: 'sub_refresh', id: 5, sub_refresh: track.sub_refresh };

describe('sub_refresh track/untrack requests', () => {
  it('decode alike from JSON and from the official protobuf encoding', () => {
    assert.deepEqual(json.decodeCommands(enc(JSON.stringify(track))), { commands: [expected] });
    assert.deepEqual(pb.decodeCommands(official.encodeCommands([track])), { commands: [expected] });
  });

  it('an untrack request carries only keys', () => {
    const cmd = { id: 6, sub_refresh: { channel: 'poll:a', type: 2, untrack: ['a', 'b'] } };
    const want = { commands: [{ kind: 'sub_refresh', id: 6, sub_refresh: cmd.sub_refresh }] };
    assert.deepEqual(json.decodeCommands(enc(JSON.stringify(cmd))), want);
    assert.deepEqual(pb.decodeCommands(official.encodeCommands([cmd])), want);
  });

  it('malformed track members are a bad frame, not a crash', () => {
    for (const bad of [
      '{"id":1,"sub_refresh":{"channel":"c","type":1,"track":{}}}',
      '{"id":1,"sub_refresh":{"channel":"c","type":1,"track":[1]}}',
      '{"id":1,"sub_refresh":{"channel":"c","type":1,"track":[{"items":[{"key":5}]}]}}',
      '{"id":1,"sub_refresh":{"channel":"c","type":1,"track":[{"items":[{"key":"k","version":-1}]}]}}',
      '{"id":1,"sub_refresh":{"channel":"c","type":2,"untrack":[1]}}',
      '{"id":1,"sub_refresh":{"channel":"c","type":"1"}}',
    ]) {
      const r = json.decodeCommands(enc(bad));
      assert.notEqual(r.error, undefined, bad);
      assert.equal(r.commands.length, 0, bad);
    }
  });
});

describe('keyed publications and results', () => {
  const trackReply: Reply = {
    id: 7,
    sub_refresh: { expires: true, ttl: 30, items: [{ data: enc('{"v":1}'), key: 'k1', version: 3 }] },
  };

  it('JSON writes key, removed and version in proto field order', () => {
    const push = json.encodePush({ channel: 'poll:a', pub: { data: enc('{"v":2}'), key: 'k1', version: 9 } });
    assert.equal(txt(push), '{"push":{"channel":"poll:a","pub":{"data":{"v":2},"key":"k1","version":9}}}');
    const removal = json.encodePublicationPush('poll:a', { data: new Uint8Array(0), key: 'k1', removed: true });
    assert.equal(txt(removal), '{"push":{"channel":"poll:a","pub":{"key":"k1","removed":true}}}');
    assert.equal(
      txt(json.encodeReply({ id: 7, sub_refresh: { expires: true, ttl: 30, items: [{ data: enc('1'), key: 'k', version: 2 }] } })),
      '{"id":7,"sub_refresh":{"expires":true,"ttl":30,"items":[{"data":1,"key":"k","version":2}]}}',
    );
    assert.equal(txt(json.encodeReply({ id: 8, subscribe: { epoch: 'abcd1234', type: 4 } })), '{"id":8,"subscribe":{"epoch":"abcd1234","type":4}}');
  });

  it('protobuf replies decode in the official client with the same fields', () => {
    const replies = [
      pb.encodeReply(trackReply),
      pb.encodeReply({ id: 8, subscribe: { epoch: 'abcd1234', type: 4 } }),
      pb.encodePush({ channel: 'poll:a', pub: { data: enc('{"v":2}'), key: 'k1', version: 2 ** 33 } }),
      pb.encodePublicationPush('poll:a', { data: new Uint8Array(0), key: 'k2', removed: true }),
    ];
    const out = official.decodeReplies(pb.joinFrames(replies));
    assert.equal(out.length, 4);
    const sr = out[0]!['sub_refresh'] as { ttl: number; items: Array<{ key: string; version: unknown; data: Uint8Array }> };
    assert.equal(sr.ttl, 30);
    assert.equal(sr.items[0]!.key, 'k1');
    assert.equal(num(sr.items[0]!.version), 3);
    assert.equal(txt(sr.items[0]!.data), '{"v":1}');
    const sub = out[1]!['subscribe'] as { epoch: string; type: number };
    assert.deepEqual([sub.epoch, sub.type], ['abcd1234', 4]);
    const p1 = (out[2]!['push'] as { pub: { key: string; version: unknown } }).pub;
    assert.deepEqual([p1.key, num(p1.version)], ['k1', 2 ** 33]);
    const p2 = (out[3]!['push'] as { pub: { key: string; removed: boolean } }).pub;
    assert.deepEqual([p2.key, p2.removed], ['k2', true]);
  });
});
