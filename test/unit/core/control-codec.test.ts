// Control messages ⇄ centrifuge's controlpb bytes: every kind round-trips, and the bytes are the canonical
// protobuf encoding with centrifuge's field numbers (checked against hand-assembled frames).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeControl, encodeControl } from '../../../src/core/control/codec.js';
import {
  decodeChannelsRequest,
  decodeChannelsResult,
  encodeChannelsRequest,
  encodeChannelsResult,
} from '../../../src/core/control/channels-survey.js';
import type { ControlBody, ControlCommand } from '../../../src/core/control/messages.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const t = { user: 'u', client: '', session: '', allUsers: false, labelFilter: false };

/** Byte fields as hex (protobufjs decodes bytes into Buffers on Node), for deepEqual. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return `hex:${hex(v)}`;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

function roundTrip(body: ControlBody): unknown {
  const d = decodeControl(encodeControl({ uid: 'node-1', body }));
  assert.ok(d.ok);
  assert.equal(d.cmd.uid, 'node-1');
  return plain(d.cmd.body);
}

describe('control codec', () => {
  it('round-trips every kind', () => {
    const bodies: ControlBody[] = [
      {
        kind: 'node',
        node: {
          uid: 'n',
          name: 'host_8000',
          version: '6.9.1',
          numClients: 3,
          numUsers: 2,
          numChannels: 5,
          numSubs: 7,
          uptime: 99,
          metrics: { interval: 60, items: { 'a.b': 1.5 } },
          data: bytes('00ff'),
        },
      },
      { kind: 'shutdown' },
      { kind: 'disconnect', ...t, whitelist: ['c1', 'c2'], code: 3503, reason: 'force disconnect' },
      { kind: 'unsubscribe', ...t, client: 'c9', channel: 'ch', code: 2000, reason: 'server unsubscribe' },
      {
        kind: 'subscribe',
        ...t,
        channel: 'ns:ch',
        presence: true,
        joinLeave: true,
        pushJoinLeave: true,
        positioned: true,
        recoverable: true,
        expireAt: 1_900_000_000,
        chanInfo: bytes('7b7d'),
        data: bytes('7b2261223a317d'),
        recoverSince: { offset: 2 ** 40, epoch: 'abcd' },
        source: 10,
      },
      { kind: 'refresh', ...t, expired: false, expireAt: 1_900_000_000, info: bytes('7b7d') },
      { kind: 'survey_request', id: 7, op: 'channels', data: bytes('0a0161') },
      { kind: 'survey_response', id: 7, code: 0, data: bytes('') },
      { kind: 'notification', op: 'x', data: bytes('01') },
    ];
    for (const b of bodies) assert.deepEqual(roundTrip(b), plain(b));
    // all_users and a label filter survive decoding (a filter is only flagged: Gyre cannot evaluate it).
    const all = roundTrip({ kind: 'disconnect', ...t, user: '', allUsers: true, whitelist: [], code: 1, reason: 'r' });
    assert.equal((all as { allUsers: boolean }).allUsers, true);
  });

  it('writes centrifuge field numbers, canonical order, defaults omitted', () => {
    const cmd: ControlCommand = {
      uid: 'a',
      body: { kind: 'disconnect', ...t, whitelist: [], code: 3503, reason: 'x' },
    };
    // 0a 01 61: uid; 32 09: field 6 (disconnect) of 9 bytes: user "u", code 3503 (varint af 1b), reason "x".
    assert.equal(hex(encodeControl(cmd)), '0a0161' + '3209' + '0a0175' + '18af1b' + '220178');
    // field 7 (shutdown), empty message
    assert.equal(hex(encodeControl({ uid: 'a', body: { kind: 'shutdown' } })), '0a0161' + '3a00');
    // field 4 (node): uid "a", num_clients 2 (field 4), num_subs 1 (field 10)
    const node = encodeControl({
      uid: 'a',
      body: { kind: 'node', node: { uid: 'a', name: '', version: '', numClients: 2, numUsers: 0, numChannels: 0, numSubs: 1, uptime: 0 } },
    });
    assert.equal(hex(node), '0a0161' + '2207' + '0a0161' + '2002' + '5001');
  });

  it('reads a frame assembled by hand (a Centrifugo node info with metrics)', () => {
    // uid "b"; node { uid "b", name "c", num_users 4, uptime 5, metrics { interval 1.0, items {"k": 2.0} } }
    const metrics = '09000000000000f03f' + '120c' + '0a016b' + '110000000000000040';
    const node = '0a0162' + '120163' + '2804' + '3805' + '42' + (metrics.length / 2).toString(16).padStart(2, '0') + metrics;
    const frame = '0a0162' + '22' + (node.length / 2).toString(16).padStart(2, '0') + node;
    const d = decodeControl(bytes(frame));
    assert.ok(d.ok);
    assert.deepEqual(d.cmd.body, {
      kind: 'node',
      node: {
        uid: 'b',
        name: 'c',
        version: '',
        numClients: 0,
        numUsers: 4,
        numChannels: 0,
        numSubs: 0,
        uptime: 5,
        metrics: { interval: 1, items: { k: 2 } },
      },
    });
  });

  it('malformed bytes are an error value; a body it does not know is `unknown`', () => {
    assert.equal(decodeControl(bytes('ffffffff')).ok, false);
    assert.equal(decodeControl(bytes('0a05')).ok, false); // truncated string
    const d = decodeControl(bytes('0a0161a20600')); // uid + unknown field 100
    assert.ok(d.ok);
    assert.deepEqual(d.cmd, { uid: 'a', body: { kind: 'unknown' } });
  });

  it('channels survey payloads in Centrifugo’s format', () => {
    assert.equal(hex(encodeChannelsRequest('c*')), '0a02632a');
    assert.equal(decodeChannelsRequest(bytes('0a02632a')), 'c*');
    assert.equal(decodeChannelsRequest(bytes('')), '');
    assert.equal(decodeChannelsRequest(bytes('ff')), undefined);
    const counts = new Map([
      ['a', 2],
      ['b', 1],
    ]);
    assert.deepEqual(decodeChannelsResult(encodeChannelsResult(counts)), counts);
    // map entry: key "a" (0a 01 61), value ChannelInfo{num_clients 3} (12 02 08 03)
    assert.deepEqual(decodeChannelsResult(bytes('0a07' + '0a0161' + '12020803')), new Map([['a', 3]]));
  });
});
