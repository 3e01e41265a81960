// Connect/authentication compatibility with centrifuge-js 5.7.4 (docs/protocol.md §1.6, §1.10, §2.3, §3.1, §3.2, §3.6).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConnectedContext, DisconnectedContext, ErrorContext } from 'centrifuge';
import { ClientPool, collect, isRecord, replyWithId, UUID_RE } from '../harness/clients.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { connToken } from '../harness/tokens.js';
import { nextEvent, waitFor, withTimeout } from '../harness/wait.js';
import { baseConfig } from './base-config.js';
import { subscribeOutcome } from './outcome.js';

// The three servers of this file start in parallel (each process start costs seconds).
let servers: Promise<GyreProcess[]> | undefined;
function server(i: number): Promise<GyreProcess> {
  servers ??= Promise.all([
    startGyre(baseConfig()),
    startGyre(mergeConfig(baseConfig(), { client: { allow_anonymous_connect_without_token: true } })),
    // Short ping/pong/stale timers so §1.10 and §1.9 behaviour is observable within seconds.
    startGyre(
      mergeConfig(baseConfig(), {
        client: { insecure: true, ping_interval: '2s', pong_timeout: '1s', stale_close_delay: '1s' },
      }),
    ),
  ]);
  return servers.then((all) => {
    const g = all[i];
    assert.ok(g);
    return g;
  });
}

describe('compat: connect with JWT (default server)', () => {
  let gyre: GyreProcess;
  const pool = new ClientPool();
  before(async () => {
    gyre = await server(0);
  });
  after(async () => {
    pool.closeAll();
    await gyre?.stop();
  });

  it('connects with a valid token: connected event, client id, ping/pong/expires/ttl in the reply', async () => {
    const token = await connToken({ sub: 'alice', expIn: 3600 });
    const { client, rec } = pool.json(gyre.url, { token });
    const connected = nextEvent<ConnectedContext>(client, 'connected');
    client.connect();
    const ctx = await connected;
    assert.equal(ctx.transport, 'websocket');
    assert.match(ctx.client, UUID_RE);
    const reply = replyWithId(rec, 1);
    assert.ok(reply, 'connect reply with id 1 recorded');
    const res = reply['connect'];
    assert.ok(isRecord(res), 'reply has a connect result');
    assert.equal(res['client'], ctx.client);
    assert.equal(res['ping'], 25);
    assert.equal(res['pong'], true);
    assert.equal(res['expires'], true);
    assert.equal(typeof res['ttl'], 'number');
    const ttl = res['ttl'] as number;
    assert.ok(ttl > 3590 && ttl <= 3600, `ttl ${ttl} ≈ 3600`);
    assert.equal(typeof res['version'], 'string');
    assert.equal('session' in res, false, 'no session on websocket');
    assert.equal('node' in res, false, 'no node on websocket');
    assert.equal('error' in reply, false);
  });

  it('a token without exp gives a connection that does not expire (no expires/ttl)', async () => {
    const token = await connToken({ sub: 'alice' });
    const { client, rec } = pool.json(gyre.url, { token });
    const connected = nextEvent<ConnectedContext>(client, 'connected');
    client.connect();
    await connected;
    const res = replyWithId(rec, 1)?.['connect'];
    assert.ok(isRecord(res));
    assert.notEqual(res['expires'], true);
    assert.equal(res['ttl'] ?? 0, 0);
  });

  it('expired token ⇒ connect error 109, getToken is called and the retry connects', async () => {
    const expired = await connToken({ sub: 'bob', expIn: -60 });
    let calls = 0;
    const { client, rec } = pool.json(gyre.url, {
      token: expired,
      getToken: async () => {
        calls++;
        return await connToken({ sub: 'bob', expIn: 3600 });
      },
    });
    const errors = collect<ErrorContext>(client, 'error');
    const connected = nextEvent<ConnectedContext>(client, 'connected', 15_000);
    client.connect();
    await connected;
    assert.equal(calls, 1);
    const first = replyWithId(rec, 1);
    assert.deepEqual(first, { id: 1, error: { code: 109, message: 'token expired' } });
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.type, 'connect');
    assert.equal(errors[0]?.error.code, 109);
  });

  it('client-side refresh: after ttl the client sends `refresh` with a new token and gets expires/ttl', async () => {
    let calls = 0;
    const { client, rec } = pool.json(gyre.url, {
      token: await connToken({ sub: 'fred', expIn: 3 }),
      getToken: async () => {
        calls++;
        return await connToken({ sub: 'fred', expIn: 3600 });
      },
    });
    const connected = nextEvent<ConnectedContext>(client, 'connected');
    client.connect();
    await connected;
    const first = replyWithId(rec, 1)?.['connect'];
    assert.ok(isRecord(first));
    assert.equal(first['expires'], true);
    assert.ok((first['ttl'] as number) >= 1 && (first['ttl'] as number) <= 3, `ttl ${String(first['ttl'])}`);
    const refreshReply = await waitFor(
      () => rec.messages().find((m) => isRecord(m) && isRecord(m['refresh'])),
      { timeoutMs: 15_000, what: 'refresh reply' },
    );
    assert.equal(calls, 1);
    assert.ok(isRecord(refreshReply) && isRecord(refreshReply['refresh']));
    assert.equal(refreshReply['refresh']['expires'], true);
    const ttl = refreshReply['refresh']['ttl'] as number;
    assert.ok(ttl > 3590 && ttl <= 3600, `refreshed ttl ${ttl}`);
    assert.equal(client.state, 'connected');
  });

  it('token signed with another key ⇒ disconnected 3500 "invalid token" (terminal)', async () => {
    const bad = await connToken({ sub: 'eve', expIn: 3600 }, 'not-the-right-secret-0123456789');
    const { client, rec } = pool.json(gyre.url, { token: bad });
    const disconnected = nextEvent<DisconnectedContext>(client, 'disconnected');
    client.connect();
    const ctx = await disconnected;
    assert.deepEqual({ code: ctx.code, reason: ctx.reason }, { code: 3500, reason: 'invalid token' });
    await waitFor(() => rec.closes.length > 0, { what: 'socket close' });
    assert.equal(rec.closes[0]?.code, 3500);
    assert.equal(rec.closes[0]?.reason, 'invalid token');
  });

  it('malformed token string ⇒ disconnected 3500', async () => {
    const { client } = pool.json(gyre.url, { token: 'not.a.jwt' });
    const disconnected = nextEvent<DisconnectedContext>(client, 'disconnected');
    client.connect();
    assert.equal((await disconnected).code, 3500);
  });

  it('a `channel` claim inside a connection token ⇒ disconnected 3500', async () => {
    const token = await connToken({ sub: 'eve', expIn: 3600, extra: { channel: 'open:x' } });
    const { client } = pool.json(gyre.url, { token });
    const disconnected = nextEvent<DisconnectedContext>(client, 'disconnected');
    client.connect();
    assert.equal((await disconnected).code, 3500);
  });

  it('no credentials at all ⇒ disconnected 3501 "bad request"', async () => {
    const { client, rec } = pool.json(gyre.url);
    const disconnected = nextEvent<DisconnectedContext>(client, 'disconnected');
    client.connect();
    const ctx = await disconnected;
    assert.deepEqual({ code: ctx.code, reason: ctx.reason }, { code: 3501, reason: 'bad request' });
    await waitFor(() => rec.closes.length > 0, { what: 'socket close' });
    assert.equal(rec.closes[0]?.code, 3501);
  });

  it('an authenticated user may subscribe to a namespace that also allows anonymous users', async () => {
    const token = await connToken({ sub: 'alice', expIn: 3600 });
    const { client } = pool.json(gyre.url, { token });
    client.connect();
    const out = await subscribeOutcome(client.newSubscription('anon:lobby'));
    assert.equal(out.kind, 'subscribed');
  });
});

describe('compat: anonymous connect (client.allow_anonymous_connect_without_token)', () => {
  let gyre: GyreProcess;
  const pool = new ClientPool();
  before(async () => {
    gyre = await server(1);
  });
  after(async () => {
    pool.closeAll();
    await gyre?.stop();
  });

  it('connects without a token as user "" and may use *_for_anonymous channels only', async () => {
    const { client } = pool.json(gyre.url);
    const connected = nextEvent<ConnectedContext>(client, 'connected');
    client.connect();
    assert.match((await connected).client, UUID_RE);
    const ok = await subscribeOutcome(client.newSubscription('anon:lobby'));
    assert.equal(ok.kind, 'subscribed');
    const denied = await subscribeOutcome(client.newSubscription('open:room'));
    assert.equal(denied.kind, 'unsubscribed');
    assert.equal(denied.ctx.code, 103);
  });

  it('a valid token still authenticates the user; an expired one still gets 109', async () => {
    const token = await connToken({ sub: 'carol', expIn: 3600 });
    const { client } = pool.json(gyre.url, { token });
    client.connect();
    const ok = await subscribeOutcome(client.newSubscription('open:room'));
    assert.equal(ok.kind, 'subscribed');
    const expired = await connToken({ sub: 'carol', expIn: -10 });
    const { client: c2, rec } = pool.json(gyre.url, { token: expired, getToken: async () => await connToken({ sub: 'carol', expIn: 60 }) });
    const connected = nextEvent<ConnectedContext>(c2, 'connected', 15_000);
    c2.connect();
    await connected;
    assert.deepEqual(replyWithId(rec, 1)?.['error'], { code: 109, message: 'token expired' });
  });
});

describe('compat: insecure mode (client.insecure) with short ping/pong/stale timers', { concurrency: true }, () => {
  let gyre: GyreProcess;
  const pool = new ClientPool();
  before(async () => {
    gyre = await server(2);
  });
  after(async () => {
    pool.closeAll();
    await gyre?.stop();
  });

  it('connects without a token and every permission check passes', async () => {
    const { client } = pool.json(gyre.url);
    const connected = nextEvent<ConnectedContext>(client, 'connected');
    client.connect();
    await connected;
    const sub = client.newSubscription('closed:room');
    const out = await subscribeOutcome(sub);
    assert.equal(out.kind, 'subscribed');
    const pub = nextEvent<{ data: unknown }>(sub, 'publication');
    await sub.publish({ n: 1 });
    assert.deepEqual((await pub).data, { n: 1 });
  });

  it('server pings `{}` every ping_interval; centrifuge-js pongs and stays connected; no pong ⇒ 3012', async () => {
    // centrifuge-js answers pings (pong:true in the connect reply).
    const { client, rec } = pool.json(gyre.url);
    const connected = nextEvent<ConnectedContext>(client, 'connected');
    client.connect();
    await connected;
    const res = replyWithId(rec, 1)?.['connect'];
    assert.ok(isRecord(res));
    assert.equal(res['ping'], 2);
    assert.equal(res['pong'], true);

    // A raw socket that never pongs.
    const ws = pool.raw(gyre.url);
    const frames: string[] = [];
    ws.on('message', (d: Buffer) => frames.push(d.toString('utf8')));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString('utf8') }));
    });
    await nextEvent(ws, 'open');
    ws.send('{"connect":{},"id":1}');
    const t0 = Date.now();
    const c = await withTimeout(closed, 15_000, 'no-pong close');
    assert.deepEqual(c, { code: 3012, reason: 'no pong' });
    assert.ok(frames.includes('{}'), 'a ping frame `{}` was received before the close');
    assert.ok(Date.now() - t0 >= 1000, 'not closed before a ping + pong timeout');

    // Meanwhile the centrifuge-js client got at least two pings and is still connected.
    await waitFor(() => rec.frames.filter((f) => f.text === '{}').length >= 2, { timeoutMs: 15_000, what: 'two pings' });
    assert.equal(client.state, 'connected');
  });

  it('protobuf wire: varint-delimited connect reply, ping is the single byte 0x00, pong 0x00 keeps it open', async () => {
    const ws = pool.raw(gyre.url, 'centrifuge-protobuf');
    const frames: Array<{ bytes: Uint8Array; binary: boolean }> = [];
    ws.on('message', (d: Buffer, binary: boolean) => {
      frames.push({ bytes: new Uint8Array(d), binary });
      if (d.length === 1 && d[0] === 0) ws.send(new Uint8Array([0])); // pong
    });
    let closed = false;
    ws.once('close', () => {
      closed = true;
    });
    await nextEvent(ws, 'open');
    assert.equal(ws.protocol, 'centrifuge-protobuf');
    // Command{ id: 1, connect: {} } ⇒ 08 01 22 00, length-prefixed with 04.
    ws.send(new Uint8Array([0x04, 0x08, 0x01, 0x22, 0x00]));
    await waitFor(() => frames.length > 0, { what: 'connect reply' });
    const first = frames[0];
    assert.ok(first?.binary, 'binary frame');
    const len = first.bytes[0] ?? 0;
    assert.ok(len > 0 && len < 128 && first.bytes.length === len + 1, 'one varint-delimited Reply');
    assert.deepEqual([...first.bytes.subarray(1, 3)], [0x08, 0x01], 'Reply.id = 1 first');
    await waitFor(() => frames.filter((f) => f.bytes.length === 1 && f.bytes[0] === 0).length >= 2, {
      timeoutMs: 15_000,
      what: 'two protobuf pings',
    });
    assert.equal(closed, false, 'pongs accepted');
  });

  it('no connect within client.stale_close_delay ⇒ close 3502 "stale"', async () => {
    const ws = pool.raw(gyre.url);
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString('utf8') }));
    });
    await nextEvent(ws, 'open');
    assert.deepEqual(await withTimeout(closed, 15_000, 'stale close'), { code: 3502, reason: 'stale' });
  });

  it('accepts an expired token (expiration ignored)', async () => {
    const token = await connToken({ sub: 'dave', expIn: -60 });
    const { client, rec } = pool.json(gyre.url, { token });
    const connected = nextEvent<ConnectedContext>(client, 'connected');
    client.connect();
    await connected;
    assert.equal(replyWithId(rec, 1)?.['error'], undefined);
  });
});
