// The Push bytes on NATS client subjects, against hand-assembled protobuf (centrifugal/protocol client.proto).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  encodePresencePush,
  encodePublicationPush,
  parseNatsPush,
  WireError,
} from '../../../../src/engines/nats/wire.js';

const t = (s: string): number[] => [...new TextEncoder().encode(s)];
const field = (tag: number, body: number[]): number[] => [tag, body.length, ...body];

describe('nats wire', () => {
  it('a publication is Push{channel(2), pub(4){data(4), info(5), tags(7), time(9)}}', () => {
    const bytes = encodePublicationPush('ch', new Uint8Array(t('{"a":1}')), { user: 'u', client: 'c' }, { k: 'v' }, 1);
    const pub = [...field(0x22, t('{"a":1}')), ...field(0x2a, [...field(0x0a, t('u')), ...field(0x12, t('c'))]), ...field(0x3a, [...field(0x0a, t('k')), ...field(0x12, t('v'))]), 0x48, 1];
    assert.deepEqual([...bytes], [...field(0x12, t('ch')), ...field(0x22, pub)]);
    const back = parseNatsPush(bytes);
    assert.equal(back.kind, 'publication');
    if (back.kind !== 'publication') return;
    assert.equal(back.channel, 'ch');
    assert.deepEqual([...back.pub.data], t('{"a":1}'));
    assert.deepEqual(back.pub.tags, { k: 'v' });
    assert.equal(back.pub.info?.user, 'u');
    assert.equal(back.position, undefined);
    assert.equal(back.timeMs, 1);
  });

  it('join is field 5 and leave field 6, each Join/Leave{info(1)}', () => {
    const info = [...field(0x0a, t('u')), ...field(0x12, t('c'))];
    assert.deepEqual([...encodePresencePush('ch', 'join', { user: 'u', client: 'c' })], [...field(0x12, t('ch')), ...field(0x2a, field(0x0a, info))]);
    assert.deepEqual([...encodePresencePush('ch', 'leave', { user: 'u', client: 'c' })], [...field(0x12, t('ch')), ...field(0x32, field(0x0a, info))]);
    const j = parseNatsPush(encodePresencePush('ch', 'leave', { user: 'u', client: 'c' }));
    assert.deepEqual(j, { kind: 'leave', channel: 'ch', info: { user: 'u', client: 'c' } });
  });

  it("a position set elsewhere travels as offset(6) + the __centrifugo_epoch tag, which is stripped", () => {
    const tag = field(0x3a, [...field(0x0a, t('__centrifugo_epoch')), ...field(0x12, t('ep'))]);
    const pub = [...field(0x22, t('x')), 0x30, 7, ...tag];
    const back = parseNatsPush(new Uint8Array([...field(0x12, t('ch')), ...field(0x22, pub)]));
    assert.equal(back.kind, 'publication');
    if (back.kind !== 'publication') return;
    assert.deepEqual(back.position, { offset: 7, epoch: 'ep' });
    assert.equal(back.pub.offset, 7);
    assert.equal(back.pub.tags, undefined);
  });

  it('Gyre sends a position as the same bytes (redisnats): offset(6), the user tags, then the epoch tag', () => {
    const bytes = encodePublicationPush('ch', new Uint8Array(t('x')), undefined, { k: 'v' }, 0, false, { offset: 300, epoch: 'ep' });
    const tags = [...field(0x3a, [...field(0x0a, t('k')), ...field(0x12, t('v'))]), ...field(0x3a, [...field(0x0a, t('__centrifugo_epoch')), ...field(0x12, t('ep'))])];
    const pub = [...field(0x22, t('x')), 0x30, 0xac, 0x02, ...tags];
    assert.deepEqual([...bytes], [...field(0x12, t('ch')), ...field(0x22, pub)]);
    const back = parseNatsPush(bytes);
    assert.equal(back.kind, 'publication');
    if (back.kind !== 'publication') return;
    assert.deepEqual(back.position, { offset: 300, epoch: 'ep' });
    assert.deepEqual(back.pub.tags, { k: 'v' });
  });

  it('malformed input is a WireError, never something else', () => {
    assert.throws(() => parseNatsPush(new Uint8Array([0x12, 5, 1])), WireError);
    assert.throws(() => parseNatsPush(new Uint8Array([0x12, 1, 0x61])), WireError); // no pub/join/leave
    assert.throws(() => parseNatsPush(new Uint8Array([0x0f])), WireError);
  });
});
