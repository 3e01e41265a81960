// Upgrade requests Centrifugo accepts must be accepted by Gyre on both ways in: the front's own handshake
// (no deflate offer, or compression off) and ws.handleUpgrade (a deflate offer with websocket.compression on).
// The expected answers were read from Centrifugo 6.9.1 with the same raw requests (docs/handshake.md).
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startServer } from '../../../src/app.js';
import type { RunningServer } from '../../../src/app.js';
import { defaultConfig } from '../../../src/config/index.js';
import { withTimeout } from '../../harness/wait.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const BASE = ['Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13'];

function replace(name: string, value: string | null): string[] {
  const out = BASE.filter((l) => !l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return value === null ? out : [...out, `${name}: ${value}`];
}

interface Case {
  name: string;
  lines: string[];
  status: number;
  /** The Sec-WebSocket-Protocol of a 101 answer (undefined: none). */
  protocol?: string;
  method?: string;
}

const CASES: readonly Case[] = [
  { name: 'empty subprotocol line (centrifuge-python)', lines: [...BASE, 'Sec-WebSocket-Protocol:'], status: 101 },
  { name: 'blank subprotocol', lines: [...BASE, 'Sec-WebSocket-Protocol:   '], status: 101 },
  { name: 'malformed subprotocol', lines: [...BASE, 'Sec-WebSocket-Protocol: a b'], status: 101 },
  { name: 'repeated subprotocol', lines: [...BASE, 'Sec-WebSocket-Protocol: a, a'], status: 101 },
  { name: 'empty list entries', lines: [...BASE, 'Sec-WebSocket-Protocol: ,centrifuge-json,'], status: 101, protocol: 'centrifuge-json' },
  { name: "client's order wins", lines: [...BASE, 'Sec-WebSocket-Protocol: centrifuge-json, centrifuge-protobuf'], status: 101, protocol: 'centrifuge-json' },
  { name: 'first subprotocol line only', lines: [...BASE, 'Sec-WebSocket-Protocol: foo', 'Sec-WebSocket-Protocol: centrifuge-protobuf'], status: 101 },
  { name: 'version list 13, 8', lines: replace('Sec-WebSocket-Version', '13, 8'), status: 101 },
  { name: 'version list 8, 13', lines: replace('Sec-WebSocket-Version', '8, 13'), status: 101 },
  { name: 'no version', lines: replace('Sec-WebSocket-Version', null), status: 400 },
  { name: 'Upgrade list', lines: replace('Upgrade', 'foo, WebSocket'), status: 101 },
  { name: 'duplicated key', lines: [...BASE, 'Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=='], status: 101 },
  { name: 'bad key', lines: replace('Sec-WebSocket-Key', 'abc'), status: 400 },
  { name: 'malformed extension offer', lines: [...BASE, 'Sec-WebSocket-Extensions: permessage-deflate; foo=='], status: 101 },
  { name: 'POST', lines: BASE, status: 405, method: 'POST' },
];

interface Answer {
  status: number;
  protocol: string | undefined;
}

function exchange(port: number, requestLine: string, lines: readonly string[]): Promise<Answer> {
  return withTimeout(
    new Promise<Answer>((resolve, reject) => {
      const sock = connect(port, '127.0.0.1');
      let got = '';
      sock.setEncoding('latin1');
      const done = (): void => {
        sock.destroy();
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0);
        const protocol = /^sec-websocket-protocol:\s*(.*?)\s*$/im.exec(got.slice(0, got.indexOf('\r\n\r\n')))?.[1];
        resolve({ status, protocol });
      };
      sock.on('data', (d: string) => {
        got += d;
        if (got.includes('\r\n\r\n')) done();
      });
      sock.on('close', done);
      sock.on('error', reject);
      sock.write(`${[requestLine, ...lines].join('\r\n')}\r\n\r\n`);
    }),
    5000,
    'upgrade answer',
  );
}

for (const compression of [false, true]) {
  for (const deflateOffer of compression ? [false, true] : [false]) {
    const way = deflateOffer ? 'ws.handleUpgrade (deflate offer, compression on)' : `front (compression ${compression ? 'on' : 'off'})`;
    describe(`Centrifugo's upgrade rules through ${way}`, () => {
      let srv: RunningServer;
      before(async () => {
        const c = defaultConfig();
        c.http_server.address = '127.0.0.1';
        c.http_server.port = 0;
        c.websocket.compression = compression;
        c.client.allow_anonymous_connect_without_token = true;
        srv = await startServer(c, { logger: pino({ level: 'silent' }) });
      });
      after(async () => {
        await srv.close();
      });

      for (const tc of CASES) {
        it(`${tc.name}: ${tc.status}`, async () => {
          const offer = deflateOffer && !tc.lines.some((l) => l.startsWith('Sec-WebSocket-Extensions'));
          const lines = offer ? [...tc.lines, 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits'] : tc.lines;
          const a = await exchange(srv.port, `${tc.method ?? 'GET'} /connection/websocket HTTP/1.1`, lines);
          assert.equal(a.status, tc.status);
          if (tc.status === 101) assert.equal(a.protocol, tc.protocol);
        });
      }
    });
  }
}
