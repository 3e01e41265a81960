// Unidirectional transports (docs/transports.md) against a real Gyre process: uni_sse read with `eventsource`,
// uni_websocket with `ws`, uni_http_stream with fetch. Each gets the connect push first, then bare pushes of a
// server-side subscription, pings, and a disconnect push at the end; connect errors become disconnect codes; bad
// input gets Centrifugo's answers and leaves no connection behind.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { callApi } from '../harness/clients.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { connToken } from '../harness/tokens.js';
import { sleep, waitFor } from '../harness/wait.js';
import { baseConfig } from '../compat/base-config.js';

type Push = Record<string, unknown>;
let seq = 0;
const uniq = (p: string): string => `${p}-${process.pid}-${++seq}`;

async function numClients(apiUrl: string): Promise<number> {
  const r = await callApi(apiUrl, 'info', {});
  return (r.body as { result: { nodes: { num_clients: number }[] } }).result.nodes.reduce((a, n) => a + n.num_clients, 0);
}

/** Subscribes `user` server-side to `channel`, publishes `data` there and then disconnects the user. */
async function serverSideRound(apiUrl: string, user: string, channel: string, seen: () => Push[]): Promise<void> {
  assert.equal((await callApi(apiUrl, 'subscribe', { user, channel })).status, 200);
  await waitFor(() => seen().some((p) => p['subscribe'] !== undefined), { what: 'subscribe push' });
  assert.equal((await callApi(apiUrl, 'publish', { channel, data: { x: 1 } })).status, 200);
  await waitFor(() => seen().some((p) => p['pub'] !== undefined), { what: 'publication push' });
  assert.equal((await callApi(apiUrl, 'disconnect', { user })).status, 200);
}

function checkRound(pushes: Push[], channel: string): void {
  const connect = pushes[0]?.['connect'] as Record<string, unknown> | undefined;
  assert.ok(connect !== undefined, `first push is connect: ${JSON.stringify(pushes[0])}`);
  assert.match(String(connect['session']), /^[0-9a-f-]{36}$/);
  assert.equal(connect['pong'], undefined, 'no pong on a unidirectional transport');
  assert.equal(connect['node'], undefined);
  assert.equal(connect['ping'], 1);
  const rest = pushes.slice(1).filter((p) => Object.keys(p).length > 0); // {} are pings
  assert.equal((rest[0]?.['subscribe'] as Push | undefined) !== undefined && rest[0]?.['channel'], channel);
  assert.deepEqual(rest[1], { channel, pub: { data: { x: 1 } } });
  assert.deepEqual(rest.at(-1), { disconnect: { code: 3503, reason: 'force disconnect' } });
}

describe('unidirectional transports', () => {
  let gyre: GyreProcess;
  before(async () => {
    gyre = await startGyre(
      mergeConfig(baseConfig(), {
        client: { ping_interval: '1s', pong_timeout: '500ms', allowed_origins: ['http://allowed.example'] },
        uni_sse: { enabled: true },
        uni_http_stream: { enabled: true },
        uni_websocket: { enabled: true },
      }),
    );
  });
  after(async () => {
    await gyre?.stop();
  });

  it('uni_sse with eventsource: connect push, subscribe and publication pushes, pings, disconnect push', async () => {
    const user = uniq('sse');
    const channel = uniq('open:uni');
    const cf = encodeURIComponent(JSON.stringify({ token: await connToken({ sub: user, expIn: 3600 }) }));
    const es = new EventSource(`${gyre.baseUrl}/connection/uni_sse?cf_connect=${cf}`);
    const pushes: Push[] = [];
    es.onmessage = (e: { data: string }) => pushes.push(JSON.parse(e.data) as Push);
    try {
      await waitFor(() => pushes.length > 0, { what: 'connect push' });
      await waitFor(() => pushes.some((p) => Object.keys(p).length === 0), { what: 'a ping push {}' });
      await serverSideRound(gyre.apiUrl, user, channel, () => pushes);
      await waitFor(() => pushes.some((p) => p['disconnect'] !== undefined), { what: 'disconnect push' });
      checkRound(pushes, channel);
    } finally {
      es.close();
    }
  });

  it('uni_websocket with ws: connect request as first message, bare pushes one per frame, ping frames, push + close frame', async () => {
    const user = uniq('ws');
    const channel = uniq('open:uni');
    const ws = new WebSocket(`${gyre.url.replace('/connection/websocket', '/connection/uni_websocket')}`);
    const pushes: Push[] = [];
    let pings = 0;
    let closed: { code: number; reason: string } | undefined;
    ws.on('message', (d: Buffer) => pushes.push(JSON.parse(d.toString('utf8')) as Push));
    ws.on('ping', () => pings++);
    ws.on('close', (code: number, reason: Buffer) => (closed = { code, reason: reason.toString() }));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ token: await connToken({ sub: user, expIn: 3600 }) }));
    await waitFor(() => pushes.length > 0, { what: 'connect push' });
    ws.send('ignored: only the first message is read');
    await waitFor(() => pings > 0, { what: 'a native ping frame' });
    await waitFor(() => pushes.some((p) => Object.keys(p).length === 0), { what: 'a ping push {}' });
    await serverSideRound(gyre.apiUrl, user, channel, () => pushes);
    await waitFor(() => closed, { what: 'close frame' });
    checkRound(pushes, channel);
    assert.deepEqual(closed, { code: 3503, reason: 'force disconnect' });
  });

  it('uni_http_stream with fetch: connect push, pushes each on a line, disconnect push, then the stream ends', async () => {
    const user = uniq('hs');
    const channel = uniq('open:uni');
    const res = await fetch(`${gyre.baseUrl}/connection/uni_http_stream`, {
      method: 'POST',
      body: JSON.stringify({ token: await connToken({ sub: user, expIn: 3600 }) }),
    });
    assert.equal(res.status, 200);
    const pushes: Push[] = [];
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    const reading = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buf += dec.decode(value as Uint8Array, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf('\n')) !== -1) {
          pushes.push(JSON.parse(buf.slice(0, nl)) as Push);
          buf = buf.slice(nl + 1);
        }
      }
    })();
    await waitFor(() => pushes.length > 0, { what: 'connect push' });
    await serverSideRound(gyre.apiUrl, user, channel, () => pushes);
    await reading; // the server ends the stream after the disconnect push
    checkRound(pushes, channel);
  });

  it('connect errors become disconnects: expired token 3005, invalid token 3500 (uni_http_stream, uni_websocket)', async () => {
    const expired = await connToken({ sub: 'e', expIn: -10 });
    for (const [token, want] of [
      [expired, { code: 3005, reason: 'connection expired' }],
      ['not-a-token', { code: 3500, reason: 'invalid token' }],
    ] as const) {
      const r = await fetch(`${gyre.baseUrl}/connection/uni_http_stream`, { method: 'POST', body: JSON.stringify({ token }) });
      assert.deepEqual(JSON.parse((await r.text()).trim()), { disconnect: want });
      const cf = encodeURIComponent(JSON.stringify({ token }));
      const ws = new WebSocket(`${gyre.url.replace('/connection/websocket', '/connection/uni_websocket')}?cf_connect=${cf}`);
      const msgs: string[] = [];
      ws.on('message', (d: Buffer) => msgs.push(d.toString()));
      const [code, reason] = await new Promise<[number, string]>((r) => ws.once('close', (c: number, why: Buffer) => r([c, why.toString()])));
      assert.deepEqual({ code, reason }, want);
      assert.deepEqual(msgs.map((m) => JSON.parse(m) as unknown), [{ disconnect: want }]);
    }
  });

  it('bad input: invalid connect requests, oversized bodies, wrong methods, forbidden origins', async () => {
    const uniWs = gyre.url.replace('/connection/websocket', '/connection/uni_websocket');
    const post = (path: string, body: string): Promise<Response> => fetch(`${gyre.baseUrl}${path}`, { method: 'POST', body });
    for (const path of ['/connection/uni_http_stream', '/connection/uni_sse']) {
      for (const body of ['', '{"token":', '[1]', '"x"']) assert.equal((await post(path, body)).status, 400, `${path} ${body}`);
      assert.equal((await post(path, `{"data":"${'x'.repeat(70_000)}"}`)).status, 413, path);
    }
    assert.equal((await fetch(`${gyre.baseUrl}/connection/uni_sse?cf_connect=xx`)).status, 400);
    assert.equal((await fetch(`${gyre.baseUrl}/connection/uni_sse`, { method: 'OPTIONS' })).status, 405);
    assert.equal((await fetch(`${gyre.baseUrl}/connection/uni_http_stream`)).status, 405);
    const pre = await fetch(`${gyre.baseUrl}/connection/uni_http_stream`, { method: 'OPTIONS', headers: { Origin: 'http://allowed.example' } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'http://allowed.example');

    const statusOf = (url: string, headers: Record<string, string> = {}): Promise<number> =>
      new Promise((resolve) => {
        const ws = new WebSocket(url, { headers });
        ws.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          res.resume();
        });
        ws.on('open', () => {
          resolve(101);
          ws.terminate();
        });
        ws.on('error', () => undefined);
      });
    assert.equal(await statusOf(`${uniWs}?cf_connect=xx`), 400);
    assert.equal(await statusOf(uniWs, { Origin: 'http://evil.example' }), 403);
    for (const first of ['{bad', '[1]']) {
      const ws = new WebSocket(uniWs);
      await new Promise((r) => ws.once('open', r));
      ws.send(first);
      const code = await new Promise<number>((r) => ws.once('close', (c: number) => r(c)));
      assert.equal(code, 3501, first);
    }
    // A client that goes away before sending its connect request, and one that never reads.
    const idle = new WebSocket(uniWs);
    await new Promise((r) => idle.once('open', r));
    idle.terminate();
    await sleep(50);
    await waitFor(async () => (await numClients(gyre.apiUrl)) === 0, { what: 'no connection left behind' });
  });
});

describe('connect_code_to_http_response (uni_sse, uni_http_stream)', () => {
  let gyre: GyreProcess;
  before(async () => {
    const rejection = (to: { status_code: number; body?: string }) => ({ enabled: true, transforms: [{ code: 3500, to }] });
    gyre = await startGyre(
      mergeConfig(baseConfig(), {
        uni_sse: { enabled: true, connect_code_to_http_response: rejection({ status_code: 401 }) },
        uni_http_stream: { enabled: true, connect_code_to_http_response: rejection({ status_code: 403, body: 'nope' }) },
      }),
    );
  });
  after(async () => {
    await gyre?.stop();
  });

  it('a refused connect is a status with the transform body (or the reason), unmatched codes are 500; a good one streams', async () => {
    const hs = (token: string) => fetch(`${gyre.baseUrl}/connection/uni_http_stream`, { method: 'POST', body: JSON.stringify({ token }) });
    const answer = async (r: Response) => ({ status: r.status, type: r.headers.get('content-type'), body: await r.text() });
    const text = 'text/plain; charset=utf-8';
    const cf = encodeURIComponent(JSON.stringify({ token: 'not-a-token' }));
    assert.deepEqual(await answer(await fetch(`${gyre.baseUrl}/connection/uni_sse?cf_connect=${cf}`)), {
      status: 401,
      type: text,
      body: 'invalid token',
    });
    assert.deepEqual(await answer(await hs('not-a-token')), { status: 403, type: text, body: 'nope' });
    const expired = await connToken({ sub: 'e', expIn: -10 }); // error 109: no transform for it
    assert.deepEqual(await answer(await hs(expired)), { status: 500, type: text, body: 'Internal Server Error' });

    const ok = await fetch(`${gyre.baseUrl}/connection/uni_http_stream`, {
      method: 'POST',
      body: JSON.stringify({ token: await connToken({ sub: uniq('ok'), expIn: 3600 }) }),
    });
    assert.equal(ok.status, 200);
    const reader = ok.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value as Uint8Array);
    assert.ok((JSON.parse(first.split('\n')[0]!) as Push)['connect'] !== undefined, first);
    await reader.cancel();
    await waitFor(async () => (await numClients(gyre.apiUrl)) === 0, { what: 'no connection left behind' });
  });
});
