// Fair work per connection against a real Gyre process: a huge frame of commands is answered in full and in
// order to a client that reads (no 3008 for its own replies), and a flooding client does not keep another
// client's round trip from completing. Ordering and completion are asserted, never durations.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type WebSocket from 'ws';
import { API_KEY, ClientPool, isRecord } from '../harness/clients.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { connToken } from '../harness/tokens.js';
import { nextEvent, waitFor, withTimeout } from '../harness/wait.js';
import { baseConfig } from './base-config.js';

interface Reader {
  ws: WebSocket;
  /** Every reply line received, parsed. */
  replies: Record<string, unknown>[];
  closeCode: number | undefined;
}

describe('compat: fair work per connection', () => {
  let gyre: GyreProcess;
  let token = '';
  const pool = new ClientPool();

  async function connected(): Promise<Reader> {
    const ws = pool.raw(gyre.url);
    const r: Reader = { ws, replies: [], closeCode: undefined };
    ws.on('message', (d: Buffer) => {
      for (const line of d.toString('utf8').split('\n')) r.replies.push(JSON.parse(line) as Record<string, unknown>);
    });
    ws.once('close', (code: number) => {
      r.closeCode = code;
    });
    await nextEvent(ws, 'open');
    ws.send(JSON.stringify({ id: 1, connect: { token } }));
    await waitFor(() => r.replies.length > 0, { what: 'connect reply' });
    assert.ok(isRecord(r.replies[0]?.['connect']), 'connected');
    return r;
  }

  function rpcFrame(firstId: number, n: number): string {
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(`{"id":${firstId + i},"rpc":{"method":"ping"}}`);
    return lines.join('\n');
  }

  before(async () => {
    gyre = await startGyre(
      mergeConfig(baseConfig(), { websocket: { message_size_limit: 8 * 1024 * 1024 }, rpc: { ping: { enabled: true } } }),
    );
    token = await connToken({ sub: 'fair-user', expIn: 3600 });
  });

  after(async () => {
    pool.closeAll();
    await gyre.stop();
  });

  it('one 3.4 MB frame of 100,000 commands: 100,000 replies in order, no 3008', async () => {
    const r = await connected();
    const n = 100_000;
    const frame = rpcFrame(2, n);
    assert.ok(frame.length > 3_400_000);
    r.ws.send(frame);
    await waitFor(() => r.replies.length >= n + 1 || r.closeCode !== undefined, { what: 'all replies', timeoutMs: 120_000 });
    assert.equal(r.closeCode, undefined, 'the connection stays open');
    assert.equal(r.replies.length, n + 1);
    for (let i = 1; i <= n; i++) {
      const rep = r.replies[i]!;
      assert.equal(rep['id'], i + 1);
      assert.deepEqual(rep['rpc'], {});
    }
    // Still usable afterwards.
    r.ws.send(JSON.stringify({ id: n + 2, rpc: { method: 'ping' } }));
    await waitFor(() => r.replies.length === n + 2, { what: 'one more reply' });
    assert.equal(r.replies[n + 1]?.['id'], n + 2);
  });

  it('a client flooding 50 frames of 1,900 commands does not hold back another client’s round trip', async () => {
    const flood = await connected();
    const other = await connected();
    const frames = 50;
    const per = 1900;
    const total = frames * per;
    for (let f = 0; f < frames; f++) flood.ws.send(rpcFrame(2 + f * per, per));
    // The flood is being answered…
    await waitFor(() => flood.replies.length > 1, { what: 'first flood reply', timeoutMs: 60_000 });
    other.ws.send(JSON.stringify({ id: 2, rpc: { method: 'ping' } }));
    const health = fetch(`${gyre.baseUrl}/health`).then(async (res) => {
      await res.arrayBuffer();
      return { status: res.status, floodRepliesSoFar: flood.replies.length - 1 };
    });
    // …and the other client's reply (and /health) arrive before the flood is finished.
    await waitFor(() => other.replies.length > 1, { what: 'other client reply', timeoutMs: 60_000 });
    const floodAtOther = flood.replies.length - 1;
    assert.equal(other.replies[1]?.['id'], 2);
    assert.ok(floodAtOther < total, `other client answered after ${floodAtOther} of ${total} flood replies`);
    const h = await withTimeout(health, 60_000, '/health');
    assert.equal(h.status, 200);
    assert.ok(h.floodRepliesSoFar < total, `/health answered after ${h.floodRepliesSoFar} of ${total} flood replies`);
    // The flood completes, in order.
    await waitFor(() => flood.replies.length >= total + 1, { what: 'all flood replies', timeoutMs: 120_000 });
    assert.equal(flood.closeCode, undefined);
    for (let i = 1; i <= total; i++) assert.equal(flood.replies[i]?.['id'], i + 1);
  });
});

describe('compat: server API body and batch bounds', () => {
  let gyre: GyreProcess;
  const MAX_BODY = 4 * 1024 * 1024;
  const MAX_BATCH = 50_000;

  function batchBody(n: number): string {
    return `{"commands":[${Array.from({ length: n }, () => '{"info":{}}').join(',')}]}`;
  }

  async function post(body: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
    const res = await fetch(`${gyre.apiUrl}/batch`, { method: 'POST', headers: { 'X-API-Key': API_KEY, ...headers }, body });
    return { status: res.status, text: await res.text() };
  }

  before(async () => {
    gyre = await startGyre(mergeConfig(baseConfig(), { http_api: { max_request_body_size: MAX_BODY, max_batch_size: MAX_BATCH } }));
  });

  after(async () => {
    await gyre.stop();
  });

  /** Starts a POST and writes `sent` bytes without ending it; resolves with the status the server answers. */
  function partialPost(sent: number, declared: number | undefined): Promise<number> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { 'X-API-Key': API_KEY, 'Content-Type': 'application/json' };
      if (declared !== undefined) headers['Content-Length'] = declared;
      const req = request(`${gyre.apiUrl}/batch`, { method: 'POST', headers });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      for (let written = 0; written < sent; written += chunk.length) req.write(chunk);
    });
  }

  it('a body over http_api.max_request_body_size ⇒ 413 before the body is sent (declared length)', async () => {
    assert.equal(await partialPost(64 * 1024, MAX_BODY + 1), 413);
  });

  it('a chunked body growing past http_api.max_request_body_size ⇒ 413 without the client finishing it', async () => {
    assert.equal(await partialPost(MAX_BODY + 128 * 1024, undefined), 413);
  });

  it('more commands than http_api.max_batch_size ⇒ 400; nothing runs', async () => {
    const before = await post(batchBody(1));
    assert.equal(before.status, 200);
    const r = await post(`{"commands":[${'{"publish":{"channel":"rec:over","data":{}}},'.repeat(MAX_BATCH)}{"info":{}}]}`);
    assert.equal(r.status, 400);
    const h = await fetch(`${gyre.apiUrl}/history`, {
      method: 'POST',
      headers: { 'X-API-Key': API_KEY },
      body: JSON.stringify({ channel: 'rec:over', limit: -1 }),
    });
    const hist = (await h.json()) as { result?: { publications?: unknown[]; offset?: number } };
    assert.equal(hist.result?.publications?.length ?? 0, 0, 'no publication of the refused batch');
    assert.equal(hist.result?.offset ?? 0, 0);
    // Exactly at the bound: accepted.
    assert.equal((await post(batchBody(MAX_BATCH))).status, 200);
  });

  it('a large allowed batch returns every result in order, and /health is answered while it runs', async () => {
    const n = MAX_BATCH;
    const batch = post(batchBody(n)).then((r) => ({ ...r, at: Date.now() }));
    const health = await (async () => {
      for (let i = 0; i < 200; i++) {
        const res = await fetch(`${gyre.baseUrl}/health`);
        await res.arrayBuffer();
        if (res.status === 200) return { status: res.status, at: Date.now() };
      }
      return { status: 0, at: Date.now() };
    })();
    const r = await withTimeout(batch, 120_000, 'batch response');
    assert.equal(health.status, 200);
    assert.ok(health.at <= r.at, '/health answered before the batch finished');
    assert.equal(r.status, 200);
    const out = JSON.parse(r.text) as { replies: Record<string, unknown>[] };
    assert.equal(out.replies.length, n);
    for (const rep of out.replies) assert.ok(isRecord(rep['info']) && Array.isArray(rep['info']['nodes']));
  });
});
