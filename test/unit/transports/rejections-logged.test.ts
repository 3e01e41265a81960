// Refused handshakes and connects are logged, rate-limited: a storm of 60 foreign-Origin upgrades and 60
// connects with a bad token through the real server gives one line per reason (with the allowed Origin list
// and the client's address), while the metrics still count each refusal.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import WebSocket from 'ws';
import { startServer } from '../../../src/app.js';
import type { RunningServer } from '../../../src/app.js';
import { defaultConfig } from '../../../src/config/index.js';
import { registry } from '../../../src/metrics/registry.js';
import { waitFor, withTimeout } from '../../harness/wait.js';

const STORM = 60;

async function counter(name: string, labels: Record<string, string>): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, want]) => String(x.labels[k]) === want));
  return v === undefined ? 0 : Number(v.value);
}

interface LogLine {
  msg: string;
  [k: string]: unknown;
}

/** Opens a socket; resolves with the refused status, or with the close code after sending `connect`. */
function attempt(url: string, origin: string | undefined, token: string | undefined): Promise<number> {
  return withTimeout(
    new Promise<number>((resolve) => {
      const ws = new WebSocket(url, origin === undefined ? {} : { origin });
      ws.on('unexpected-response', (_req, res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('error', () => {});
      ws.on('open', () => ws.send(JSON.stringify({ id: 1, connect: { token } })));
      ws.on('close', (code) => resolve(code));
    }),
    5000,
    'attempt',
  );
}

describe('rejected handshakes and connects are logged, rate-limited', () => {
  let srv: RunningServer;
  const lines: LogLine[] = [];
  before(async () => {
    const c = defaultConfig();
    c.http_server.address = '127.0.0.1';
    c.http_server.port = 0;
    c.client.token.hmac_secret_key = 'rejection-log-secret';
    c.client.allowed_origins = ['https://app.example', 'https://*.app.example'];
    const out = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as LogLine);
        cb();
      },
    });
    srv = await startServer(c, { logger: pino({ level: 'info' }, out) });
  });
  after(async () => {
    await srv.close();
  });

  it('a foreign-Origin storm: 403 each, counted each, one log line naming the Origin and the allowed list', async () => {
    const url = `ws://127.0.0.1:${srv.port}/connection/websocket`;
    const before = await counter('gyre_handshake_rejected_total', { reason: 'origin' });
    const statuses = await Promise.all(Array.from({ length: STORM }, (_, i) => attempt(url, `https://evil${i}.example`, 'x')));
    assert.deepEqual(new Set(statuses), new Set([403]));
    assert.equal((await counter('gyre_handshake_rejected_total', { reason: 'origin' })) - before, STORM);
    const logged = lines.filter((l) => l.msg === 'handshake rejected: origin not allowed');
    assert.equal(logged.length, 1);
    assert.match(String(logged[0]?.['origin']), /^https:\/\/evil\d+\.example$/);
    assert.deepEqual(logged[0]?.['allowed_origins'], ['https://app.example', 'https://*.app.example']);
    assert.equal(logged[0]?.['remote'], '127.0.0.1');
  });

  it('a bad-token storm: each connect closed with 3500, one log line with the code and address', async () => {
    const url = `ws://127.0.0.1:${srv.port}/connection/websocket`;
    const codes = await Promise.all(Array.from({ length: STORM }, () => attempt(url, undefined, 'not.a.jwt')));
    assert.deepEqual(new Set(codes), new Set([3500]));
    await waitFor(() => lines.some((l) => l.msg.startsWith('connect rejected:')) || undefined, { timeoutMs: 5000 });
    const logged = lines.filter((l) => l.msg.startsWith('connect rejected:'));
    assert.equal(logged.length, 1, JSON.stringify(logged));
    assert.equal(logged[0]?.['code'], 3500);
    assert.equal(logged[0]?.['remote'], '127.0.0.1');
  });

  it('an invalid upgrade request is logged once too (400, with the detail)', async () => {
    for (let i = 0; i < 5; i++) {
      const got = await withTimeout(
        new Promise<string>((resolve) => {
          const s = connect(srv.port, '127.0.0.1');
          let b = '';
          s.setEncoding('latin1');
          s.on('data', (d: string) => (b += d));
          s.on('close', () => resolve(b));
          s.on('error', () => resolve(b));
          s.write('GET /connection/websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n');
        }),
        5000,
        'invalid upgrade',
      );
      assert.match(got, /^HTTP\/1\.1 400 /);
    }
    const logged = lines.filter((l) => l.msg === 'handshake rejected: invalid upgrade request');
    assert.equal(logged.length, 1);
    assert.equal(logged[0]?.['status'], 400);
  });
});
