import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import WebSocket from 'ws';
import { startServer } from '../../src/app.js';
import type { RunningServer } from '../../src/app.js';
import { defaultConfig } from '../../src/config/index.js';
import type { GyreConfig } from '../../src/config/types.js';
import { withTimeout, waitFor } from '../harness/wait.js';

const KEY = 'app-test-key';

function config(): GyreConfig {
  const c = defaultConfig();
  c.http_server.address = '127.0.0.1';
  c.http_server.port = 0;
  c.http_server.internal_port = 0;
  c.http_api.key = KEY;
  c.client.insecure = true;
  c.health.enabled = true;
  c.prometheus.enabled = true;
  c.shutdown.timeout = 2000;
  return c;
}

describe('startServer (memory engine, one HTTP server)', () => {
  let srv: RunningServer;
  before(async () => {
    srv = await startServer(config(), { logger: pino({ level: 'silent' }) });
  });
  after(async () => {
    await srv.close();
  });

  it('reports a real port and serves /health', async () => {
    assert.ok(srv.port > 0);
    assert.equal(srv.internalPort, srv.port);
    const r = await fetch(`http://127.0.0.1:${srv.port}/health`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.equal(await r.text(), '{}');
  });

  it('connects over WebSocket (JSON), delivers an API publish to a subscriber, and shows it in /metrics', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/connection/websocket`);
    const lines: unknown[] = [];
    ws.on('message', (data) => {
      for (const l of (data as Buffer).toString().split('\n')) lines.push(JSON.parse(l));
    });
    await withTimeout(new Promise((r, j) => ws.once('open', r).once('error', j)), 5000, 'ws open');
    try {
      ws.send('{"id":1,"connect":{}}\n{"id":2,"subscribe":{"channel":"chat"}}');
      await waitFor(() => lines.some((m) => (m as { id?: number }).id === 2), { what: 'subscribe reply' });
      const connect = lines.find((m) => (m as { id?: number }).id === 1) as { connect?: { client?: string } };
      assert.equal(typeof connect.connect?.client, 'string');
      const sub = lines.find((m) => (m as { id?: number }).id === 2) as Record<string, unknown>;
      assert.ok('subscribe' in sub, JSON.stringify(sub));

      const r = await fetch(`http://127.0.0.1:${srv.port}/api/publish`, {
        method: 'POST',
        headers: { 'X-API-Key': KEY },
        body: '{"channel":"chat","data":{"text":"hello"}}',
      });
      assert.equal(r.status, 200);
      assert.equal(await r.text(), '{"result":{}}');
      const push = (await waitFor(() =>
        lines.find((m) => (m as { push?: unknown }).push !== undefined),
        { what: 'publication push' },
      )) as { push: { channel: string; pub: { data: unknown } } };
      assert.equal(push.push.channel, 'chat');
      assert.deepEqual(push.push.pub.data, { text: 'hello' });

      const m = await fetch(`http://127.0.0.1:${srv.port}/metrics`);
      assert.equal(m.status, 200);
      assert.match(m.headers.get('content-type') ?? '', /text\/plain/);
      const text = await m.text();
      assert.match(text, /^centrifugo_node_num_clients 1$/m);
      assert.match(text, /^centrifugo_node_num_channels 1$/m);
      assert.match(text, /^centrifugo_node_build\{version="[^"]+ Gyre"\} 1$/m);
      assert.match(text, /centrifugo_api_command_duration_seconds_histogram_count\{protocol="http",method="publish"\} [1-9]/);
    } finally {
      ws.terminate();
    }
  });

  it('answers 401 without API key and 404 for unknown paths', async () => {
    const r = await fetch(`http://127.0.0.1:${srv.port}/api/info`, { method: 'POST', body: '{}' });
    assert.equal(r.status, 401);
    const n = await fetch(`http://127.0.0.1:${srv.port}/nope`);
    assert.equal(n.status, 404);
  });
});

describe('startServer shutdown and separate internal port', () => {
  it('puts API/health/metrics on the internal server only, and closes clients with 3001 on close()', async () => {
    const c = config();
    // A fixed internal port is needed to split the servers: take a free one from a throwaway listener.
    const { createServer } = await import('node:net');
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const addr = probe.address();
    const internalPort = typeof addr === 'object' && addr !== null ? addr.port : 0;
    await new Promise<void>((r) => probe.close(() => r()));
    c.http_server.internal_port = internalPort;
    const srv = await startServer(c, { logger: pino({ level: 'silent' }) });
    let closed = false;
    try {
      assert.equal(srv.internalPort, internalPort);
      assert.notEqual(srv.port, internalPort);
      assert.equal((await fetch(`http://127.0.0.1:${srv.port}/health`)).status, 404);
      assert.equal((await fetch(`http://127.0.0.1:${internalPort}/health`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${srv.port}/api/info`, { method: 'POST', headers: { 'X-API-Key': KEY } })).status, 404);
      const info = await fetch(`http://127.0.0.1:${internalPort}/api/info`, { method: 'POST', headers: { 'X-API-Key': KEY }, body: '{}' });
      assert.equal(info.status, 200);
      const body = (await info.json()) as { result: { nodes: unknown[] } };
      assert.equal(body.result.nodes.length, 1);

      const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/connection/websocket`);
      await withTimeout(new Promise((r, j) => ws.once('open', r).once('error', j)), 5000, 'ws open');
      const got = new Promise<string>((r) => ws.once('message', (d) => r((d as Buffer).toString())));
      ws.send('{"id":1,"connect":{}}');
      await withTimeout(got, 5000, 'connect reply');
      const closeEvent = withTimeout(
        new Promise<[number, string]>((r) => ws.once('close', (code, reason) => r([code, reason.toString()]))),
        8000,
        'ws close',
      );
      await srv.close();
      closed = true;
      assert.deepEqual(await closeEvent, [3001, 'shutdown']);
      await srv.close(); // idempotent
      await assert.rejects(fetch(`http://127.0.0.1:${srv.port}/health`));
    } finally {
      if (!closed) await srv.close();
    }
  });
});
