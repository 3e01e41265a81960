// The load generator's raw WebSocket client (loadtest/src/raw-ws.ts) against a real `ws` server, and against
// raw TCP servers for what `ws` will not do (wrong Accept, masked or bad frames, bytes fed one at a time).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';
import { firstFrame, LeanClient } from '../../../loadtest/src/lean-client.js';
import type { ClientSink } from '../../../loadtest/src/lean-client.js';
import { RawWebSocket, ReadyState, targetFor } from '../../../loadtest/src/raw-ws.js';
import type { RawWsHandler } from '../../../loadtest/src/raw-ws.js';
import { FakeServer } from './fake-server.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** What one client saw, in order. */
class Rec {
  opened = false;
  readonly messages: { text: string; bytes: Buffer; binary: boolean }[] = [];
  readonly errors: string[] = [];
  closed: { code: number; reason: string } | null = null;
  readonly order: string[] = [];
}

const handler: RawWsHandler<Rec> = {
  onOpen(ws) {
    ws.ctx.opened = true;
    ws.ctx.order.push('open');
  },
  onMessage(ws, data, isBinary) {
    // Copy: `data` may be a view into a socket chunk.
    ws.ctx.messages.push({ text: data.toString('utf8'), bytes: Buffer.from(data), binary: isBinary });
    ws.ctx.order.push('message');
  },
  onError(ws, code) {
    ws.ctx.errors.push(code);
    ws.ctx.order.push(`error:${code}`);
  },
  onClose(ws, code, reason) {
    assert.equal(ws.ctx.closed, null, 'onClose comes once');
    ws.ctx.closed = { code, reason };
    ws.ctx.order.push('close');
  },
};

function open(url: string, opts: { localAddress?: string; localPort?: number } = {}): RawWebSocket<Rec> {
  return new RawWebSocket(targetFor(url), handler, new Rec(), opts);
}

/** Polls `cond` until it holds; fails after `ms` (every wait here is bounded). */
async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

/** A `ws` server on 127.0.0.1:0; `onConn` gets each server-side socket. */
async function wsServer(onConn: (ws: WebSocket) => void = () => undefined): Promise<{ url: string; wss: WebSocketServer }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', r));
  wss.on('connection', onConn);
  cleanups.push(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  });
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/connection/websocket?x=1`, wss };
}

/**
 * A raw TCP server: reads the upgrade request, then hands the socket, the request head and the correct
 * Accept value to `script`; everything the client sends after the head is collected in `received`.
 */
async function rawServer(script: (s: net.Socket, accept: string, head: string) => void): Promise<{ url: string; received: () => Buffer }> {
  let got = Buffer.alloc(0);
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let headDone = false;
    s.on('data', (chunk: Buffer) => {
      if (headDone) {
        got = Buffer.concat([got, chunk]);
        return;
      }
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      headDone = true;
      const head = buf.toString('latin1', 0, end);
      got = buf.subarray(end + 4);
      const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? '';
      script(s, createHash('sha1').update(key + GUID).digest('base64'), head);
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`, received: () => got };
}

const ok101 = (accept: string): string =>
  `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;

/** An unmasked server frame. */
function serverFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0, len]) : len < 65536 ? Buffer.from([0, 126, len >> 8, len & 0xff]) : Buffer.alloc(10);
  if (len >= 65536) {
    head[1] = 127;
    head.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    head.writeUInt32BE(len >>> 0, 6);
  }
  head[0] = (fin ? 0x80 : 0) | opcode;
  return Buffer.concat([head, payload]);
}

/** Decodes the client's (masked) frames; asserts every one is masked. */
function clientFrames(buf: Buffer): { opcode: number; payload: Buffer }[] {
  const out: { opcode: number; payload: Buffer }[] = [];
  let i = 0;
  while (i + 2 <= buf.length) {
    const b1 = buf[i + 1] ?? 0;
    assert.ok((b1 & 0x80) !== 0, 'client frames are masked');
    let len = b1 & 0x7f;
    let p = i + 2;
    if (len === 126) {
      len = buf.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      len = buf.readUInt32BE(p) * 2 ** 32 + buf.readUInt32BE(p + 4);
      p += 8;
    }
    const mask = buf.subarray(p, p + 4);
    p += 4;
    if (p + len > buf.length) break;
    const payload = Buffer.from(buf.subarray(p, p + len));
    for (let k = 0; k < payload.length; k++) payload[k] = (payload[k] ?? 0) ^ (mask[k & 3] ?? 0);
    out.push({ opcode: (buf[i] ?? 0) & 0x0f, payload });
    i = p + len;
  }
  return out;
}

test('handshake: the request carries path, query, Host and the upgrade headers; then open', async () => {
  let seen: http.IncomingMessage | null = null;
  const { url, wss } = await wsServer();
  wss.on('headers', (_h, req) => (seen = req));
  const ws = open(url);
  await until(() => ws.ctx.opened, 'open');
  assert.equal(ws.readyState, ReadyState.Open);
  const req = seen as http.IncomingMessage | null;
  assert.ok(req !== null);
  assert.equal(req.url, '/connection/websocket?x=1');
  assert.equal(req.headers.host, new URL(url).host);
  assert.equal(req.headers['sec-websocket-version'], '13');
  assert.equal(req.headers['sec-websocket-protocol'], undefined);
  ws.terminate();
  await until(() => ws.ctx.closed !== null, 'close');
  assert.deepEqual(ws.ctx.closed, { code: 1006, reason: '' });
  assert.deepEqual(ws.ctx.errors, []);
});

test('echo: text, binary, 126- and 127-length frames both ways (the ws server checks our masking)', async () => {
  const { url } = await wsServer((s) => s.on('message', (data, isBinary) => s.send(data, { binary: isBinary })));
  const ws = open(url);
  await until(() => ws.ctx.opened, 'open');
  const mid = Buffer.alloc(300, 7);
  const big = Buffer.alloc(70_000);
  for (let i = 0; i < big.length; i++) big[i] = i & 0xff;
  assert.ok(ws.send('héllo'));
  assert.ok(ws.send(Uint8Array.from([0, 1, 2, 255]), true));
  assert.ok(ws.send(mid, true));
  assert.ok(ws.send(big, true));
  assert.ok(ws.send('x'.repeat(125)));
  assert.ok(ws.send(''));
  await until(() => ws.ctx.messages.length === 6, 'six echoes');
  const m = ws.ctx.messages;
  assert.deepEqual([m[0]?.text, m[0]?.binary], ['héllo', false]);
  assert.deepEqual([m[1]?.bytes, m[1]?.binary], [Buffer.from([0, 1, 2, 255]), true]);
  assert.ok(m[2]?.bytes.equals(mid));
  assert.ok(m[3]?.bytes.equals(big), '70,000-byte frame (64-bit length) round trip');
  assert.equal(m[4]?.text, 'x'.repeat(125));
  assert.deepEqual([m[5]?.text, m[5]?.binary], ['', false]);
  ws.close();
});

test('a fragmented message from the server is reassembled; a ping between fragments is answered', async () => {
  const pongs: string[] = [];
  const { url } = await wsServer((s) => {
    s.on('pong', (d) => pongs.push(d.toString()));
    s.send('frag-', { fin: false });
    s.ping('mid');
    s.send('ment-', { fin: false });
    s.send('ed', { fin: true });
    s.send(Buffer.from([1, 2]), { binary: true, fin: false });
    s.send(Buffer.from([3]), { binary: true, fin: true });
  });
  const ws = open(url);
  await until(() => ws.ctx.messages.length === 2 && pongs.length === 1, 'two messages and a pong');
  assert.deepEqual(
    ws.ctx.messages.map((m) => [m.text, m.binary]),
    [
      ['frag-ment-ed', false],
      ['\u0001\u0002\u0003', true],
    ],
  );
  assert.deepEqual(pongs, ['mid']);
  ws.close();
});

test('ping → pong with the same payload', async () => {
  const pongs: Buffer[] = [];
  const { url } = await wsServer((s) => {
    s.on('pong', (d) => pongs.push(d));
    s.ping(Buffer.from([9, 8, 7]));
    s.ping();
  });
  const ws = open(url);
  await until(() => pongs.length === 2, 'two pongs');
  assert.deepEqual(pongs, [Buffer.from([9, 8, 7]), Buffer.alloc(0)]);
  ws.close();
});

test('server close with code and reason reaches onClose; our answer echoes the code', async () => {
  let serverSaw: number | null = null;
  const { url } = await wsServer((s) => {
    s.on('close', (code) => (serverSaw = code));
    s.close(4001, 'bye now');
  });
  const ws = open(url);
  await until(() => ws.ctx.closed !== null, 'close');
  assert.deepEqual(ws.ctx.closed, { code: 4001, reason: 'bye now' });
  assert.deepEqual(ws.ctx.order, ['open', 'close']);
  await until(() => serverSaw !== null, 'server close event');
  assert.equal(serverSaw, 4001);
});

test('client close: the handshake completes with the server echo; send() refuses afterwards', async () => {
  let serverSaw: [number, string] | null = null;
  const { url } = await wsServer((s) => s.on('close', (code, reason) => (serverSaw = [code, reason.toString()])));
  const ws = open(url);
  await until(() => ws.ctx.opened, 'open');
  ws.close(1000, 'done');
  assert.equal(ws.readyState, ReadyState.Closing);
  assert.equal(ws.send('late'), false);
  await until(() => ws.ctx.closed !== null, 'close');
  assert.deepEqual(ws.ctx.closed, { code: 1000, reason: 'done' });
  assert.deepEqual(serverSaw, [1000, 'done']);
  assert.equal(ws.readyState, ReadyState.Closed);
});

test('a TCP drop without a close frame is code 1006, with the errno if there was one', async () => {
  const { url } = await wsServer((s) => setTimeout(() => s.terminate(), 20));
  const ws = open(url);
  await until(() => ws.ctx.closed !== null, 'close');
  assert.equal(ws.ctx.closed?.code, 1006);
  assert.ok(ws.ctx.errors.every((e) => e === 'ECONNRESET'), ws.ctx.errors.join());
});

test('a non-101 answer fails with http_<status>, then onClose 1006', async () => {
  const server = http.createServer((_req, res) => res.end());
  server.on('upgrade', (_req, socket: net.Socket) => socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const ws = open(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/connection/websocket`);
  await until(() => ws.ctx.closed !== null, 'close');
  assert.deepEqual(ws.ctx.order, ['error:http_403', 'close']);
  assert.equal(ws.ctx.closed?.code, 1006);
});

test('handshake checks: wrong Accept, missing Upgrade, an unoffered extension, garbage, an oversized head', async () => {
  const cases: [string, (accept: string) => string][] = [
    ['bad_accept', () => ok101('d3JvbmcgYWNjZXB0IHZhbHVlIQ==')],
    ['bad_upgrade', (a) => `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${a}\r\n\r\n`],
    ['bad_extensions', (a) => ok101(a).replace('\r\n\r\n', '\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n')],
    ['bad_subprotocol', (a) => ok101(a).replace('\r\n\r\n', '\r\nSec-WebSocket-Protocol: chat\r\n\r\n')],
    ['bad_handshake', () => 'SSH-2.0-OpenSSH\r\n\r\n'],
    ['handshake_too_large', (a) => `${ok101(a).slice(0, -2)}X-Pad: ${'p'.repeat(20_000)}\r\n\r\n`],
  ];
  for (const [cause, answer] of cases) {
    const { url } = await rawServer((s, accept) => s.write(answer(accept)));
    const ws = open(url);
    await until(() => ws.ctx.closed !== null, `close (${cause})`);
    assert.deepEqual(ws.ctx.order, [`error:${cause}`, 'close'], cause);
  }
});

test('frames in the same chunk as the 101 are not lost', async () => {
  const { url } = await rawServer((s, accept) => {
    s.write(Buffer.concat([Buffer.from(ok101(accept)), serverFrame(1, Buffer.from('one')), serverFrame(1, Buffer.from('two'))]));
  });
  const ws = open(url);
  await until(() => ws.ctx.messages.length === 2, 'two messages');
  assert.deepEqual(
    ws.ctx.messages.map((m) => m.text),
    ['one', 'two'],
  );
  ws.terminate();
});

test('head and frames fed one byte at a time (126/127 lengths, fragments, ping, close) parse the same', async () => {
  const mid = Buffer.alloc(300, 0x61);
  const big = Buffer.alloc(70_000, 0x62);
  let accept = '';
  const stream = (): Buffer =>
    Buffer.concat([
      Buffer.from(ok101(accept)),
      serverFrame(1, Buffer.from('hi')),
      serverFrame(2, mid),
      serverFrame(1, Buffer.from('ab'), false),
      serverFrame(9, Buffer.from('pp')),
      serverFrame(0, Buffer.from('cd'), true),
      serverFrame(2, big),
      serverFrame(8, Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('end')])),
    ]);
  const { url, received } = await rawServer((s, a) => {
    accept = a;
    const all = stream();
    // One byte per event-loop turn up to the big frame's payload, then 7-byte pieces (so every header and
    // length field is split, and the 70 kB payload arrives in 10,000 chunks).
    const bigStart = all.length - big.length - 9;
    let at = 0;
    const step = (): void => {
      if (s.destroyed || at >= all.length) return;
      const n = at < bigStart ? 1 : 7;
      s.write(all.subarray(at, at + n));
      at += n;
      setImmediate(step);
    };
    step();
  });
  const ws = open(url);
  await until(() => ws.ctx.closed !== null, 'close', 20_000);
  assert.deepEqual(ws.ctx.errors, []);
  const m = ws.ctx.messages;
  assert.equal(m.length, 4);
  assert.equal(m[0]?.text, 'hi');
  assert.ok(m[1]?.binary === true && m[1].bytes.equals(mid));
  assert.equal(m[2]?.text, 'abcd');
  assert.ok(m[3]?.binary === true && m[3].bytes.equals(big));
  assert.deepEqual(ws.ctx.closed, { code: 1000, reason: 'end' });
  const sent = clientFrames(received());
  assert.deepEqual(
    sent.map((f) => [f.opcode, f.payload.toString('latin1')]),
    [
      [0xa, 'pp'],
      [0x8, '\u0003\u00e8'],
    ],
  );
});

test('protocol violations close with 1002: a masked server frame, a bad opcode, a stray continuation', async () => {
  const bad: Buffer[] = [
    Buffer.from([0x81, 0x82, 1, 2, 3, 4, 0x61 ^ 1, 0x62 ^ 2]),
    serverFrame(3, Buffer.from('x')),
    serverFrame(0, Buffer.from('x')),
    serverFrame(9, Buffer.from('x'), false),
  ];
  for (const frame of bad) {
    const { url, received } = await rawServer((s, accept) => {
      s.write(Buffer.concat([Buffer.from(ok101(accept)), frame]));
      // End once the client's close frame arrives (a well-behaved server would answer it first).
      setTimeout(() => s.end(), 50);
    });
    const ws = open(url);
    await until(() => ws.ctx.closed !== null, 'close');
    assert.equal(ws.ctx.closed?.code, 1002, frame.toString('hex'));
    assert.deepEqual(ws.ctx.messages, []);
    const sent = clientFrames(received());
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.opcode, 8);
    assert.equal(sent[0]?.payload.readUInt16BE(0), 1002);
  }
});

test('a frame above maxPayload closes with 1009', async () => {
  const { url } = await rawServer((s, accept) => {
    s.write(Buffer.concat([Buffer.from(ok101(accept)), serverFrame(2, Buffer.alloc(2000))]));
    setTimeout(() => s.end(), 50);
  });
  const ws = new RawWebSocket(targetFor(url), handler, new Rec(), { maxPayload: 1000 });
  await until(() => ws.ctx.closed !== null, 'close');
  assert.equal(ws.ctx.closed?.code, 1009);
  assert.deepEqual(ws.ctx.messages, []);
});

test('connection refused → ECONNREFUSED, then onClose 1006', async () => {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const ws = open(`ws://127.0.0.1:${port}/`);
  await until(() => ws.ctx.closed !== null, 'close');
  assert.deepEqual(ws.ctx.order, ['error:ECONNREFUSED', 'close']);
  assert.equal(ws.ctx.closed?.code, 1006);
});

test('only ws:// URLs are accepted', () => {
  assert.throws(() => targetFor('wss://127.0.0.1:1/'), /ws:\/\/ URLs only/);
});

// ---- LeanClient over raw-ws -------------------------------------------------------------------------

/** A sink that records outcomes by kind. */
function recordingSink(): { sink: ClientSink; log: string[] } {
  const log: string[] = [];
  const sink: ClientSink = {
    onConnected: () => log.push('connected'),
    onSubscribed: (_c, ms) => log.push(ms >= 0 ? 'subscribed' : 'bad-elapsed'),
    onFailure: (_c, cause) => log.push(`failure:${cause}`),
    onDrop: (_c, cause) => log.push(`drop:${cause}`),
    onPublication: () => log.push('publication'),
    onReply: () => log.push('reply'),
    onPing: () => log.push('ping'),
  };
  return { sink, log };
}

test('LeanClient: subscribes, answers pings, reports http_503, and retries a taken source port', async () => {
  const fake = new FakeServer({ pingMs: 50, rejectFirst: 1 });
  const { url } = await fake.listen();
  cleanups.push(() => fake.close());

  const { sink, log } = recordingSink();
  const rejected = new LeanClient(0, 'ch', { url, connectTimeoutMs: 5000 }, sink);
  rejected.open(firstFrame(null, 'ch'));
  await until(() => log.length > 0 && !rejected.isOpen, 'failure');
  assert.deepEqual(log, ['failure:http_503']);

  // A listener holds 127.0.0.2:<port>: binding to it fails with EADDRINUSE, and the client retries with a
  // kernel-chosen port (conn-pool pre-assigns ports; TIME_WAIT collisions are the real-world case).
  const holder = net.createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.2', r));
  cleanups.push(() => new Promise<void>((r) => holder.close(() => r())));
  const taken = (holder.address() as AddressInfo).port;
  log.length = 0;
  const c = new LeanClient(1, 'ch', { url, localAddress: '127.0.0.2', connectTimeoutMs: 5000 }, sink);
  c.localPort = taken;
  c.open(firstFrame(null, 'ch'));
  await until(() => log.includes('subscribed'), 'subscribed');
  assert.deepEqual(log.slice(0, 2), ['connected', 'subscribed']);
  assert.ok(fake.remoteAddresses.has('127.0.0.2'));
  const pongsBefore = fake.pongs;
  await until(() => fake.pongs > pongsBefore, 'a pong reached the server');
  assert.ok(log.includes('ping'));
  assert.ok(c.send('{"id":3,"publish":{"channel":"ch","data":{}}}'));
  await until(() => log.includes('reply') || log.includes('publication'), 'publish answered');

  // Server-side close code becomes a drop cause.
  log.length = 0;
  fake.dropAll(3001, 'shutdown');
  await until(() => log.some((l) => l.startsWith('drop:')), 'drop');
  assert.ok(log.includes('drop:close_3001'), log.join());
  assert.equal(c.isOpen, false);
  assert.equal(c.send('{}'), false);
});

test('LeanClient: connect timeout against a server that never answers the upgrade', async () => {
  const silent = net.createServer((s) => s.on('error', () => undefined));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  cleanups.push(async () => {
    await new Promise<void>((r) => silent.close(() => r()));
  });
  const { sink, log } = recordingSink();
  const c = new LeanClient(0, 'ch', { url: `ws://127.0.0.1:${(silent.address() as AddressInfo).port}/`, connectTimeoutMs: 100 }, sink);
  c.open(firstFrame(null, 'ch'));
  await until(() => log.length > 0 && !c.isOpen, 'timeout');
  assert.deepEqual(log, ['failure:timeout']);
});
