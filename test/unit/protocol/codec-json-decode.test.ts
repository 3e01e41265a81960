import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codecFor } from '../../../src/protocol/index.js';
import type { Command } from '../../../src/protocol/types.js';

const codec = codecFor('json');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const txt = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);
const decode = (s: string) => codec.decodeCommands(enc(s));

function only(s: string): Command {
  const r = decode(s);
  assert.equal(r.error, undefined, `unexpected error for ${s}`);
  assert.equal(r.commands.length, 1);
  return r.commands[0] as Command;
}

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsImV4cCI6MTc2NzIyOTIwMCwiaWF0IjoxNzY3MjI1NjAwfQ.QfYn9MbezPfeu_T5mjwLGa1cDp3j3VXBnvSgKh32unY';

describe('JSON decodeCommands', () => {
  it('decodes the batched connect + subscribe frame of docs/protocol.md §11 step 1', () => {
    const frame =
      `{"connect":{"token":"${JWT}","name":"js"},"id":1}\n` +
      '{"subscribe":{"channel":"chat:index","flag":1,"recover":true,"offset":5,"epoch":"kTQnJrWp"},"id":2}';
    const r = decode(frame);
    assert.equal(r.error, undefined);
    assert.deepEqual(r.commands, [
      { kind: 'connect', id: 1, connect: { token: JWT, name: 'js' } },
      {
        kind: 'subscribe',
        id: 2,
        subscribe: { channel: 'chat:index', flag: 1, recover: true, offset: 5, epoch: 'kTQnJrWp' },
      },
    ]);
  });

  it('tolerates one trailing newline and CRLF line endings', () => {
    const a = decode('{"id":1,"presence":{"channel":"a"}}\r\n{"id":2,"presence":{"channel":"b"}}\n');
    assert.equal(a.error, undefined);
    assert.deepEqual(
      a.commands.map((c) => c.id),
      [1, 2],
    );
    const b = decode('{}\n\n');
    assert.equal(b.commands.length, 1);
    assert.equal(typeof b.error, 'string'); // only ONE trailing newline is tolerated
  });

  it('maps pong, unknown and id-0 commands', () => {
    assert.deepEqual(only('{}'), { kind: 'pong', id: 0 });
    assert.deepEqual(only('{"id":0}'), { kind: 'pong', id: 0 });
    assert.deepEqual(only('{"ping":{}}'), { kind: 'pong', id: 0 });
    assert.deepEqual(only('{"id":5}'), { kind: 'unknown', id: 5 });
    assert.deepEqual(only('{"id":5,"ping":{}}'), { kind: 'unknown', id: 5 });
    assert.deepEqual(only('{"send":{"data":{"a":1}}}'), { kind: 'send', id: 0, send: { data: enc('{"a":1}') } });
    // id 0 with another request is returned as is: the session answers with 3501
    assert.deepEqual(only('{"subscribe":{"channel":"x"}}'), { kind: 'subscribe', id: 0, subscribe: { channel: 'x' } });
  });

  it('picks the first non-null request in detection order', () => {
    assert.equal(only('{"id":1,"publish":{"channel":"a"},"subscribe":{"channel":"b"}}').kind, 'subscribe');
    assert.equal(only('{"id":1,"rpc":{},"presence":{"channel":"p"}}').kind, 'presence');
    assert.equal(only('{"id":1,"sub_refresh":{"channel":"c"},"refresh":{"token":"t"}}').kind, 'refresh');
    assert.equal(only('{"id":1,"connect":null,"history":{"channel":"h"}}').kind, 'history');
    assert.equal(only('{"id":1,"send":{},"rpc":{"method":"m"}}').kind, 'rpc');
  });

  it('decodes every request type with its fields', () => {
    assert.deepEqual(
      only(
        '{"id":1,"connect":{"token":"t","data":{"x":[1,2]},"subs":{"s1":{"recover":true,"offset":3,"epoch":"e"}},' +
          '"name":"js","version":"1.0","headers":{"X-A":"b"},"flag":0}}',
      ),
      {
        kind: 'connect',
        id: 1,
        connect: {
          token: 't',
          data: enc('{"x":[1,2]}'),
          subs: { s1: { channel: '', recover: true, offset: 3, epoch: 'e' } },
          name: 'js',
          version: '1.0',
          headers: { 'X-A': 'b' },
        },
      },
    );
    assert.deepEqual(
      only(
        '{"id":2,"subscribe":{"channel":"c","token":"st","data":"hi","positioned":true,"recoverable":true,' +
          '"join_leave":true,"delta":"fossil","tf":{"op":"and"},"flag":3,"type":0,"recover":false}}',
      ),
      {
        kind: 'subscribe',
        id: 2,
        subscribe: {
          channel: 'c',
          token: 'st',
          data: enc('"hi"'),
          positioned: true,
          recoverable: true,
          join_leave: true,
          delta: 'fossil',
          tf: { op: 'and' },
          flag: 3,
        },
      },
    );
    assert.deepEqual(only('{"id":3,"unsubscribe":{"channel":"c"}}'), {
      kind: 'unsubscribe',
      id: 3,
      unsubscribe: { channel: 'c' },
    });
    assert.deepEqual(only('{"id":4,"publish":{"channel":"c","data":{ "text" : "é\\n" }}}'), {
      kind: 'publish',
      id: 4,
      publish: { channel: 'c', data: enc('{ "text" : "é\\n" }') },
    });
    assert.deepEqual(only('{"id":5,"presence_stats":{"channel":"c"}}'), {
      kind: 'presence_stats',
      id: 5,
      presence_stats: { channel: 'c' },
    });
    assert.deepEqual(only('{"id":6,"history":{"channel":"c","limit":-1,"since":{"offset":4,"epoch":"e"},"reverse":true}}'), {
      kind: 'history',
      id: 6,
      history: { channel: 'c', limit: -1, since: { offset: 4, epoch: 'e' }, reverse: true },
    });
    assert.deepEqual(only('{"id":7,"history":{"channel":"c","since":{}}}'), {
      kind: 'history',
      id: 7,
      history: { channel: 'c', since: { offset: 0, epoch: '' } },
    });
    assert.deepEqual(only('{"id":8,"rpc":{"method":"m","data":[1]}}'), {
      kind: 'rpc',
      id: 8,
      rpc: { method: 'm', data: enc('[1]') },
    });
    assert.deepEqual(only('{"id":9,"refresh":{}}'), { kind: 'refresh', id: 9, refresh: { token: '' } });
    assert.deepEqual(only('{"id":10,"sub_refresh":{"channel":"c","token":"t"}}'), {
      kind: 'sub_refresh',
      id: 10,
      sub_refresh: { channel: 'c', token: 't' },
    });
  });

  it('treats null fields as absent and keeps "__proto__" map keys as data', () => {
    assert.deepEqual(only('{"id":1,"subscribe":{"channel":"c","token":null,"data":null,"offset":null}}'), {
      kind: 'subscribe',
      id: 1,
      subscribe: { channel: 'c' },
    });
    const c = only('{"id":1,"connect":{"headers":{"__proto__":"x"}}}');
    assert.equal(c.kind, 'connect');
    if (c.kind === 'connect') {
      const h = c.connect.headers ?? {};
      assert.deepEqual(Object.keys(h), ['__proto__']);
      assert.equal(Object.getPrototypeOf(h), Object.prototype);
    }
  });

  it('returns the commands decoded before a bad line, plus an error', () => {
    const r = decode('{"id":1,"presence":{"channel":"a"}}\n{"id":2,"presence":\n{"id":3}');
    assert.equal(r.commands.length, 1);
    assert.equal(r.commands[0]?.id, 1);
    assert.equal(typeof r.error, 'string');
    assert.ok((r.error ?? '').length > 0);
  });

  const bad: Array<[string, string]> = [
    ['empty frame', ''],
    ['only a newline', '\n'],
    ['blank line in the middle', '{}\n\n{}'],
    ['whitespace line', '   '],
    ['array', '[1]'],
    ['number', '5'],
    ['string', '"x"'],
    ['null', 'null'],
    ['truncated', '{"id":1,"connect":{"token":"ab'],
    ['negative id', '{"id":-1}'],
    ['fractional id', '{"id":1.5}'],
    ['string id', '{"id":"1"}'],
    ['id above uint32', '{"id":4294967296}'],
    ['request is a string', '{"id":1,"connect":"x"}'],
    ['request is an array', '{"id":1,"subscribe":[]}'],
    ['unused request has a bad type', '{"id":1,"connect":{},"publish":5}'],
    ['ping is not an object', '{"id":1,"ping":1}'],
    ['channel is a number', '{"id":1,"subscribe":{"channel":1}}'],
    ['recover is a string', '{"id":1,"subscribe":{"channel":"c","recover":"yes"}}'],
    ['negative offset', '{"id":1,"subscribe":{"channel":"c","offset":-2}}'],
    ['limit above int32', '{"id":1,"history":{"channel":"c","limit":2147483648}}'],
    ['since is a number', '{"id":1,"history":{"channel":"c","since":1}}'],
    ['header value not a string', '{"id":1,"connect":{"headers":{"a":1}}}'],
    ['subs value not an object', '{"id":1,"connect":{"subs":{"a":1}}}'],
    ['tf is a string', '{"id":1,"subscribe":{"channel":"c","tf":"x"}}'],
    ['token is an object', '{"id":1,"refresh":{"token":{}}}'],
  ];
  for (const [name, input] of bad) {
    it(`rejects: ${name}`, () => {
      const r = decode(input);
      assert.equal(typeof r.error, 'string');
      assert.ok((r.error ?? '').length > 0);
      assert.deepEqual(
        r.commands.map((c) => c.kind),
        input.startsWith('{}') ? ['pong'] : [],
      );
    });
  }

  it('decodes raw data as the exact bytes of the value (docs/payloads.md)', () => {
    const c = only('{"id":1,"publish":{"channel":"c","data": {"emoji":"\\ud83d\\ude00","n":1.50,"big":9007199254740993} }}');
    assert.equal(c.kind, 'publish');
    if (c.kind === 'publish') assert.equal(txt(c.publish.data), '{"emoji":"\\ud83d\\ude00","n":1.50,"big":9007199254740993}');
  });

  it('keeps data of connect, subs, subscribe, rpc and send as sent; nesting depth is not limited', () => {
    const deep = '['.repeat(20000) + ']'.repeat(20000);
    const lines = [
      '{"id":1,"connect":{"data":1E3,"subs":{"a":{"data":"\\u00e9"}}}}',
      '{"id":2,"subscribe":{"channel":"a","data":[1.10 ]}}',
      '{"id":3,"rpc":{"method":"m","data":123456789012345678901234567890}}',
      '{"send":{"data":1e-7}}',
      `{"id":5,"publish":{"channel":"a","data":${deep}}}`,
    ];
    const r = codec.decodeCommands(enc(lines.join('\n')));
    assert.equal(r.error, undefined);
    const [connect, subscribe, rpc, send, publish] = r.commands;
    assert.ok(connect?.kind === 'connect' && subscribe?.kind === 'subscribe' && rpc?.kind === 'rpc');
    assert.ok(send?.kind === 'send' && publish?.kind === 'publish');
    assert.equal(txt(connect.connect.data), '1E3');
    assert.equal(txt(connect.connect.subs?.['a']?.data), '"\\u00e9"');
    assert.equal(txt(subscribe.subscribe.data), '[1.10 ]');
    assert.equal(txt(rpc.rpc.data), '123456789012345678901234567890');
    assert.equal(txt(send.send.data), '1e-7');
    assert.equal(txt(publish.publish.data), deep);
  });
});
