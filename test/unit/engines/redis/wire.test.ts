import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consistentIndex } from '../../../../src/engines/redis/shard-index.js';
import { keyNames } from '../../../../src/engines/redis/keys.js';
import {
  decodeClientInfo,
  encodeClientInfo,
  encodePublication,
  framePresenceEvent,
  parsePush,
  WireError,
} from '../../../../src/engines/redis/wire.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array | undefined): string => (b === undefined ? '' : new TextDecoder().decode(b));

describe('redis wire format', () => {
  it('decodes the exact bytes Centrifugo v6.9.1 published (redis-cli monitor trace)', () => {
    // PUBLISH centrifugo.client.ch1 "__p1:1:lGVVawew__\"\a{\"a\":1}H\xff\xfc\x92\x88\xa34"
    const body = Buffer.from([0x22, 0x07, ...Buffer.from('{"a":1}'), 0x48, 0xff, 0xfc, 0x92, 0x88, 0xa3, 0x34]);
    const msg = parsePush(Buffer.concat([Buffer.from('__p1:1:lGVVawew__'), body]));
    assert.equal(msg.kind, 'publication');
    if (msg.kind !== 'publication') return;
    assert.deepEqual(msg.position, { offset: 1, epoch: 'lGVVawew' });
    assert.equal(str(msg.decoded.pub.data), '{"a":1}');
    assert.ok(msg.decoded.timeMs > 1_700_000_000_000, 'publication time in ms');
  });

  it('round-trips publications with info and tags, without position', () => {
    const info = { user: 'u1', client: 'c1', conn_info: text('{"x":1}'), chan_info: text('"y"') };
    const pb = encodePublication(text('hello'), info, { k: 'v', e: '' }, 1_800_000_000_123);
    const msg = parsePush(pb);
    assert.equal(msg.kind, 'publication');
    if (msg.kind !== 'publication') return;
    assert.equal(msg.position, undefined);
    const { pub, timeMs } = msg.decoded;
    assert.equal(str(pub.data), 'hello');
    assert.equal(pub.info?.user, 'u1');
    assert.equal(pub.info?.client, 'c1');
    assert.equal(str(pub.info?.conn_info), '{"x":1}');
    assert.equal(str(pub.info?.chan_info), '"y"');
    assert.deepEqual(pub.tags, { k: 'v', e: '' });
    assert.equal(timeMs, 1_800_000_000_123);
  });

  it('frames join/leave with __j__/__l__ and parses delta pushes', () => {
    const info = { user: 'u', client: 'c' };
    const j = parsePush(framePresenceEvent('join', info));
    assert.deepEqual(j, { kind: 'join', info: { user: 'u', client: 'c' } });
    const l = parsePush(framePresenceEvent('leave', info));
    assert.equal(l.kind, 'leave');
    assert.deepEqual(decodeClientInfo(encodeClientInfo(info)), info);
    const pb = Buffer.from(encodePublication(text('new'), undefined, undefined, 0));
    const prev = Buffer.from(encodePublication(text('old'), undefined, undefined, 0));
    const d = parsePush(Buffer.concat([Buffer.from(`__d1:7:ep:${prev.length}:`), prev, Buffer.from(`:${pb.length}:`), pb]));
    assert.equal(d.kind, 'publication');
    if (d.kind === 'publication') {
      assert.deepEqual(d.position, { offset: 7, epoch: 'ep' });
      assert.equal(str(d.decoded.pub.data), 'new');
      assert.equal(str(d.prev?.data ?? new Uint8Array(0)), 'old', 'the previous publication comes along');
    }
    // The stream had nothing before: an empty previous payload, no base for a delta.
    const first = parsePush(Buffer.concat([Buffer.from(`__d1:1:ep:0::${pb.length}:`), pb]));
    assert.ok(first.kind === 'publication' && first.prev === undefined && str(first.decoded.pub.data) === 'new');
    // A plain append carries none either.
    const plain = parsePush(Buffer.concat([Buffer.from('__p1:3:ep__'), pb]));
    assert.ok(plain.kind === 'publication' && plain.prev === undefined);
  });

  it('Publication.prev_data (15) is the base when a frame has none (centrifuge map-broker fan-out)', () => {
    const pub = Buffer.concat([Buffer.from(encodePublication(text('new'), undefined, undefined, 0)), Buffer.from([0x7a, 3]), Buffer.from('old')]);
    const d = parsePush(pub);
    assert.ok(d.kind === 'publication');
    assert.equal(str(d.decoded.pub.data), 'new');
    assert.equal(str(d.prev?.data ?? new Uint8Array(0)), 'old');
  });

  it('a delta frame whose lengths do not fit the bytes is refused', () => {
    const pb = Buffer.from(encodePublication(text('new'), undefined, undefined, 0));
    const prev = Buffer.from(encodePublication(text('old'), undefined, undefined, 0));
    const frames = [
      Buffer.concat([Buffer.from(`__d1:7:ep:${prev.length + 40}:`), prev, Buffer.from(`:${pb.length}:`), pb]),
      Buffer.concat([Buffer.from(`__d1:7:ep:${prev.length - 1}:`), prev, Buffer.from(`:${pb.length}:`), pb]),
      Buffer.concat([Buffer.from(`__d1:7:ep:${prev.length}:`), prev, Buffer.from(`:${pb.length + 1}:`), pb]),
      Buffer.from('__d1:7:ep:-1::3:abc'),
    ];
    for (const f of frames) assert.throws(() => parsePush(f), WireError, f.toString('latin1'));
  });

  it('Publication.delta (8) is written only when asked, and never decoded into what clients get', () => {
    const plain = encodePublication(text('x'), undefined, undefined, 5);
    const flagged = encodePublication(text('x'), undefined, undefined, 5, true);
    assert.deepEqual([...flagged.subarray(plain.length - 2, plain.length)], [0x40, 0x01], 'field 8 before time (9)');
    assert.equal(flagged.length, plain.length + 2);
    const d = parsePush(flagged);
    assert.ok(d.kind === 'publication');
    assert.equal(d.decoded.pub.delta, undefined);
    assert.equal(d.decoded.timeMs, 5);
  });

  it('rejects malformed payloads with WireError', () => {
    for (const bad of ['__x__', '__p1:abc', '__p1:x:y__', '__j_']) {
      assert.throws(() => parsePush(Buffer.from(bad)), WireError, bad);
    }
    assert.throws(() => parsePush(Buffer.from([0x22, 0x10, 0x01])), WireError, 'truncated field');
  });
});

describe('redis shard index and key names', () => {
  it('matches centrifuge consistentIndex (values computed with its Go code)', () => {
    const vectors: [string, number, number, number][] = [
      ['a', 1, 2, 2],
      ['ch1', 1, 1, 5],
      ['news:sport', 1, 1, 4],
      ['привет', 1, 1, 3],
      ['x#42', 1, 1, 5],
      ['ct_abcdef', 1, 1, 6],
    ];
    for (const [ch, two, three, seven] of vectors) {
      assert.deepEqual([consistentIndex(ch, 2), consistentIndex(ch, 3), consistentIndex(ch, 7)], [two, three, seven], ch);
    }
    assert.equal(consistentIndex('anything', 1), 0);
  });

  it('names keys as centrifuge does, with {channel} hash tags on a cluster', () => {
    const k = keyNames('centrifugo', false);
    assert.equal(k.stream('ch1'), 'centrifugo.stream.ch1');
    assert.equal(k.streamMeta('ch1'), 'centrifugo.stream.meta.ch1');
    assert.equal(k.result('ch1', 'ik'), 'centrifugo.result.ch1.ik');
    assert.equal(k.pubsub('ch1'), 'centrifugo.client.ch1');
    assert.equal(k.presenceData('ch1'), 'centrifugo.presence.data.ch1');
    assert.equal(k.presenceExpire('ch1'), 'centrifugo.presence.expire.ch1');
    assert.equal(k.control, 'centrifugo.control');
    assert.equal(k.node('n1'), 'centrifugo.node.n1');
    assert.equal(k.channelOf('centrifugo.client.a:b'), 'a:b');
    assert.equal(k.channelOf('centrifugo.control'), undefined);
    const c = keyNames('p', true);
    assert.equal(c.stream('ch'), 'p.stream.{ch}');
    assert.equal(c.streamMeta('ch'), 'p.stream.meta.{ch}');
    assert.equal(c.result('ch', 'k'), 'p.result.{ch}.k');
    assert.equal(c.pubsub('ch'), 'p.client.{ch}');
    assert.equal(c.presenceUserClients('ch'), 'p.presence.user.clients.{ch}');
    assert.equal(c.channelOf('p.client.{ch}'), 'ch');
    assert.equal(c.channelOf('p.client.ch'), undefined);
  });
});
