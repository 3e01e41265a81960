// HTTP-streaming and SSE emulation (docs/transports.md) against real Gyre processes: the official client on only
// one emulation transport does connect, subscribe, publish, history, presence and recovery, on one node and on two
// nodes sharing a Redis engine with the stream on one node and every `/emulation` post sent to the other (no
// stickiness). Bad input gets Centrifugo's answers and leaks no connection.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callApi } from '../harness/clients.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { redisAvailable, startRedis, type RedisServer } from '../harness/redis.js';
import { connToken } from '../harness/tokens.js';
import { waitFor } from '../harness/wait.js';
import { baseConfig } from '../compat/base-config.js';
import { Centrifuge } from 'centrifuge';
import WebSocket from 'ws';
import { nextEvent } from '../harness/wait.js';
import { runEmulationScenario } from './emulation-client.js';

let seq = 0;
const uniq = (p: string): string => `${p}-${process.pid}-${++seq}`;

export function emulationConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return mergeConfig(
    mergeConfig(baseConfig(), {
      http_stream: { enabled: true },
      sse: { enabled: true },
      channel: {
        namespaces: [
          {
            name: 'emu',
            history_size: 50,
            history_ttl: '300s',
            force_recovery: true,
            presence: true,
            allow_subscribe_for_client: true,
            allow_publish_for_subscriber: true,
            allow_history_for_subscriber: true,
            allow_presence_for_subscriber: true,
          },
        ],
      },
    }),
    extra,
  );
}

/** Reads a streaming answer line by line until `until` holds for the lines so far (or the stream ends). */
async function readStream(res: Response, until: (lines: string[]) => boolean, timeoutMs = 5000): Promise<{ lines: string[]; ended: boolean }> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const timer = setTimeout(() => void reader.cancel(), timeoutMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { lines: buf.split('\n').filter((l) => l !== ''), ended: true };
      buf += dec.decode(value as Uint8Array, { stream: true });
      const lines = buf.split('\n').filter((l) => l !== '');
      if (until(lines)) {
        await reader.cancel();
        return { lines, ended: false };
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

async function numClients(apiUrl: string): Promise<number> {
  const r = await callApi(apiUrl, 'info', {});
  const nodes = (r.body as { result: { nodes: { num_clients: number }[] } }).result.nodes;
  return nodes.reduce((a, n) => a + n.num_clients, 0);
}

describe('emulation: one node', () => {
  let gyre: GyreProcess;
  before(async () => {
    gyre = await startGyre(emulationConfig({ client: { allowed_origins: ['http://allowed.example'] } }));
  });
  after(async () => {
    await gyre?.stop();
  });

  for (const transport of ['http_stream', 'sse'] as const) {
    it(`official client on ${transport} only: connect, subscribe, publish, history, presence, recovery`, async () => {
      const base = gyre.baseUrl;
      await runEmulationScenario(transport, { stream: base, emulation: base, apiUrl: gyre.apiUrl }, uniq('emu:one'), `u-${transport}`);
    });
  }

  it('official protobuf client on http_stream only (varint-delimited stream, protobuf EmulationRequest posts)', async () => {
    const base = gyre.baseUrl;
    await runEmulationScenario('http_stream', { stream: base, emulation: base, apiUrl: gyre.apiUrl }, uniq('emu:pb'), 'u-pb', true);
  });

  it('connect reply carries session and node; /emulation answers 204 / 400 / 404 / 405 / 413 as Centrifugo', async () => {
    const token = await connToken({ sub: 'raw', expIn: 3600 });
    const res = await fetch(`${gyre.baseUrl}/connection/http_stream`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: 1, connect: { token } }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'private, no-cache, no-store, must-revalidate, max-age=0');
    assert.equal(res.headers.get('x-accel-buffering'), 'no');
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    while (!buf.includes('\n')) {
      const { done, value } = await reader.read();
      assert.equal(done, false, 'stream ended before the connect reply');
      buf += dec.decode(value as Uint8Array, { stream: true });
    }
    const connect = (JSON.parse(buf.slice(0, buf.indexOf('\n'))) as { connect: { session: string; node: string; client: string } }).connect;
    assert.match(connect.session, /^[0-9a-f-]{36}$/);
    assert.match(connect.node, /^[0-9a-f-]{36}$/);
    assert.notEqual(connect.session, connect.client);
    const emu = (body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${gyre.baseUrl}/emulation`, { method: 'POST', body, headers });
    const req = (data: string, o: { session?: string; node?: string } = {}): string =>
      JSON.stringify({ session: o.session ?? connect.session, node: o.node ?? connect.node, data });
    assert.equal((await emu(req('{}', { session: 'no-such-session' }))).status, 204);
    assert.equal((await emu(req('{}', { node: 'forged-node' }))).status, 404);
    assert.equal((await emu('{bad')).status, 400);
    assert.equal((await emu('[]')).status, 400);
    assert.equal((await emu(JSON.stringify({ session: 5, node: connect.node }))).status, 400);
    assert.equal((await emu('x'.repeat(70_000))).status, 413);
    assert.equal((await fetch(`${gyre.baseUrl}/emulation`)).status, 405);
    const pre = await fetch(`${gyre.baseUrl}/emulation`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://allowed.example', 'Access-Control-Request-Headers': 'content-type' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'http://allowed.example');
    assert.equal(pre.headers.get('access-control-allow-methods'), 'POST, OPTIONS');
    assert.equal(pre.headers.get('access-control-allow-headers'), 'content-type');
    assert.equal(pre.headers.get('access-control-max-age'), '300');
    const bad = await fetch(`${gyre.baseUrl}/emulation`, { method: 'OPTIONS', headers: { Origin: 'http://evil.example' } });
    assert.equal(bad.status, 204);
    assert.equal(bad.headers.get('access-control-allow-origin'), null);

    // A command through /emulation is answered on the stream; a truncated one ends it with 3501.
    assert.equal((await emu(req(JSON.stringify({ id: 2, presence_stats: { channel: 'emu:x' } })))).status, 204);
    assert.equal((await emu(req('{"id":3,"subscr'))).status, 204);
    const rest: string[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buf += dec.decode(value as Uint8Array, { stream: true });
    }
    rest.push(...buf.split('\n').slice(1).filter((l) => l !== ''));
    assert.deepEqual(rest.map((l) => JSON.parse(l) as unknown), [
      { id: 2, error: { code: 103, message: 'permission denied' } },
      { push: { disconnect: { code: 3501, reason: 'bad request' } } },
    ]);
  });

  it('transport fallback: WebSocket refused, the official client moves on to http_stream', async () => {
    const client = new Centrifuge(
      [
        { transport: 'websocket', endpoint: `${gyre.url.replace('/connection/websocket', '/blocked')}` },
        { transport: 'http_stream', endpoint: `${gyre.baseUrl}/connection/http_stream` },
      ],
      {
        token: await connToken({ sub: 'fallback', expIn: 3600 }),
        websocket: WebSocket,
        fetch: globalThis.fetch,
        readableStream: ReadableStream,
        emulationEndpoint: `${gyre.baseUrl}/emulation`,
        timeout: 8000,
      },
    );
    try {
      const connected = nextEvent<{ transport: string }>(client, 'connected');
      client.connect();
      assert.equal((await connected).transport, 'http_stream');
      const err = await client.rpc('nothing', {}).then(
        () => undefined,
        (e: { code: number }) => e,
      );
      assert.equal(err?.code, 108, 'a command through /emulation is answered');
    } finally {
      client.disconnect();
    }
  });

  it('API commands target one emulation session by its id', async () => {
    const token = await connToken({ sub: 'two-tabs', expIn: 3600 });
    const dec = new TextDecoder();
    const open = async (): Promise<{ reader: ReadableStreamDefaultReader<Uint8Array>; session: string }> => {
      const res = await fetch(`${gyre.baseUrl}/connection/http_stream`, { method: 'POST', body: JSON.stringify({ id: 1, connect: { token } }) });
      const reader = res.body!.getReader();
      let buf = '';
      while (!buf.includes('\n')) buf += dec.decode((await reader.read()).value as Uint8Array, { stream: true });
      return { reader, session: (JSON.parse(buf.slice(0, buf.indexOf('\n'))) as { connect: { session: string } }).connect.session };
    };
    const a = await open();
    const b = await open();
    const r = await callApi(gyre.apiUrl, 'disconnect', { user: 'two-tabs', session: a.session });
    assert.equal(r.status, 200, r.text);
    let rest = '';
    for (;;) {
      const { done, value } = await a.reader.read();
      if (done) break;
      rest += dec.decode(value, { stream: true });
    }
    assert.equal(rest, '{"push":{"disconnect":{"code":3503,"reason":"force disconnect"}}}\n');
    assert.equal(await numClients(gyre.apiUrl), 1, 'the other session stays');
    await b.reader.cancel();
  });

  it('bad initial requests: truncated, empty or oversized bodies, no cf_connect, wrong methods', async () => {
    const post = (path: string, body: string): Promise<Response> => fetch(`${gyre.baseUrl}${path}`, { method: 'POST', body });
    for (const body of ['{"id":1,"conn', '']) {
      const r = await post('/connection/http_stream', body);
      assert.equal(r.status, 200);
      const { lines, ended } = await readStream(r, () => false);
      assert.equal(ended, true);
      assert.deepEqual(lines, ['{"push":{"disconnect":{"code":3501,"reason":"bad request"}}}']);
    }
    const sse = await fetch(`${gyre.baseUrl}/connection/sse?cf_connect=${encodeURIComponent('{"id":1,"co')}`);
    assert.equal(sse.status, 200);
    assert.equal(sse.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const s = await readStream(sse, () => false);
    assert.equal(s.ended, true);
    assert.deepEqual(s.lines, ['\r', 'data: {"push":{"disconnect":{"code":3501,"reason":"bad request"}}}']);
    assert.equal((await post('/connection/http_stream', 'x'.repeat(70_000))).status, 413);
    assert.equal((await post('/connection/sse', 'x'.repeat(70_000))).status, 413);
    assert.equal((await fetch(`${gyre.baseUrl}/connection/sse`)).status, 400);
    assert.equal((await fetch(`${gyre.baseUrl}/connection/sse`, { method: 'PUT' })).status, 405);
    assert.equal((await fetch(`${gyre.baseUrl}/connection/http_stream`)).status, 405);
    assert.equal((await fetch(`${gyre.baseUrl}/connection/http_stream`, { method: 'OPTIONS' })).status, 204);
    await waitFor(async () => (await numClients(gyre.apiUrl)) === 0, { what: 'no connection left behind' });
  });
});

describe('emulation: two nodes on Redis, no sticky sessions', async () => {
  const skip = (await redisAvailable()) ? false : 'redis-server is not installed';
  let redis: RedisServer;
  let a: GyreProcess;
  let b: GyreProcess;
  before(async () => {
    if (skip !== false) return;
    redis = await startRedis();
    const engine = { engine: { type: 'redis', redis: { address: [redis.address], prefix: uniq('emu') } } };
    [a, b] = await Promise.all([
      startGyre(emulationConfig({ ...engine, node: { name: 'emu-a' } })),
      startGyre(emulationConfig({ ...engine, node: { name: 'emu-b' } })),
    ]);
    // Both nodes know each other (heartbeats) before a post is routed.
    await waitFor(async () => {
      const r = await callApi(a.apiUrl, 'info', {});
      return (r.body as { result: { nodes: unknown[] } }).result.nodes.length === 2;
    }, { what: 'two nodes in the cluster', timeoutMs: 15_000 });
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  for (const transport of ['http_stream', 'sse'] as const) {
    it(`${transport}: stream on node A, /emulation posts to node B, API on node B`, { skip }, async () => {
      await runEmulationScenario(transport, { stream: a.baseUrl, emulation: b.baseUrl, apiUrl: b.apiUrl }, uniq('emu:two'), `c-${transport}`);
      await waitFor(async () => (await numClients(a.apiUrl)) === 0, { what: 'sessions closed on both nodes' });
    });
  }
  it('protobuf http_stream: stream on node A, /emulation posts to node B', { skip }, async () => {
    await runEmulationScenario('http_stream', { stream: a.baseUrl, emulation: b.baseUrl, apiUrl: b.apiUrl }, uniq('emu:two-pb'), 'c-pb', true);
  });
});
