// Request-head limits of the main port, as Centrifugo (Go's http.Server) has them: up to 1 MiB of headers
// (a 16 KiB cookie jar got 431 from Node's default), bare-LF line ends read instead of waiting for a CRLF
// that never comes (this hung until the 60 s head timeout), and a 10 s header read timeout.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startServer } from '../../../src/app.js';
import type { RunningServer } from '../../../src/app.js';
import { defaultConfig } from '../../../src/config/index.js';
import { createHttpServer, HEADERS_TIMEOUT_MS } from '../../../src/http/server.js';
import { HttpFront } from '../../../src/http/front.js';
import { acceptKey, MAX_HEAD_BYTES } from '../../../src/transports/handshake.js';
import { withTimeout } from '../../harness/wait.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/**
 * Writes `request` and resolves with everything received once `responses` response heads arrived or the
 * server closed. "Answered within 5 s" is the bound: the failure mode is a 60 s hang.
 */
function exchange(port: number, request: string, responses = 1): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      const sock = connect(port, '127.0.0.1');
      let got = '';
      sock.setEncoding('latin1');
      sock.on('data', (d: string) => {
        got += d;
        if ((got.match(/HTTP\/1\.1 \d{3}[^]*?\r\n\r\n/g) ?? []).length >= responses) {
          sock.destroy();
          resolve(got);
        }
      });
      sock.on('close', () => resolve(got));
      // A server refusing a large head may reset the connection while the client is still writing.
      sock.on('error', (err) => (got !== '' ? resolve(got) : reject(err)));
      sock.write(request);
    }),
    5000,
    'an answer',
  );
}

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
}

const upgradeLines = (eol: string, extra: string[] = []): string =>
  [
    'GET /connection/websocket HTTP/1.1',
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${KEY}`,
    'Sec-WebSocket-Version: 13',
    ...extra,
  ].join(eol) + eol + eol;

describe('main port request-head limits', () => {
  let srv: RunningServer;
  before(async () => {
    const c = defaultConfig();
    c.http_server.address = '127.0.0.1';
    c.http_server.port = 0;
    c.health.enabled = true;
    c.client.allow_anonymous_connect_without_token = true;
    srv = await startServer(c, { logger: pino({ level: 'silent' }) });
  });
  after(async () => {
    await srv.close();
  });

  for (const kb of [16, 64, 900]) {
    it(`a ${kb} KiB cookie jar is served: /health 200 and a WebSocket upgrade 101`, async () => {
      const cookie = `Cookie: ${'k=v; '.repeat((kb * 1024) / 5)}`;
      const health = await exchange(srv.port, `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n${cookie}\r\nConnection: close\r\n\r\n`);
      assert.equal(statusOf(health), 200, health.slice(0, 200));
      const up = await exchange(srv.port, upgradeLines('\r\n', [cookie]));
      assert.equal(statusOf(up), 101, up.slice(0, 200));
    });
  }

  it('a head over 1 MiB gets 431', async () => {
    const r = await exchange(srv.port, `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${'a'.repeat(MAX_HEAD_BYTES + 1024)}\r\n\r\n`);
    assert.equal(statusOf(r), 431, r.slice(0, 200));
  });

  it('a bare-LF upgrade head is answered with 101 (Centrifugo: 101), mixed line ends too', async () => {
    for (const request of [upgradeLines('\n'), upgradeLines('\r\n').replace('Host: 127.0.0.1\r\n', 'Host: 127.0.0.1\n')]) {
      const r = await exchange(srv.port, request);
      assert.equal(statusOf(r), 101, JSON.stringify(r.slice(0, 200)));
      assert.ok(r.includes(`Sec-WebSocket-Accept: ${acceptKey(KEY)}\r\n`), r);
    }
  });

  it('a bare-LF plain request is answered, and a pipelined CRLF request after it too', async () => {
    const r = await exchange(srv.port, 'GET /health HTTP/1.1\nHost: 127.0.0.1\n\nGET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', 2);
    const statuses = [...r.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    assert.deepEqual(statuses, [200, 200], r);
  });

  it('a bare-LF POST (handed to Node without the front reading it) is refused at once', async () => {
    const r = await exchange(srv.port, 'POST /api HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 2\n\n{}');
    assert.equal(statusOf(r), 400, r);
  });
});

describe('header read timeout', () => {
  it("is 10 s like Centrifugo's ReadHeaderTimeout, on the http.Server and on the front that reads heads", () => {
    const http = createHttpServer(() => {});
    assert.equal(HEADERS_TIMEOUT_MS, 10_000);
    assert.equal(http.headersTimeout, 10_000);
    assert.equal(http.requestTimeout, 30_000);
    assert.equal(new HttpFront({ http }).headTimeoutMs, 10_000);
  });
});
