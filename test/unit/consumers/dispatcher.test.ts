// Centrifugo's consuming rules on top of the real server API executor (src/consumers/dispatcher.ts): which methods
// run, the envelope form, what is skipped and what is retried. The node behind the executor is the scripted one
// of the API unit tests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { ApiExecutor } from '../../../src/api/executor.js';
import { ConsumedCommandDispatcher, decodeEnvelope } from '../../../src/consumers/dispatcher.js';
import { RetryableDispatchError } from '../../../src/consumers/types.js';
import { ProtocolError } from '../../../src/protocol/errors.js';
import { FakeNode } from '../api/fake-node.js';

const logger = pino({ level: 'silent' });
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

function setup(): { node: FakeNode; d: ConsumedCommandDispatcher } {
  const node = new FakeNode();
  return { node, d: new ConsumedCommandDispatcher(new ApiExecutor(node, logger, 'consumer'), logger) };
}

describe('ConsumedCommandDispatcher', () => {
  it('runs publish with the payload bytes untouched', async () => {
    const { node, d } = setup();
    assert.equal(await d.dispatch('publish', bytes('{"channel":"a","data":{"x": 1.50,"s":"\\u00e9"}}')), 'done');
    assert.deepEqual(node.calls[0]?.args.slice(0, 2), ['a', '{"x": 1.50,"s":"\\u00e9"}']);
  });

  it('an empty method reads the envelope; its payload may be an object or a JSON string', async () => {
    const { node, d } = setup();
    assert.equal(await d.dispatch('', bytes('{"method":"publish","payload":{"channel":"a","data":{"k":1}}}')), 'done');
    const asString = JSON.stringify({ method: 'publish', payload: JSON.stringify({ channel: 'b', data: [1] }) });
    assert.equal(await d.dispatch('', bytes(asString)), 'done');
    assert.deepEqual(
      node.calls.map((c) => c.args.slice(0, 2)),
      [
        ['a', '{"k":1}'],
        ['b', '[1]'],
      ],
    );
  });

  it('skips unknown and non-consumable methods, malformed payloads and envelopes, without calling the node', async () => {
    const { node, d } = setup();
    for (const [m, p] of [
      ['nope', '{"channel":"a","data":{}}'],
      ['presence', '{"channel":"a"}'],
      ['history', '{"channel":"a"}'],
      ['info', '{}'],
      ['publish', '\u0000garbage'],
      ['publish', '[1,2]'],
      ['publish', '{"channel":5,"data":{}}'],
      ['', '{"method":"publish"'],
      ['', '"just a string"'],
    ] as const) {
      assert.equal(await d.dispatch(m, bytes(p)), 'skipped', `${m} ${p}`);
    }
    assert.equal(node.calls.length, 0);
  });

  it('a non-internal API error is final (skipped); an internal one is retried', async () => {
    const { node, d } = setup();
    assert.equal(await d.dispatch('publish', bytes('{"channel":"","data":{}}')), 'skipped'); // 107
    node.failWith = new ProtocolError(102, 'unknown channel', false);
    assert.equal(await d.dispatch('publish', bytes('{"channel":"x:y","data":{}}')), 'skipped');
    node.failWith = new Error('engine down');
    await assert.rejects(d.dispatch('publish', bytes('{"channel":"a","data":{}}')), RetryableDispatchError);
    await assert.rejects(d.dispatch('unsubscribe', bytes('{"channel":"a","user":"u"}')), RetryableDispatchError);
  });

  it('broadcast is retried when any channel answers an internal error', async () => {
    const { node, d } = setup();
    node.publishImpl = (ch) => (ch === 'bad' ? Promise.reject(new Error('down')) : Promise.resolve({}));
    await assert.rejects(d.dispatch('broadcast', bytes('{"channels":["a","bad"],"data":{}}')), RetryableDispatchError);
    assert.equal(await d.dispatch('broadcast', bytes('{"channels":["a","b"],"data":{}}')), 'done');
  });

  it('runs the other consumable methods', async () => {
    const { node, d } = setup();
    assert.equal(await d.dispatch('subscribe', bytes('{"channel":"a","user":"u"}')), 'done');
    assert.equal(await d.dispatch('disconnect', bytes('{"user":"u"}')), 'done');
    assert.equal(await d.dispatch('refresh', bytes('{"user":"u","expired":true}')), 'done');
    assert.equal(await d.dispatch('history_remove', bytes('{"channel":"a"}')), 'done');
    assert.deepEqual(
      node.calls.map((c) => c.method),
      ['subscribe', 'disconnect', 'refresh', 'historyRemove'],
    );
  });

  it('dispatchPublication: publish for one channel, broadcast for several, options kept', async () => {
    const { node, d } = setup();
    assert.equal(await d.dispatchPublication(['a'], { data: bytes('{"x" : 1}'), idempotencyKey: 'k', delta: false, tags: { t: 'v' } }), 'done');
    assert.equal(await d.dispatchPublication(['b', 'c'], { data: bytes('2'), idempotencyKey: '', delta: false }), 'done');
    assert.equal(await d.dispatchPublication([], { data: bytes('3'), idempotencyKey: '', delta: false }), 'skipped');
    assert.deepEqual(
      node.calls.map((c) => c.args),
      [
        ['a', '{"x" : 1}', { idempotencyKey: 'k', tags: { t: 'v' } }],
        ['b', '2', {}],
        ['c', '2', {}],
      ],
    );
    node.failWith = new Error('down');
    await assert.rejects(d.dispatchPublication(['a'], { data: bytes('1'), idempotencyKey: '', delta: false }), RetryableDispatchError);
  });

  it('decodeEnvelope: method and payload bytes', () => {
    const e = decodeEnvelope(bytes('{"payload": {"a" : 1}, "method":"publish"}'));
    assert.equal(e?.method, 'publish');
    assert.equal(new TextDecoder().decode(e?.payload), '{"a" : 1}');
    assert.equal(decodeEnvelope(bytes('{"method":1}')), undefined);
    assert.equal(new TextDecoder().decode(decodeEnvelope(bytes('{"method":"publish"}'))?.payload), 'null');
  });
});
