// Server-side subscriptions and server API actions on live connections, observed with centrifuge-js 5.7.4
// (docs/protocol.md §1.7 subscribe/unsubscribe/refresh pushes, §2.2, §2.3, §3.2 channels claim, §4.7, §6.3).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type {
  ConnectingContext,
  DisconnectedContext,
  ServerPublicationContext,
  ServerSubscribedContext,
  UnsubscribedContext,
} from 'centrifuge';
import { CentClient, CentException } from 'cent.js';
import { API_KEY, callApi, ClientPool, collect, isRecord, type TestClient } from '../harness/clients.js';
import { startGyre, type GyreProcess } from '../harness/gyre.js';
import { connToken } from '../harness/tokens.js';
import { nextEvent, waitFor } from '../harness/wait.js';
import { baseConfig } from './base-config.js';
import { subscribeOutcome } from './outcome.js';

describe('compat: server-side subscriptions and API actions on connections', () => {
  let gyre: GyreProcess;
  let cent: CentClient;
  const pool = new ClientPool();

  const connected = (user: string, channels?: string[]): Promise<TestClient & { id: string }> =>
    pool.connected(gyre.url, channels === undefined ? { sub: user, expIn: 3600 } : { sub: user, expIn: 3600, channels });

  before(async () => {
    gyre = await startGyre(baseConfig());
    cent = new CentClient({ url: gyre.apiUrl, apiKey: API_KEY });
  });
  after(async () => {
    pool.closeAll();
    await gyre?.stop();
  });

  it('token `channels` claim ⇒ server-side subscription in the connect reply, client-level publications', async () => {
    const tc = pool.json(gyre.url, { token: await connToken({ sub: 'sam', expIn: 3600, channels: ['srv:news'] }) });
    const subscribed = collect<ServerSubscribedContext>(tc.client, 'subscribed');
    const pubs = collect<ServerPublicationContext>(tc.client, 'publication');
    tc.client.connect();
    await waitFor(() => subscribed.length === 1, { what: 'server-side subscribed event' });
    assert.equal(subscribed[0]?.channel, 'srv:news');
    assert.equal(subscribed[0]?.recoverable, true);
    const connect = tc.rec.messages().find((m) => isRecord(m) && m['id'] === 1);
    assert.ok(isRecord(connect) && isRecord(connect['connect']));
    const subs = connect['connect']['subs'];
    assert.ok(isRecord(subs) && isRecord(subs['srv:news']), 'connect reply lists srv:news in subs');

    const pos = await cent.publish({ channel: 'srv:news', data: { headline: 'x' } });
    await waitFor(() => pubs.length === 1, { what: 'client-level publication' });
    assert.equal(pubs[0]?.channel, 'srv:news');
    assert.deepEqual(pubs[0]?.data, { headline: 'x' });
    assert.equal(pubs[0]?.offset, pos.offset);
  });

  it('token `subs` claim: per-channel data reaches the client (ConnectResult.subs[ch].data); channels ignored', async () => {
    const token = await connToken({
      sub: 'sid',
      expIn: 3600,
      channels: ['srv:ignored'],
      subs: { 'srv:with-data': { data: { hello: 'x' } } },
    });
    const tc = pool.json(gyre.url, { token });
    const subscribed = collect<ServerSubscribedContext>(tc.client, 'subscribed');
    tc.client.connect();
    await waitFor(() => subscribed.length >= 1, { what: 'server-side subscribed' });
    assert.deepEqual(subscribed.map((c) => c.channel), ['srv:with-data']);
    assert.deepEqual(subscribed[0]?.data, { hello: 'x' });
    const connect = tc.rec.messages().find((m) => isRecord(m) && m['id'] === 1);
    assert.ok(isRecord(connect) && isRecord(connect['connect']) && isRecord(connect['connect']['subs']));
    assert.deepEqual(Object.keys(connect['connect']['subs']), ['srv:with-data']);
  });

  it('token `channels` claim with an unknown namespace ⇒ connect error 102', async () => {
    const tc = pool.json(gyre.url, { token: await connToken({ sub: 'sid', expIn: 3600, channels: ['nope:x'] }) });
    const disconnected = nextEvent<DisconnectedContext>(tc.client, 'disconnected');
    tc.client.connect();
    const ctx = await disconnected;
    assert.equal(ctx.code, 102);
    const reply = tc.rec.messages().find((m) => isRecord(m) && m['id'] === 1);
    assert.deepEqual(reply, { id: 1, error: { code: 102, message: 'unknown channel' } });
  });

  it('API subscribe ⇒ `subscribe` push ⇒ client `subscribed` event; publications follow', async () => {
    const tc = await connected('sue');
    const subscribed = collect<ServerSubscribedContext>(tc.client, 'subscribed');
    const pubs = collect<ServerPublicationContext>(tc.client, 'publication');
    assert.deepEqual(await cent.subscribe({ user: 'sue', channel: 'srv:extra' }), {});
    await waitFor(() => subscribed.length === 1, { what: 'subscribed from API subscribe' });
    assert.equal(subscribed[0]?.channel, 'srv:extra');
    const push = tc.rec.messages().find((m) => isRecord(m) && isRecord(m['push']) && isRecord(m['push']['subscribe']));
    assert.ok(isRecord(push) && isRecord(push['push']));
    assert.equal(push['push']['channel'], 'srv:extra');
    await cent.publish({ channel: 'srv:extra', data: { k: 1 } });
    await waitFor(() => pubs.length === 1, { what: 'publication on srv:extra' });
    assert.deepEqual(pubs[0]?.data, { k: 1 });
    // API unsubscribe of a server-side subscription ⇒ client-level unsubscribed.
    const unsub = nextEvent<{ channel: string }>(tc.client, 'unsubscribed');
    assert.deepEqual(await cent.unsubscribe({ user: 'sue', channel: 'srv:extra' }), {});
    assert.equal((await unsub).channel, 'srv:extra');
  });

  it('API subscribe of an unknown namespace ⇒ 102', async () => {
    await assert.rejects(cent.subscribe({ user: 'sue', channel: 'nope:x' }), CentException);
    const raw = await callApi(gyre.apiUrl, 'subscribe', { user: 'sue', channel: 'nope:x' });
    assert.equal(raw.status, 200);
    assert.deepEqual(raw.body, { error: { code: 102, message: 'unknown channel' } });
  });

  it('API unsubscribe of a client-side subscription ⇒ unsubscribed with code 2000 "server unsubscribe"', async () => {
    const tc = await connected('ursula');
    const sub = tc.client.newSubscription('open:u');
    assert.equal((await subscribeOutcome(sub)).kind, 'subscribed');
    const un = nextEvent<UnsubscribedContext>(sub, 'unsubscribed');
    await cent.unsubscribe({ user: 'ursula', channel: 'open:u' });
    const ctx = await un;
    assert.deepEqual({ code: ctx.code, reason: ctx.reason }, { code: 2000, reason: 'server unsubscribe' });
    const push = tc.rec.messages().find((m) => isRecord(m) && isRecord(m['push']) && isRecord(m['push']['unsubscribe']));
    assert.deepEqual(push, { push: { channel: 'open:u', unsubscribe: { code: 2000, reason: 'server unsubscribe' } } });
  });

  it('API disconnect: default 3503 "force disconnect"; custom code/reason; client filter', async () => {
    const a = await connected('dora');
    const d1 = nextEvent<DisconnectedContext>(a.client, 'disconnected');
    assert.deepEqual(await cent.disconnect({ user: 'dora' }), {});
    const ctx1 = await d1;
    assert.deepEqual({ code: ctx1.code, reason: ctx1.reason }, { code: 3503, reason: 'force disconnect' });
    assert.deepEqual(a.rec.closes[0], { socket: 0, code: 3503, reason: 'force disconnect' });

    const b = await connected('dora');
    const d2 = nextEvent<DisconnectedContext>(b.client, 'disconnected');
    const custom = { user: 'dora', disconnect: { code: 4501, reason: 'custom bye' } };
    await cent.disconnect(custom);
    const ctx2 = await d2;
    assert.deepEqual({ code: ctx2.code, reason: ctx2.reason }, { code: 4501, reason: 'custom bye' });

    // Only the targeted client id of a user with two connections is disconnected.
    const c1 = await connected('duo');
    const c2 = await connected('duo');
    const gone = nextEvent<DisconnectedContext>(c1.client, 'disconnected');
    await cent.disconnect({ user: 'duo', client: c1.id });
    assert.equal((await gone).code, 3503);
    assert.equal(c2.client.state, 'connected');
    const stats = await cent.getInfo();
    assert.ok(stats.nodes.length >= 1);
  });

  it('API refresh pushes a refresh; `expired: true` closes with 3005 (client reconnects)', async () => {
    const tc = await connected('rex');
    const expireAt = Math.floor(Date.now() / 1000) + 7200;
    const refresh = { user: 'rex', expire_at: expireAt };
    assert.deepEqual(await cent.refresh(refresh), {});
    await waitFor(
      () => tc.rec.messages().find((m) => isRecord(m) && isRecord(m['push']) && isRecord(m['push']['refresh'])),
      { what: 'refresh push' },
    );
    const push = tc.rec.messages().find((m) => isRecord(m) && isRecord(m['push']) && isRecord(m['push']['refresh']));
    assert.ok(isRecord(push) && isRecord(push['push']) && isRecord(push['push']['refresh']));
    const r = push['push']['refresh'];
    assert.equal(r['expires'], true);
    assert.ok(typeof r['ttl'] === 'number' && r['ttl'] > 7190 && r['ttl'] <= 7200, `ttl ${String(r['ttl'])}`);

    const connecting = nextEvent<ConnectingContext>(tc.client, 'connecting');
    const expired = { user: 'rex', expired: true };
    await cent.refresh(expired);
    const ctx = await connecting;
    assert.deepEqual({ code: ctx.code, reason: ctx.reason }, { code: 3005, reason: 'connection expired' });
  });
});
