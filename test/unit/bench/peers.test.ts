// The two Node peers as real child processes: the Centrifugo JSON subset of ws-bare and the Socket.IO peer's
// room + HTTP publish path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { io } from 'socket.io-client';
import { startServer, type RunningServer } from '../../../bench/lib/servers.js';

function frames(ws: WebSocket): (timeoutMs: number) => Promise<string> {
  const queue: string[] = [];
  const waiters: ((s: string) => void)[] = [];
  ws.on('message', (d: Buffer, isBinary: boolean) => {
    const s = `${isBinary ? 'BINARY:' : ''}${d.toString('utf8')}`;
    const w = waiters.shift();
    if (w !== undefined) w(s);
    else queue.push(s);
  });
  return (timeoutMs) =>
    new Promise((resolve, reject) => {
      const q = queue.shift();
      if (q !== undefined) return resolve(q);
      const timer = setTimeout(() => reject(new Error('no frame')), timeoutMs);
      waiters.push((s) => {
        clearTimeout(timer);
        resolve(s);
      });
    });
}

async function publish(s: RunningServer, key: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(s.publishUrl, { method: 'POST', headers: { 'X-API-Key': key }, body });
  return { status: res.status, text: await res.text() };
}

test('ws-bare: connect+subscribe in one frame, API publish, push, server ping', async () => {
  const s = await startServer('ws-bare', { pingIntervalSec: 1 });
  const ws = new WebSocket(s.clientUrl);
  try {
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    const next = frames(ws);
    ws.send('{"id":1,"connect":{"token":"whatever"}}\n{"id":2,"subscribe":{"channel":"bench-0"}}');
    const connect = JSON.parse(await next(3000)) as { id: number; connect: Record<string, unknown> };
    assert.equal(connect.id, 1);
    assert.equal(connect.connect['version'], 'peer');
    assert.equal(connect.connect['ping'], 1);
    assert.equal(connect.connect['pong'], true);
    assert.equal(typeof connect.connect['client'], 'string');
    assert.equal(await next(3000), '{"id":2,"subscribe":{}}');
    assert.deepEqual(await publish(s, 'wrong', '{"channel":"bench-0","data":1}'), { status: 401, text: '' });
    assert.deepEqual(await publish(s, s.apiKey, '{"channel":"","data":1}'), { status: 200, text: '{"error":{"code":107,"message":"bad request"}}' });
    assert.deepEqual(await publish(s, s.apiKey, '{"channel":"bench-0","data":{"a":1}}'), { status: 200, text: '{"result":{}}' });
    assert.equal(await next(3000), '{"push":{"channel":"bench-0","pub":{"data":{"a":1}}}}');
    assert.equal(await next(3000), '{}'); // ping, as a text frame
    ws.send('{}'); // pong: no answer
    ws.send('{"id":3,"rpc":{}}');
    assert.equal(await next(3000), '{"id":3,"error":{"code":108,"message":"not available"}}');
  } finally {
    ws.terminate();
    await s.stop();
  }
  assert.equal(s.alive(), false);
});

test('socketio: join a room with ack, API publish reaches the room', async () => {
  const s = await startServer('socketio');
  const sock = io(s.clientUrl, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: 5000 });
  try {
    await new Promise<void>((r, j) => sock.once('connect', () => r()).once('connect_error', j));
    const ack = (await sock.timeout(3000).emitWithAck('subscribe', 'bench-0')) as { ok: boolean };
    assert.deepEqual(ack, { ok: true });
    const got = new Promise<unknown>((r) => sock.once('pub', r));
    assert.deepEqual(await publish(s, s.apiKey, '{"channel":"bench-0","data":{"ts":1.5}}'), { status: 200, text: '{"result":{}}' });
    assert.deepEqual(await got, { ts: 1.5 });
    assert.equal((await publish(s, 'wrong', '{"channel":"bench-0","data":1}')).status, 401);
  } finally {
    sock.disconnect();
    await s.stop();
  }
});
