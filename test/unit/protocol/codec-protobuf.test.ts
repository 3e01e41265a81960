import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { num, official } from './official-codec.js';
import { codecFor } from '../../../src/protocol/index.js';
import type { Command, Reply } from '../../../src/protocol/types.js';

const pb = codecFor('protobuf');
const json = codecFor('json');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const txt = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');


describe('protobuf decodeCommands', () => {
  it('decodes the connect frame captured in docs/protocol.md §11', () => {
    const frame = Uint8Array.from([0x0d, 0x08, 0x01, 0x22, 0x09, 0x0a, 0x03, 0x4a, 0x57, 0x54, 0x22, 0x02, 0x6a, 0x73]);
    assert.deepEqual(pb.decodeCommands(frame), { commands: [{ kind: 'connect', id: 1, connect: { token: 'JWT', name: 'js' } }] });
  });

  it('decodes the official client encoding of every command type exactly as the JSON codec does', () => {
    const data = '{"x":[1,2]}';
    const cmds: Array<Record<string, unknown>> = [
      { id: 1, connect: { token: 't', data, subs: { s1: { recover: true, offset: 3, epoch: 'e' } }, name: 'js', version: '1', headers: { 'X-A': 'b' } } },
      { id: 2, subscribe: { channel: 'c', token: 'st', data, positioned: true, recoverable: true, join_leave: true, delta: 'fossil', flag: 3, recover: true, offset: 2 ** 40, epoch: 'E' } },
      { id: 3, unsubscribe: { channel: 'c' } },
      { id: 4, publish: { channel: 'c', data } },
      { id: 5, presence: { channel: 'c' } },
      { id: 6, presence_stats: { channel: 'c' } },
      { id: 7, history: { channel: 'c', limit: -1, since: { offset: 4, epoch: 'e' }, reverse: true } },
      { id: 8, rpc: { method: 'm', data } },
      { send: { data } },
      { id: 10, refresh: { token: 'rt' } },
      { id: 11, sub_refresh: { channel: 'c', token: 'st' } },
      { id: 12, ping: {} },
      {},
    ];
    const toBinary = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(toBinary);
      if (typeof v !== 'object' || v === null) return v;
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = k === 'data' && typeof x === 'string' ? enc(x) : toBinary(x);
      return out;
    };
    const viaPb = pb.decodeCommands(official.encodeCommands(cmds.map((c) => toBinary(c) as object)));
    const viaJson = json.decodeCommands(enc(cmds.map((c) => JSON.stringify(c, (k, v: unknown) => (k === 'data' ? JSON.parse(v as string) : v))).join('\n')));
    assert.equal(viaPb.error, undefined);
    assert.equal(viaJson.error, undefined);
    assert.equal(viaPb.commands.length, cmds.length);
    assert.deepEqual(viaPb.commands, viaJson.commands);
    assert.deepEqual(
      viaPb.commands.map((c) => c.kind),
      ['connect', 'subscribe', 'unsubscribe', 'publish', 'presence', 'presence_stats', 'history', 'rpc', 'send', 'refresh', 'sub_refresh', 'unknown', 'pong'],
    );
    const sub = viaPb.commands[1] as Extract<Command, { kind: 'subscribe' }>;
    assert.equal(sub.subscribe.offset, 2 ** 40); // uint64 Long → number
    assert.equal(txt(sub.subscribe.data), data);
  });

  it('picks the first non-null request in detection order', () => {
    const frame = official.encodeCommands([{ id: 1, publish: { channel: 'p' }, subscribe: { channel: 's' } }]);
    assert.equal(pb.decodeCommands(frame).commands[0]?.kind, 'subscribe');
  });

  it('decodes the pong byte 0x00 and copies payload bytes out of the frame', () => {
    assert.deepEqual(pb.decodeCommands(Uint8Array.from([0x00])), { commands: [{ kind: 'pong', id: 0 }] });
    const frame = official.encodeCommands([{ id: 4, publish: { channel: 'c', data: enc('abc') } }]);
    const cmd = pb.decodeCommands(frame).commands[0] as Extract<Command, { kind: 'publish' }>;
    frame.fill(0);
    assert.equal(txt(cmd.publish.data), 'abc');
  });

  it('reports malformed frames with the commands decoded before', () => {
    const good = official.encodeCommands([{ id: 1, presence: { channel: 'a' } }]);
    const cases: Array<[string, Uint8Array, number]> = [
      ['empty frame', new Uint8Array(0), 0],
      ['truncated length prefix', Uint8Array.from([0x80]), 0],
      ['length beyond the frame', Uint8Array.from([...good, 0x05, 0x08]), 1],
      ['bad wire type', Uint8Array.from([...good, 0x02, 0x0f, 0x01]), 1],
      ['truncated nested message', Uint8Array.from([0x03, 0x22, 0x05, 0x0a]), 0],
    ];
    for (const [name, frame, n] of cases) {
      const r = pb.decodeCommands(frame);
      assert.equal(typeof r.error, 'string', name);
      assert.equal(r.commands.length, n, name);
    }
  });
});

describe('protobuf encode', () => {
  it('ping is an empty Reply, framed as the single byte 0x00', () => {
    assert.equal(pb.pingMessage.length, 0);
    assert.equal(hex(pb.joinFrames([pb.pingMessage])), '00');
  });

  it('encodes the §11 publication push as bare Reply bytes', () => {
    const msg = pb.encodePublicationPush('chat:index', { data: enc('{"text":"hello"}'), offset: 8 });
    assert.equal(hex(msg), `2222120a${hex(enc('chat:index'))}2214${'2210'}${hex(enc('{"text":"hello"}'))}3008`);
    assert.equal(hex(pb.encodePush({ channel: 'chat:index', pub: { data: enc('{"text":"hello"}'), offset: 8 } })), hex(msg));
    // framed: a varint length prefix even for a single message
    assert.equal(hex(pb.joinFrames([msg])), `24${hex(msg)}`);
  });

  it('frameOne frames a lone message as joinFrames does, once per message', () => {
    const a = pb.encodePublicationPush('chat:index', { data: enc('{"text":"hello"}'), offset: 8 });
    const b = pb.encodePublicationPush('chat:index', { data: enc('x'.repeat(200)), offset: 9 });
    const fa = pb.frameOne(a);
    assert.equal(hex(fa), hex(pb.joinFrames([a])));
    assert.equal(pb.frameOne(a), fa, 'the same message again: the same frame');
    const fb = pb.frameOne(b);
    assert.equal(hex(fb), hex(pb.joinFrames([b])), 'a two-byte length prefix');
    assert.notEqual(fb, fa);
    assert.equal(hex(pb.frameOne(pb.pingMessage)), '00');
    assert.equal(json.frameOne(a), a, 'JSON: the message itself');
  });

  it('produces frames the official client decodes', () => {
    const replies: Reply[] = [
      { id: 1, connect: { client: 'c1', version: '6.9.1 OSS', expires: true, ttl: 3540, ping: 25, pong: true, subs: { s: { recoverable: true, offset: 3 } } } },
      {
        id: 2,
        subscribe: {
          recoverable: true,
          epoch: 'kTQnJrWp',
          publications: [{ data: Uint8Array.from([0, 1, 255]), info: { user: '17', client: 'c7', conn_info: enc('{}') }, offset: 7, tags: { k: 'v' } }],
          recovered: true,
          offset: 5,
          positioned: true,
          was_recovering: true,
        },
      },
      { id: 3, error: { code: 100, message: 'internal server error', temporary: true } },
      { id: 4, publish: {} },
      { id: 5, presence: { presence: { c1: { user: '', client: 'c1' } } } },
      { id: 6, presence_stats: { num_clients: 2, num_users: 1 } },
      { id: 7, history: { publications: [], epoch: 'E', offset: 2 ** 40 } },
      { id: 8, rpc: { data: enc('r') } },
    ];
    const msgs = [...replies.map((r) => pb.encodeReply(r)), pb.encodePush({ channel: 'chat', leave: { info: { user: 'u', client: 'c' } } }), pb.pingMessage];
    const out = official.decodeReplies(pb.joinFrames(msgs));
    assert.equal(out.length, msgs.length);
    const get = (i: number, ...path: string[]): unknown => path.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], out[i]);
    assert.equal(get(0, 'connect', 'client'), 'c1');
    assert.equal(get(0, 'connect', 'ttl'), 3540);
    assert.equal(get(0, 'connect', 'pong'), true);
    assert.equal(num(get(0, 'connect', 'subs', 's', 'offset')), 3);
    assert.equal(get(1, 'subscribe', 'epoch'), 'kTQnJrWp');
    assert.equal(num(get(1, 'subscribe', 'offset')), 5);
    const pubs = get(1, 'subscribe', 'publications') as Array<Record<string, unknown>>;
    assert.deepEqual([...(pubs[0]?.['data'] as Uint8Array)], [0, 1, 255]);
    assert.equal(num(pubs[0]?.['offset']), 7);
    assert.equal(get(1, 'subscribe', 'publications', '0', 'info', 'user'), '17');
    assert.deepEqual({ ...(pubs[0]?.['tags'] as object) }, { k: 'v' });
    assert.equal(get(2, 'error', 'code'), 100);
    assert.equal(get(2, 'error', 'temporary'), true);
    assert.equal(get(3, 'id'), 4);
    assert.equal(get(4, 'presence', 'presence', 'c1', 'client'), 'c1');
    assert.equal(get(5, 'presence_stats', 'num_users'), 1);
    assert.equal(num(get(6, 'history', 'offset')), 2 ** 40);
    assert.equal(txt(get(7, 'rpc', 'data') as Uint8Array), 'r');
    assert.equal(get(8, 'push', 'channel'), 'chat');
    assert.equal(get(8, 'push', 'leave', 'info', 'client'), 'c');
    assert.equal(get(9, 'id'), 0); // the ping
    assert.equal(get(9, 'push'), null);
  });

  it('carries any bytes', () => {
    assert.equal(pb.canCarry(Uint8Array.from([0xff, 0x00])), true);
  });
});
