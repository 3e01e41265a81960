import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it, mock } from 'node:test';
import { pino } from 'pino';
import WebSocket from 'ws';
import { registry } from '../../../src/metrics/registry.js';
import { Disconnect } from '../../../src/protocol/errors.js';
import { WebSocketHandler } from '../../../src/transports/websocket.js';
import { CLOSE_GRACE_MS, SLOW_CLOSE_GRACE_MS } from '../../../src/transports/close-grace.js';
import { withTimeout, waitFor } from '../../harness/wait.js';
import { FakeAcceptor } from './fake-acceptor.js';

const logger = pino({ level: 'silent' });

interface Setup {
  server: Server;
  handler: WebSocketHandler;
  acceptor: FakeAcceptor;
  url: string;
}

async function setup(opts: { origins?: string[]; limit?: number; maxPayload?: number; compression?: boolean } = {}): Promise<Setup> {
  const acceptor = new FakeAcceptor();
  const handler = new WebSocketHandler({
    websocket: {
      disabled: false,
      handler_prefix: '/connection/websocket',
      compression: opts.compression ?? false,
      compression_min_size: 0,
      compression_level: 1,
      write_timeout: 1000,
      message_size_limit: opts.maxPayload ?? 1024,
    },
    client: { allowed_origins: opts.origins ?? [], connection_limit: opts.limit ?? 0, connection_rate_limit: 0, ip_connection_limit: 0 },
    acceptor,
    logger,
  });
  const server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', handler.onUpgrade);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { server, handler, acceptor, url: `ws://127.0.0.1:${port}/connection/websocket` };
}

async function teardown(s: Setup): Promise<void> {
  await s.handler.close(0);
  s.server.closeAllConnections();
  await new Promise<void>((r) => s.server.close(() => r()));
}

/** Opens a client; resolves with the socket once open, or with the HTTP status of a refused upgrade. */
function connect(url: string, protocols?: string[], headers?: Record<string, string>): Promise<WebSocket | number> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, { headers: headers ?? {} });
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
        ws.terminate();
      });
      ws.once('error', (err) => reject(err));
    }),
    5000,
    'websocket open',
  );
}

async function open(url: string, protocols?: string[], headers?: Record<string, string>): Promise<WebSocket> {
  const r = await connect(url, protocols, headers);
  assert.ok(r instanceof WebSocket, `expected an open socket, got HTTP ${typeof r === 'number' ? r : '?'}`);
  return r;
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return withTimeout(
    new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))),
    7000,
    'websocket close',
  );
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return withTimeout(
    new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data: data as Buffer, isBinary }))),
    5000,
    'websocket message',
  );
}

async function rejectedCount(reason: string): Promise<number> {
  const m = await registry.getSingleMetric('gyre_handshake_rejected_total')?.get();
  return m?.values.find((v) => v.labels['reason'] === reason)?.value ?? 0;
}

describe('WebSocket upgrade checks', () => {
  it('allows a request without Origin when allowed_origins is empty, refuses one with Origin (403)', async () => {
    const s = await setup();
    try {
      const ws = await open(s.url);
      ws.close();
      const before = await rejectedCount('origin');
      assert.equal(await connect(s.url, undefined, { Origin: 'https://example.com' }), 403);
      assert.equal(await rejectedCount('origin'), before + 1);
    } finally {
      await teardown(s);
    }
  });

  it('matches glob patterns case-insensitively and refuses other origins', async () => {
    const s = await setup({ origins: ['https://*.example.com'] });
    try {
      const ws = await open(s.url, undefined, { Origin: 'https://App.Example.com' });
      ws.close();
      assert.equal(await connect(s.url, undefined, { Origin: 'https://evil.com' }), 403);
      const noOrigin = await open(s.url);
      noOrigin.close();
    } finally {
      await teardown(s);
    }
  });

  it('["*"] allows any origin', async () => {
    const s = await setup({ origins: ['*'] });
    try {
      const ws = await open(s.url, undefined, { Origin: 'https://anything.test' });
      ws.close();
    } finally {
      await teardown(s);
    }
  });

  it('answers 404 for other paths and 503 over the connection limit', async () => {
    const s = await setup({ limit: 1 });
    try {
      assert.equal(await connect(s.url.replace('/connection/websocket', '/other')), 404);
      const first = await open(s.url);
      const limitCount = async (): Promise<number> =>
        (await registry.getSingleMetric('centrifugo_node_client_connection_limit')!.get()).values[0]?.value ?? 0;
      const refusedBefore = await limitCount();
      assert.equal(await connect(s.url), 503);
      // Centrifugo's counter of requests refused by the node connection limit.
      assert.equal((await limitCount()) - refusedBefore, 1);
      const c = closed(first);
      first.close();
      await c;
      await waitFor(() => s.handler.connections === 0, { what: 'connection count to drop' });
      const again = await open(s.url);
      again.close();
    } finally {
      await teardown(s);
    }
  });
});

describe('WebSocket protocol selection', () => {
  it('JSON by default: text frames, no subprotocol', async () => {
    const s = await setup();
    try {
      const ws = await open(s.url);
      assert.equal(ws.protocol, '');
      ws.send('{"id":1,"connect":{}}');
      const m = await nextMessage(ws);
      assert.equal(m.isBinary, false);
      assert.equal(m.data.toString(), '{"id":1,"connect":{}}');
      assert.equal(s.acceptor.transports[0]?.info.protocol, 'json');
      ws.close();
    } finally {
      await teardown(s);
    }
  });

  it('centrifuge-json is accepted and echoed', async () => {
    const s = await setup();
    try {
      const ws = await open(s.url, ['centrifuge-json']);
      assert.equal(ws.protocol, 'centrifuge-json');
      assert.equal(s.acceptor.transports[0]?.info.protocol, 'json');
      ws.close();
    } finally {
      await teardown(s);
    }
  });

  it('centrifuge-protobuf subprotocol selects protobuf with binary frames', async () => {
    const s = await setup();
    try {
      const ws = await open(s.url, ['centrifuge-protobuf']);
      assert.equal(ws.protocol, 'centrifuge-protobuf');
      assert.equal(s.acceptor.transports[0]?.info.protocol, 'protobuf');
      ws.send(Buffer.from([0]));
      const m = await nextMessage(ws);
      assert.equal(m.isBinary, true);
      assert.deepEqual([...m.data], [0]);
      ws.close();
    } finally {
      await teardown(s);
    }
  });

  for (const q of ['format=protobuf', 'cf_protocol=protobuf']) {
    it(`query ${q} selects protobuf`, async () => {
      const s = await setup();
      try {
        const ws = await open(`${s.url}?${q}`);
        assert.equal(s.acceptor.transports[0]?.info.protocol, 'protobuf');
        ws.close();
      } finally {
        await teardown(s);
      }
    });
  }
});

describe('WebSocket transport', () => {
  it('closes with 1009 when a frame exceeds message_size_limit', async () => {
    const s = await setup({ maxPayload: 64 });
    try {
      const ws = await open(s.url);
      const c = closed(ws);
      ws.send('x'.repeat(65));
      assert.equal((await c).code, 1009);
      await waitFor(() => s.acceptor.closedSessions === 1, { what: 'session close' });
      assert.equal(s.acceptor.frames.length, 0);
    } finally {
      await teardown(s);
    }
  });

  it('puts disconnect code and reason into the close frame', async () => {
    const s = await setup();
    try {
      const ws = await open(s.url);
      const c = closed(ws);
      s.acceptor.transports[0]?.close(new Disconnect(3501, 'bad request'));
      assert.deepEqual(await c, { code: 3501, reason: 'bad request' });
      await waitFor(() => s.acceptor.closedSessions === 1, { what: 'session close' });
    } finally {
      await teardown(s);
    }
  });

  it('closes without a code for a plain close', async () => {
    const s = await setup();
    try {
      const ws = await open(s.url);
      const c = closed(ws);
      s.acceptor.transports[0]?.close();
      assert.equal((await c).code, 1005);
    } finally {
      await teardown(s);
    }
  });

  it('during shutdown refuses the upgrade with 503 and a Retry-After (no 101, no 3001 after an open)', async () => {
    const s = await setup();
    try {
      s.acceptor.shuttingDown = true;
      const ws = new WebSocket(s.url);
      const res = await withTimeout(
        new Promise<{ status: number; retryAfter: string | undefined }>((resolve, reject) => {
          ws.once('open', () => reject(new Error('opened during shutdown')));
          ws.once('unexpected-response', (_req, r) => {
            resolve({ status: r.statusCode ?? 0, retryAfter: r.headers['retry-after'] });
            r.resume();
          });
        }),
        3000,
        'refusal',
      );
      assert.equal(res.status, 503);
      assert.match(res.retryAfter ?? '', /^[1-5]$/);
      assert.equal(s.acceptor.transports.length, 0);
    } finally {
      await teardown(s);
    }
  });

  it('reports buffered bytes and forwards inbound bytes as Uint8Array', async () => {
    const s = await setup();
    try {
      s.acceptor.echo = false;
      const ws = await open(s.url);
      ws.send(Buffer.from('hello'));
      await waitFor(() => s.acceptor.frames.length === 1, { what: 'inbound frame' });
      const f = s.acceptor.frames[0];
      assert.ok(f instanceof Uint8Array);
      assert.equal(Buffer.from(f).toString(), 'hello');
      assert.equal(typeof s.acceptor.transports[0]?.bufferedBytes, 'number');
      ws.close();
    } finally {
      await teardown(s);
    }
  });
});

describe('WebSocket compression', () => {
  it('negotiates permessage-deflate only when websocket.compression is on', async () => {
    for (const compression of [false, true]) {
      const s = await setup({ compression, maxPayload: 1 << 20 });
      try {
        const ws = await open(s.url);
        assert.equal(ws.extensions.includes('permessage-deflate'), compression);
        const big = `{"x":"${'a'.repeat(4000)}"}`;
        ws.send(big);
        assert.equal((await nextMessage(ws)).data.toString(), big);
        ws.close();
      } finally {
        await teardown(s);
      }
    }
  });
});

describe('close grace', () => {
  // The peer's socket is paused, so it never answers the close frame: the kill timer decides when the server
  // drops it. Timers are mocked, so this is about which deadline is armed, not about elapsed time.
  for (const [code, grace] of [
    [3008, SLOW_CLOSE_GRACE_MS],
    [3001, CLOSE_GRACE_MS],
  ] as const) {
    it(`a ${code} close of a peer that does not read is dropped after ${grace} ms`, async () => {
      const s = await setup();
      try {
        const ws = await open(s.url);
        ws.on('error', () => undefined);
        await waitFor(() => s.acceptor.transports.length === 1, { what: 'transport' });
        (ws as unknown as { _socket: { pause(): void } })._socket.pause();
        const server = (s.acceptor.transports[0] as unknown as { ws: WebSocket }).ws;
        mock.timers.enable({ apis: ['setTimeout'] });
        try {
          s.acceptor.transports[0]!.close(Disconnect.of(code));
          mock.timers.tick(grace - 1);
          assert.equal(server.readyState, WebSocket.CLOSING, 'still waiting for the close reply');
          assert.equal((server as unknown as { _socket: { destroyed: boolean } })._socket.destroyed, false);
          mock.timers.tick(1);
          assert.equal((server as unknown as { _socket: { destroyed: boolean } })._socket.destroyed, true);
        } finally {
          mock.timers.reset();
        }
        await waitFor(() => s.acceptor.closedSessions === 1, { what: 'session closed' });
        ws.terminate();
      } finally {
        await teardown(s);
      }
    });
  }
});

describe('handler close', () => {
  let s: Setup;
  before(async () => {
    s = await setup();
  });
  after(async () => {
    await teardown(s);
  });
  it('drops connections still open after the grace period and refuses new upgrades', async () => {
    const ws = await open(s.url);
    const c = closed(ws);
    await s.handler.close(50);
    assert.equal((await c).code, 1006);
    assert.equal(await connect(s.url), 404);
  });
});
