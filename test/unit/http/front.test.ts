import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import WebSocket from 'ws';
import { closeFront } from '../../../src/http/server.js';
import { HttpFront } from '../../../src/http/front.js';
import { WebSocketHandler } from '../../../src/transports/websocket.js';
import { waitFor, withTimeout } from '../../harness/wait.js';
import { FakeAcceptor } from '../transports/fake-acceptor.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

interface Setup {
  front: HttpFront;
  http: Server;
  acceptor: FakeAcceptor;
  handler: WebSocketHandler;
  port: number;
  requests: string[];
}

async function setup(headersTimeoutMs = 10_000): Promise<Setup> {
  const acceptor = new FakeAcceptor();
  const handler = new WebSocketHandler({
    websocket: { disabled: false, handler_prefix: '/connection/websocket', compression: false, compression_min_size: 0, compression_level: 1, write_timeout: 1000, message_size_limit: 1024 },
    client: { allowed_origins: [], connection_limit: 0, connection_rate_limit: 0, ip_connection_limit: 0 },
    acceptor,
    logger: pino({ level: 'silent' }),
  });
  const requests: string[] = [];
  const http = createServer({ keepAlive: true }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const line = `${req.method ?? ''} ${req.url ?? ''}`;
      requests.push(`${line} ${body}`);
      res.end(`${line} [${body}]`);
    });
  });
  http.on('upgrade', handler.onUpgrade);
  const front = new HttpFront({ http, upgrade: handler, headersTimeoutMs });
  await new Promise<void>((r) => front.server.listen(0, '127.0.0.1', r));
  return { front, http, acceptor, handler, port: (front.server.address() as AddressInfo).port, requests };
}

async function teardown(s: Setup): Promise<void> {
  await s.handler.close(0);
  await withTimeout(closeFront(s.front), 5000, 'front close');
}

/** Sends raw chunks (with a pause between them) and collects everything until the server closes. */
function raw(port: number, chunks: string[], opts: { gapMs?: number; endAfter?: boolean; tolerateReset?: boolean } = {}): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      const sock = connect(port, '127.0.0.1');
      let got = '';
      sock.setEncoding('latin1');
      sock.on('data', (d: string) => (got += d));
      sock.on('close', () => resolve(got));
      // A server that refuses a large head may reset the connection while the client still writes it.
      sock.on('error', (err) => (opts.tolerateReset === true && got !== '' ? resolve(got) : reject(err)));
      sock.on('connect', () => {
        let i = 0;
        const next = (): void => {
          if (i >= chunks.length) {
            if (opts.endAfter === true) sock.end();
            return;
          }
          sock.write(chunks[i++] ?? '');
          setTimeout(next, opts.gapMs ?? 0);
        };
        next();
      });
    }),
    8000,
    'raw exchange',
  );
}

describe('HttpFront', () => {
  let s: Setup;
  before(async () => {
    s = await setup();
  });
  after(async () => {
    await teardown(s);
  });

  it('upgrades a ws client on the fast path (subprotocol, format, echo)', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/connection/websocket?cf_protocol=protobuf`, ['centrifuge-json']);
    await withTimeout(new Promise((r, j) => ws.once('open', r).once('error', j)), 5000, 'open');
    assert.equal(ws.protocol, 'centrifuge-json');
    const echoed = withTimeout(new Promise<Buffer>((r) => ws.once('message', (d: Buffer) => r(d))), 5000, 'echo');
    ws.send('hello');
    assert.equal((await echoed).toString(), 'hello');
    const t = s.acceptor.transports.at(-1);
    assert.ok(t !== undefined);
    assert.equal(t.info.protocol, 'protobuf');
    assert.equal(t.info.remoteAddress, '127.0.0.1');
    assert.equal(t.info.headers['sec-websocket-protocol'], 'centrifuge-json');
    ws.close();
  });

  it('answers invalid upgrades like ws: 404 other path, 400 bad key, 400 + Sec-WebSocket-Version', async () => {
    const up = (path: string, extra: string[]): string[] => [
      [`GET ${path} HTTP/1.1`, 'Host: x', 'Upgrade: websocket', 'Connection: Upgrade', ...extra, '', ''].join('\r\n'),
    ];
    assert.match(await raw(s.port, up('/other', [`Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13'])), /^HTTP\/1.1 404 /);
    assert.match(await raw(s.port, up('/connection/websocket', ['Sec-WebSocket-Key: nope', 'Sec-WebSocket-Version: 13'])), /^HTTP\/1.1 400 /);
    const v = await raw(s.port, up('/connection/websocket', [`Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 7']));
    assert.match(v, /^HTTP\/1.1 400 /);
    assert.match(v, /\r\nSec-WebSocket-Version: 13, 8\r\n/);
  });

  it('a non-GET upgrade goes through the http.Server and ws (405)', async () => {
    const r = await raw(s.port, [`POST /connection/websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n`]);
    assert.match(r, /^HTTP\/1.1 405 /);
  });

  it('plain GET and POST with a body reach the http handler', async () => {
    const get = await fetch(`http://127.0.0.1:${s.port}/health`);
    assert.equal(await get.text(), 'GET /health []');
    const post = await fetch(`http://127.0.0.1:${s.port}/api`, { method: 'POST', body: 'x'.repeat(100_000) });
    assert.equal(await post.text(), `POST /api [${'x'.repeat(100_000)}]`);
  });

  it('keeps keep-alive and pipelined requests, including bytes split across chunks, in order', async () => {
    const pipelined = [
      'GET /p1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /p2 HTTP/1.1\r\nHost: x\r\nContent-Le',
      'ngth: 3\r\n\r\nab',
      'cGET /p3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    ];
    const out = await raw(s.port, pipelined, { gapMs: 30 });
    const bodies = [...out.matchAll(/(GET|POST) \/p\d \[[a-z]*\]/g)].map((m) => m[0]);
    assert.deepEqual(bodies, ['GET /p1 []', 'POST /p2 [abc]', 'GET /p3 []']);
    // A GET head that arrives in pieces is still read by the front before the hand-over.
    const slowGet = await raw(s.port, ['GE', 'T /p4 HTT', 'P/1.1\r\nHost: x\r\nConnection: close\r\n', '\r\n'], { gapMs: 20 });
    assert.match(slowGet, /GET \/p4 \[\]/);
  });

  it('answers 431 to an unfinished head over the limit (1 MiB, as Go/Centrifugo)', async () => {
    const r = await raw(s.port, [`GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(1024 * 1024 + 1000)}\r\n`], { tolerateReset: true });
    assert.match(r, /^HTTP\/1.1 431 /);
  });

  it('survives a connection closed mid-head and forgets it', async () => {
    const r = await raw(s.port, ['GET /connection/websocket HTTP/1.1\r\nHost: x\r\n'], { endAfter: true });
    assert.equal(r, '');
    await waitFor(() => s.front.pendingHeads === 0 || undefined, { timeoutMs: 5000 });
    const get = await fetch(`http://127.0.0.1:${s.port}/still-up`);
    assert.equal(get.status, 200);
  });
});

describe('HttpFront head timeout', () => {
  it('answers 408 and closes a connection whose head is not complete in time', async () => {
    const s = await setup(200);
    try {
      const started = Date.now();
      const r = await raw(s.port, ['GET /connection/websocket HTTP/1.1\r\n']);
      assert.match(r, /^HTTP\/1.1 408 /);
      assert.ok(Date.now() - started >= 150);
      assert.equal(s.front.pendingHeads, 0);
    } finally {
      await teardown(s);
    }
  });

  it('close() stops accepting and closes idle keep-alive http connections', async () => {
    const s = await setup();
    const sock = connect(s.port, '127.0.0.1');
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.on('error', () => {});
    sock.resume();
    sock.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => s.requests.includes('GET /a ') || undefined, { timeoutMs: 5000 });
    await s.handler.close(0);
    await withTimeout(closeFront(s.front), 5000, 'front close with an idle keep-alive connection');
    await withTimeout(closed, 5000, 'client socket closed');
  });

  it('a front that stopped listening before (the share cap\'s pause) still waits for its connections', async () => {
    const s = await setup();
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${s.port}/connection/websocket`, ['centrifuge-json']);
      await withTimeout(new Promise((r, j) => ws.once('open', r).once('error', j)), 5000, 'open');
      // Paused: the listening socket is closed, the WebSocket connection stays.
      await new Promise<void>((r) => {
        s.front.server.close();
        setImmediate(r);
      });
      let closedFront = false;
      s.front.stopAccepting(() => (closedFront = true));
      // An echo round trip: the connection works and the front has not called back.
      const echoed = withTimeout(new Promise<Buffer>((r) => ws.once('message', (d: Buffer) => r(d))), 5000, 'echo');
      ws.send('still here');
      assert.equal((await echoed).toString(), 'still here');
      assert.equal(closedFront, false, 'the front waits while a connection is open');
      ws.close();
      await waitFor(() => closedFront, { what: 'the front done once the connection closed', timeoutMs: 5000 });
    } finally {
      await teardown(s);
    }
  });
});
