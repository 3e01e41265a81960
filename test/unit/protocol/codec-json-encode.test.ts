import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bareJsonPush, codecFor } from '../../../src/protocol/index.js';
import type { Publication, Push, Reply } from '../../../src/protocol/types.js';

const codec = codecFor('json');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const txt = (b: Uint8Array): string => new TextDecoder().decode(b);
const reply = (r: Reply): string => txt(codec.encodeReply(r));
const push = (p: Push): string => txt(codec.encodePush(p));

const CLIENT7 = '5f0e2a9c-3b1d-4c6e-9a8f-7e6d5c4b3a21';

describe('JSON encode: docs/protocol.md §11 frames, byte for byte', () => {
  const connectReply: Reply = {
    id: 1,
    connect: {
      client: '9a3b7c52-1d4e-4f7a-8b2c-6e5d4c3b2a10',
      version: '6.9.1 OSS',
      expires: true,
      ttl: 3540,
      ping: 25,
      pong: true,
    },
  };
  const CONNECT =
    '{"id":1,"connect":{"client":"9a3b7c52-1d4e-4f7a-8b2c-6e5d4c3b2a10","version":"6.9.1 OSS","expires":true,"ttl":3540,"ping":25,"pong":true}}';
  const subscribeReply: Reply = {
    id: 2,
    subscribe: {
      recoverable: true,
      epoch: 'kTQnJrWp',
      publications: [
        { data: enc('{"text":"missed #6"}'), offset: 6 },
        { data: enc('{"text":"missed #7"}'), info: { user: '17', client: CLIENT7 }, offset: 7 },
      ],
      recovered: true,
      offset: 5,
      positioned: true,
      was_recovering: true,
    },
  };
  const SUBSCRIBE =
    '{"id":2,"subscribe":{"recoverable":true,"epoch":"kTQnJrWp","publications":[{"data":{"text":"missed #6"},"offset":6},' +
    `{"data":{"text":"missed #7"},"info":{"user":"17","client":"${CLIENT7}"},"offset":7}],"recovered":true,"offset":5,` +
    '"positioned":true,"was_recovering":true}}';
  const PUB = '{"push":{"channel":"chat:index","pub":{"data":{"text":"hello"},"offset":8}}}';

  it('step 2: connect reply', () => assert.equal(reply(connectReply), CONNECT));
  it('step 3: subscribe reply with recovered publications', () => assert.equal(reply(subscribeReply), SUBSCRIBE));
  it('steps 2+3 in one frame: joined by a single newline', () => {
    const frame = codec.joinFrames([codec.encodeReply(connectReply), codec.encodeReply(subscribeReply)]);
    assert.equal(txt(frame), `${CONNECT}\n${SUBSCRIBE}`);
  });
  it('step 5: publication push (hot path and generic path agree)', () => {
    const pub: Publication = { data: enc('{"text":"hello"}'), offset: 8 };
    assert.equal(txt(codec.encodePublicationPush('chat:index', pub)), PUB);
    assert.equal(push({ channel: 'chat:index', pub }), PUB);
  });
  it('step 6: ping is {}', () => {
    assert.equal(txt(codec.pingMessage), '{}');
    assert.equal(txt(codec.joinFrames([codec.pingMessage])), '{}');
  });
  it('emulation: connect reply with session and node', () => {
    assert.equal(
      reply({ id: 1, connect: { client: 'c', version: 'v', ping: 25, pong: true, session: 's', node: 'n' } }),
      '{"id":1,"connect":{"client":"c","version":"v","ping":25,"pong":true,"session":"s","node":"n"}}',
    );
  });
});

describe('JSON encode: omission rules (§1.2)', () => {
  it('writes empty results as {}', () => {
    assert.equal(reply({ id: 3, publish: {} }), '{"id":3,"publish":{}}');
    assert.equal(reply({ id: 4, unsubscribe: {} }), '{"id":4,"unsubscribe":{}}');
    assert.equal(reply({ id: 5, rpc: {} }), '{"id":5,"rpc":{}}');
    assert.equal(reply({ id: 6, sub_refresh: { expires: false, ttl: 0 } }), '{"id":6,"sub_refresh":{}}');
    assert.equal(reply({ id: 7, subscribe: { publications: [], recovered: false, epoch: '', data: enc('') } }), '{"id":7,"subscribe":{}}');
  });
  it('writes temporary only when true', () => {
    assert.equal(reply({ id: 1, error: { code: 103, message: 'permission denied' } }), '{"id":1,"error":{"code":103,"message":"permission denied"}}');
    assert.equal(
      reply({ id: 1, error: { code: 100, message: 'internal server error', temporary: true } }),
      '{"id":1,"error":{"code":100,"message":"internal server error","temporary":true}}',
    );
    assert.equal(reply({ id: 1, error: { code: 100, message: 'x', temporary: false } }), '{"id":1,"error":{"code":100,"message":"x"}}');
  });
  it('always writes ClientInfo.user/client, presence, presence stats and history fields', () => {
    assert.equal(reply({ id: 1, presence: { presence: {} } }), '{"id":1,"presence":{"presence":{}}}');
    assert.equal(
      reply({ id: 1, presence: { presence: { c1: { user: '', client: 'c1', conn_info: enc('{"a":1}') } } } }),
      '{"id":1,"presence":{"presence":{"c1":{"user":"","client":"c1","conn_info":{"a":1}}}}}',
    );
    assert.equal(
      reply({ id: 2, presence_stats: { num_clients: 0, num_users: 0 } }),
      '{"id":2,"presence_stats":{"num_clients":0,"num_users":0}}',
    );
    assert.equal(reply({ id: 3, history: { publications: [], epoch: '', offset: 0 } }), '{"id":3,"history":{"publications":[],"epoch":"","offset":0}}');
    assert.equal(
      reply({ id: 3, history: { publications: [{ data: enc('1'), offset: 9, tags: { k: 'v' } }], epoch: 'E', offset: 9 } }),
      '{"id":3,"history":{"publications":[{"data":1,"offset":9,"tags":{"k":"v"}}],"epoch":"E","offset":9}}',
    );
  });
  it('writes refresh results in proto order and omits zero values', () => {
    assert.equal(reply({ id: 9, refresh: { expires: true, ttl: 60 } }), '{"id":9,"refresh":{"expires":true,"ttl":60}}');
    assert.equal(
      reply({ id: 9, refresh: { client: 'c', version: 'v', expires: false, ttl: 0 } }),
      '{"id":9,"refresh":{"client":"c","version":"v"}}',
    );
  });
  it('writes connect subs and data', () => {
    assert.equal(
      reply({ id: 1, connect: { client: 'c', version: '', data: enc('{"d":1}'), subs: { 'a"b': { recoverable: true, offset: 2 } }, time: 5 } }),
      '{"id":1,"connect":{"client":"c","data":{"d":1},"subs":{"a\\"b":{"recoverable":true,"offset":2}},"time":5}}',
    );
  });
});

describe('JSON encode: pushes', () => {
  const info = { user: '42', client: 'u', chan_info: enc('{"r":"admin"}') };
  const cases: Array<[string, Push, string]> = [
    ['join', { channel: 'chat', join: { info } }, '{"push":{"channel":"chat","join":{"info":{"user":"42","client":"u","chan_info":{"r":"admin"}}}}}'],
    ['leave', { channel: 'chat', leave: { info: { user: '', client: 'u' } } }, '{"push":{"channel":"chat","leave":{"info":{"user":"","client":"u"}}}}'],
    [
      'unsubscribe',
      { channel: 'chat', unsubscribe: { code: 2000, reason: 'server unsubscribe' } },
      '{"push":{"channel":"chat","unsubscribe":{"code":2000,"reason":"server unsubscribe"}}}',
    ],
    ['message', { message: { data: enc('{"m":1}') } }, '{"push":{"message":{"data":{"m":1}}}}'],
    [
      'subscribe',
      { channel: 'x', subscribe: { recoverable: true, epoch: 'E', offset: 3, positioned: true } },
      '{"push":{"channel":"x","subscribe":{"recoverable":true,"epoch":"E","offset":3,"positioned":true}}}',
    ],
    ['disconnect', { disconnect: { code: 3001, reason: 'shutdown' } }, '{"push":{"disconnect":{"code":3001,"reason":"shutdown"}}}'],
    ['refresh', { refresh: { expires: true, ttl: 3600 } }, '{"push":{"refresh":{"expires":true,"ttl":3600}}}'],
    [
      'connect (push order: data and subs before expires)',
      { connect: { client: 'c', version: 'v', expires: true, ttl: 10, data: enc('1'), subs: { s: { epoch: 'E' } }, ping: 25, session: 's' } },
      '{"push":{"connect":{"client":"c","version":"v","data":1,"subs":{"s":{"epoch":"E"}},"expires":true,"ttl":10,"ping":25,"session":"s"}}}',
    ],
  ];
  for (const [name, p, expected] of cases) it(name, () => assert.equal(push(p), expected));

  it('bareJsonPush strips the Reply wrapper without copying', () => {
    const r = codec.encodePush({ disconnect: { code: 3001, reason: 'shutdown' } });
    const bare = bareJsonPush(r);
    assert.equal(txt(bare), '{"disconnect":{"code":3001,"reason":"shutdown"}}');
    assert.equal(bare.buffer, r.buffer);
  });
});

describe('JSON encode: publications and raw data', () => {
  it('writes every publication field in proto order', () => {
    const pub: Publication = {
      data: enc('{"a":1}'),
      info: { user: 'u', client: 'c', conn_info: enc('{"n":"x"}'), chan_info: enc('[1]') },
      offset: 12,
      tags: { b: '2', a: 'é"' },
      delta: true,
      time: 1700000000000,
      channel: 'wild:1',
    };
    const expected =
      '{"push":{"channel":"ch","pub":{"data":{"a":1},"info":{"user":"u","client":"c","conn_info":{"n":"x"},"chan_info":[1]},' +
      '"offset":12,"tags":{"b":"2","a":"é\\""},"delta":true,"time":1700000000000,"channel":"wild:1"}}}';
    assert.equal(txt(codec.encodePublicationPush('ch', pub)), expected);
    assert.equal(push({ channel: 'ch', pub }), expected);
  });

  it('strips newline bytes from raw payloads', () => {
    const data = enc('{\n  "a": [1,\n2]\n}\n');
    assert.equal(txt(codec.encodePublicationPush('c', { data })), '{"push":{"channel":"c","pub":{"data":{  "a": [1,2]}}}}');
    assert.equal(reply({ id: 1, rpc: { data } }), '{"id":1,"rpc":{"data":{  "a": [1,2]}}}');
  });

  it('escapes channel names and keeps the single-entry channel cache correct', () => {
    const names = ['a', 'b"\\', 'a', 'ünï\u2028😀', 'ctl\u0001\n', 'a'];
    for (const ch of names) {
      const out = txt(codec.encodePublicationPush(ch, { data: enc('true') }));
      assert.ok(!out.includes('\n'));
      assert.deepEqual(JSON.parse(out), { push: { channel: ch, pub: { data: true } } });
    }
  });

  it('omits an empty channel and empty data', () => {
    assert.equal(txt(codec.encodePublicationPush('', { data: enc('') })), '{"push":{"pub":{}}}');
  });

  it('handles payloads larger than the scratch buffer, and stays correct afterwards', () => {
    const big = `{"s":"${'x'.repeat(2 * 1024 * 1024)}"}`;
    const out = codec.encodePublicationPush('big', { data: enc(big), offset: 1 });
    assert.equal(out.length, '{"push":{"channel":"big","pub":{"data":,"offset":1}}}'.length + big.length);
    assert.equal(txt(out.subarray(out.length - 16)), '"},"offset":1}}}');
    assert.equal(txt(codec.encodePublicationPush('s', { data: enc('2') })), '{"push":{"channel":"s","pub":{"data":2}}}');
  });

  it('keeps every returned message intact across slab and scratch boundaries', () => {
    const sizes = [1, 10, 700, 5000, 15000, 17000, 3, 40000, 70000, 2, 16300, 65000, 900, 1];
    const expected: string[] = [];
    const outputs: Uint8Array[] = [];
    for (let round = 0; round < 12; round++) {
      for (const [i, size] of sizes.entries()) {
        const data = `"${String.fromCharCode(97 + ((i + round) % 26)).repeat(size)}"`;
        const ch = `ch${round}-${i}`;
        expected.push(`{"push":{"channel":"${ch}","pub":{"data":${data},"offset":${i + 1}}}}`);
        outputs.push(codec.encodePublicationPush(ch, { data: enc(data), offset: i + 1 }));
        if (i % 3 === 0) {
          outputs.push(codec.encodeReply({ id: i + 1, publish: {} }));
          expected.push(`{"id":${i + 1},"publish":{}}`);
        }
      }
    }
    assert.equal(outputs.length, expected.length);
    for (let i = 0; i < outputs.length; i++) assert.equal(txt(outputs[i] as Uint8Array), expected[i]);
  });

  it('returns independent arrays (the scratch buffer is not shared with callers)', () => {
    const a = codec.encodePublicationPush('c', { data: enc('1') });
    const b = codec.encodePublicationPush('c', { data: enc('2') });
    assert.equal(txt(a), '{"push":{"channel":"c","pub":{"data":1}}}');
    assert.equal(txt(b), '{"push":{"channel":"c","pub":{"data":2}}}');
  });
});

describe('JSON canCarry', () => {
  it('accepts valid JSON text', () => {
    for (const s of ['{"a":1}', '"x"', '1', ' [ ] ', 'null', '{"u":"é😀"}']) assert.equal(codec.canCarry(enc(s)), true, s);
    assert.equal(codec.canCarry(new Uint8Array(0)), true);
  });
  it('rejects binary and malformed data', () => {
    for (const s of ['{', '{"a":1}{}', 'nul', "{'a':1}", '\uFEFF{}']) assert.equal(codec.canCarry(enc(s)), false, s);
    assert.equal(codec.canCarry(Uint8Array.from([0xff, 0xfe, 0x00])), false);
    assert.equal(codec.canCarry(Uint8Array.from([0x22, 0xc3, 0x22])), false); // invalid UTF-8 inside a string
  });
});
