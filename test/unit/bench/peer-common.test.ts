import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePeerFlags, parsePublishBody } from '../../../bench/peers/common.js';
import { parseTableArgs } from '../../../bench/lib/table-args.js';
import { sendTimeOf } from '../../../bench/peers/socketio-messages.js';
import { keyErrorLine } from '../../../bench/lib/run-process.js';

test('parsePublishBody keeps data as JSON text and rejects bad bodies', () => {
  assert.deepEqual(parsePublishBody('{"channel":"a","data":{"x":[1,2]}}'), { channel: 'a', data: { x: [1, 2] }, dataJson: '{"x":[1,2]}' });
  assert.deepEqual(parsePublishBody('{"channel":"a","data":null}')?.dataJson, 'null');
  assert.equal(parsePublishBody('{"channel":"","data":1}'), null);
  assert.equal(parsePublishBody('{"channel":"a"}'), null);
  assert.equal(parsePublishBody('[1]'), null);
  assert.equal(parsePublishBody('{'), null);
});

test('parsePeerFlags', () => {
  assert.deepEqual(parsePeerFlags(['--port', '9000', '--api-key', 'k', '--ping', '5']), { host: '127.0.0.1', port: 9000, apiKey: 'k', pingSec: 5 });
  assert.throws(() => parsePeerFlags(['--port', '70000']));
  assert.throws(() => parsePeerFlags(['--ping', '0']));
});

test('sendTimeOf reads gyre-bench payload timestamps', () => {
  assert.equal(sendTimeOf({ seq: 1, ts: 123.5, pad: 'x' }), 123.5);
  assert.equal(sendTimeOf({ seq: 1 }), null);
  assert.equal(sendTimeOf('x'), null);
});

test('parseTableArgs: defaults, canonical peer order, validation', () => {
  const a = parseTableArgs(['--quick', '--only', 'ws-bare,gyre', '--runs', '2']);
  assert.equal(a.quick, true);
  assert.equal(a.runs, 2);
  assert.deepEqual(a.peers, ['gyre', 'ws-bare']);
  assert.equal(parseTableArgs([]).runs, 3);
  assert.deepEqual(parseTableArgs([]).peers, ['gyre', 'centrifugo', 'socketio', 'ws-bare']);
  assert.throws(() => parseTableArgs(['--only', 'nats']), /unknown peer/);
  assert.throws(() => parseTableArgs(['--runs', '0']));
});

test('keyErrorLine picks the last error line of a stack dump', () => {
  const stderr = 'node:internal/x\n    triggerUncaughtException(\nError [ERR_MODULE_NOT_FOUND]: Cannot find module x\n    at foo (a.js:1)\n\nNode.js v20\n';
  assert.equal(keyErrorLine(stderr), 'Error [ERR_MODULE_NOT_FOUND]: Cannot find module x');
  assert.equal(keyErrorLine('just this\n'), 'just this');
  assert.equal(keyErrorLine(''), '');
});
