// The front answering plain keep-alive POSTs itself (src/http/direct.ts): which requests it takes, which it
// leaves to the http.Server, keep-alive and pipelining on one connection, and the idle keep-alive timeout.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { DirectRequest, DirectTarget } from '../../../src/http/direct.js';
import { HttpFront } from '../../../src/http/front.js';
import { closeFront } from '../../../src/http/server.js';
import { waitFor, withTimeout } from '../../harness/wait.js';

interface Setup {
  front: HttpFront;
  http: Server;
  port: number;
  /** Lets the test hold a direct reply until it calls the resolver. */
  hold: { next: ((release: () => void) => void) | undefined };
}

class EchoTarget implements DirectTarget {
  constructor(private readonly hold: Setup['hold']) {}
  accepts(path: string): boolean {
    return path.startsWith('/api/') && path !== '/api/batch';
  }
  maxBody(): number {
    return 1000;
  }
  async serve(req: DirectRequest): Promise<{ status: number; contentType: string; body: string }> {
    const h = this.hold.next;
    if (h !== undefined) {
      this.hold.next = undefined;
      await new Promise<void>((resolve) => h(resolve));
    }
    const key = typeof req.headers['x-api-key'] === 'string' ? req.headers['x-api-key'] : '';
    return { status: 200, contentType: 'application/json', body: `direct ${req.url} ${key} [${req.body.toString()}]` };
  }
}

async function setup(keepAliveMs = 5000): Promise<Setup> {
  const http = createServer({ keepAlive: true }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => res.end(`http ${req.method ?? ''} ${req.url ?? ''} [${body}]`));
  });
  http.keepAliveTimeout = keepAliveMs;
  const hold: Setup['hold'] = { next: undefined };
  const front = new HttpFront({ http, direct: new EchoTarget(hold) });
  await new Promise<void>((r) => front.server.listen(0, '127.0.0.1', r));
  return { front, http, port: (front.server.address() as AddressInfo).port, hold };
}

/** One connection: write raw bytes, read until `count` responses (by their status lines) or the close. */
class Conn {
  readonly sock: Socket;
  got = '';
  closed = false;
  constructor(port: number) {
    this.sock = connect(port, '127.0.0.1');
    this.sock.setEncoding('latin1');
    this.sock.on('data', (d: string) => (this.got += d));
    this.sock.on('close', () => (this.closed = true));
    this.sock.on('error', () => undefined);
  }
  send(s: string): void {
    this.sock.write(s);
  }
  async responses(count: number): Promise<string[]> {
    await waitFor(() => bodies(this.got).length >= count || this.closed, { timeoutMs: 5000, what: `${count} responses` });
    return bodies(this.got);
  }
}

/** Splits a response stream into responses (each: head and Content-Length body). */
function bodies(stream: string): string[] {
  const out: string[] = [];
  let pos = 0;
  for (;;) {
    const end = stream.indexOf('\r\n\r\n', pos);
    if (end === -1) return out;
    const head = stream.slice(pos, end);
    const m = /content-length: (\d+)/i.exec(head);
    const len = m === null ? 0 : Number(m[1]);
    if (stream.length < end + 4 + len) return out;
    out.push(`${head}\r\n\r\n${stream.slice(end + 4, end + 4 + len)}`);
    pos = end + 4 + len;
  }
}

function post(path: string, body: string, extra = ''): string {
  return `POST ${path} HTTP/1.1\r\nHost: x\r\nX-API-Key: k\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}

const bodyOf = (r: string | undefined): string => (r ?? '').slice((r ?? '').indexOf('\r\n\r\n') + 4);

describe('front: direct answers', () => {
  let s: Setup;
  before(async () => {
    s = await setup();
  });
  after(() => withTimeout(closeFront(s.front), 5000, 'front close'));

  it('answers keep-alive POSTs itself, one after the other on one connection, then hands a GET over', async () => {
    const c = new Conn(s.port);
    c.send(post('/api/publish', '{"a":1}'));
    const [first] = await c.responses(1);
    assert.match(first ?? '', /^HTTP\/1\.1 200 OK\r\nContent-Type: application\/json\r\nContent-Length: \d+\r\nDate: .+ GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n/);
    assert.equal(bodyOf(first), 'direct /api/publish k [{"a":1}]');
    c.send(post('/api/info?x=1', '{}', 'Connection: keep-alive\r\n'));
    c.send('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    const all = await c.responses(3);
    assert.deepEqual(all.map(bodyOf), ['direct /api/publish k [{"a":1}]', 'direct /api/info?x=1 k [{}]', 'http GET /health []']);
    c.sock.destroy();
  });

  it('answers pipelined requests in order, a body split over writes, and a head split mid-line', async () => {
    const c = new Conn(s.port);
    c.send(post('/api/a', '1') + post('/api/b', '22') + post('/other', '3'));
    const three = await c.responses(3);
    assert.deepEqual(three.map(bodyOf), ['direct /api/a k [1]', 'direct /api/b k [22]', 'http POST /other [3]']);
    c.sock.destroy();
    const d = new Conn(s.port);
    const req = post('/api/c', '{"long":"body"}');
    d.send(req.slice(0, 10));
    await new Promise((r) => setTimeout(r, 20));
    d.send(req.slice(10, req.length - 5));
    await new Promise((r) => setTimeout(r, 20));
    d.send(req.slice(req.length - 5));
    assert.deepEqual((await d.responses(1)).map(bodyOf), ['direct /api/c k [{"long":"body"}]']);
    d.sock.destroy();
  });

  it('keeps what a client pipelines while a request is answered, past the bound where reading pauses', async () => {
    const c = new Conn(s.port);
    let release: (() => void) | undefined;
    s.hold.next = (r) => (release = r);
    c.send(post('/api/held', 'first'));
    await waitFor(() => release !== undefined, { timeoutMs: 5000, what: 'request held' });
    // ~180 KB behind the held request: more than the 64 KB the front reads ahead before it pauses reading.
    const n = 200;
    const pad = 'p'.repeat(880);
    let burst = '';
    for (let i = 0; i < n; i++) burst += post(`/api/n${i}`, `${i}${pad}`);
    c.send(burst);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(bodies(c.got).length, 0);
    release?.();
    const all = await c.responses(n + 1);
    assert.equal(all.length, n + 1);
    assert.equal(bodyOf(all[0]), 'direct /api/held k [first]');
    for (let i = 0; i < n; i++) assert.equal(bodyOf(all[i + 1]), `direct /api/n${i} k [${i}${pad}]`);
    c.sock.destroy();
  });

  it('leaves every other framing to the http.Server', async () => {
    const cases: [string, string][] = [
      ['Connection: close', post('/api/p', 'x', 'Connection: close\r\n')],
      ['HTTP/1.0', post('/api/p', 'x').replace('HTTP/1.1', 'HTTP/1.0')],
      ['chunked', 'POST /api/p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n'],
      ['Expect', post('/api/p', 'x', 'Expect: 100-continue\r\n')],
      ['body over the limit', post('/api/p', 'y'.repeat(1001))],
      ['a path it does not take', post('/api/batch', 'x')],
      ['no Content-Length', 'POST /api/p HTTP/1.1\r\nHost: x\r\n\r\n'],
    ];
    for (const [name, req] of cases) {
      const c = new Conn(s.port);
      c.send(req);
      await waitFor(() => c.got.includes('[') || c.closed, { timeoutMs: 5000, what: name });
      assert.match(c.got, /\r\n\r\nhttp POST /, name);
      c.sock.destroy();
    }
  });

  it('keeps a request answered while the front stops accepting, then closes the connection', async () => {
    const local = await setup();
    const c = new Conn(local.port);
    let release: (() => void) | undefined;
    local.hold.next = (r) => (release = r);
    c.send(post('/api/slow', 'z'));
    await waitFor(() => release !== undefined, { timeoutMs: 5000, what: 'request held' });
    const closing = closeFront(local.front);
    release?.();
    const [r] = await c.responses(1);
    assert.equal(bodyOf(r), 'direct /api/slow k [z]');
    await waitFor(() => c.closed, { timeoutMs: 5000, what: 'connection closed' });
    await withTimeout(closing, 5000, 'front close');
  });
});

describe('front: idle keep-alive', () => {
  it('closes a connection idle past the keep-alive timeout without a reply', async () => {
    const s = await setup(300);
    const c = new Conn(s.port);
    c.send(post('/api/x', '1'));
    await c.responses(1);
    await waitFor(() => c.closed, { timeoutMs: 5000, what: 'idle connection closed' });
    assert.equal(bodies(c.got).length, 1);
    await withTimeout(closeFront(s.front), 5000, 'front close');
  });
});
