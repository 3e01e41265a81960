import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeReplies, encodeCommands } from '../../../src/protocol/client-codec-json.js';
import { codecFor } from '../../../src/protocol/index.js';

const txt = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('client-side JSON codec', () => {
  it('encodes commands newline-joined without a trailing newline', () => {
    const frame = encodeCommands([{ connect: { token: 'JWT', name: 'js' }, id: 1 }, { subscribe: { channel: 'c', flag: 1 }, id: 2 }]);
    assert.equal(txt(frame), '{"connect":{"token":"JWT","name":"js"},"id":1}\n{"subscribe":{"channel":"c","flag":1},"id":2}');
    assert.equal(txt(encodeCommands([{}])), '{}');
  });

  it('round-trips through the server codec', () => {
    const r = codecFor('json').decodeCommands(encodeCommands([{ id: 1, connect: {} }, {}]));
    assert.deepEqual(r, { commands: [{ kind: 'connect', id: 1, connect: {} }, { kind: 'pong', id: 0 }] });
  });

  it('decodes replies from bytes or text, skipping blank lines', () => {
    const server = codecFor('json');
    const frame = server.joinFrames([server.encodeReply({ id: 1, publish: {} }), server.pingMessage]);
    assert.deepEqual(decodeReplies(frame), [{ id: 1, publish: {} }, {}]);
    assert.deepEqual(decodeReplies('{"id":2}\n\n{}\n'), [{ id: 2 }, {}]);
    assert.deepEqual(decodeReplies(''), []);
    assert.throws(() => decodeReplies('{'), SyntaxError);
  });
});
