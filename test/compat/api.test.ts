// Every cent.js 6.1.0 method against Gyre's HTTP API, API envelopes/errors/auth, and client rpc/send
// (docs/protocol.md §1.5, §2.1, §2.3 3508, §4.6 RPC, §6.1–6.3).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DisconnectedContext } from 'centrifuge';
import { CentClient, CentException, CentMethods } from 'cent.js';
import { API_KEY, callApi, ClientPool, isRecord, type TestClient } from '../harness/clients.js';
import { startGyre, type GyreProcess } from '../harness/gyre.js';
import { nextEvent } from '../harness/wait.js';
import { baseConfig } from './base-config.js';
import { subscribeOutcome } from './outcome.js';

describe('compat: server HTTP API with cent.js', () => {
  let gyre: GyreProcess;
  let cent: CentClient;
  const pool = new ClientPool();

  const connected = (user: string): Promise<TestClient & { id: string }> =>
    pool.connected(gyre.url, { sub: user, expIn: 3600 });

  before(async () => {
    gyre = await startGyre(baseConfig());
    cent = new CentClient({ url: gyre.apiUrl, apiKey: API_KEY });
  });
  after(async () => {
    pool.closeAll();
    await gyre?.stop();
  });

  it('client rpc without a handler ⇒ error 108 "not available"', async () => {
    const { client } = await connected('rpc-user');
    await assert.rejects(client.rpc('anything', { x: 1 }), (e: unknown) => {
      assert.ok(isRecord(e));
      assert.equal(e['code'], 108);
      assert.equal(e['message'], 'not available');
      return true;
    });
    assert.equal(client.state, 'connected', 'rpc error does not disconnect');
  });

  it('client send (async message) ⇒ disconnected 3508 "not available"', async () => {
    const { client } = await connected('send-user');
    const d = nextEvent<DisconnectedContext>(client, 'disconnected');
    await client.send({ hello: 1 });
    const ctx = await d;
    assert.deepEqual({ code: ctx.code, reason: ctx.reason }, { code: 3508, reason: 'not available' });
  });

  it('publish, broadcast, channels, info, presence, presence_stats, history, history_remove', async () => {
    const a = await connected('api-a');
    const sub = a.client.newSubscription('pres:api');
    assert.equal((await subscribeOutcome(sub)).kind, 'subscribed');
    const sub2 = a.client.newSubscription('open:api');
    assert.equal((await subscribeOutcome(sub2)).kind, 'subscribed');

    assert.deepEqual(await cent.publish({ channel: 'open:api', data: { a: 1 } }), {});
    const p1 = await cent.publish({ channel: 'pres:api', data: { a: 1 } });
    assert.equal(p1.offset, 1);
    assert.equal(typeof p1.epoch, 'string');

    const bc = (await cent.broadcast({ channels: ['open:api', 'pres:api', 'nope:api'], data: { b: 1 } })) as unknown;
    assert.deepEqual(bc, {
      responses: [
        { result: {} },
        { result: { offset: 2, epoch: p1.epoch } },
        { error: { code: 102, message: 'unknown channel' } },
      ],
    });

    const ch = await cent.getChannels({ pattern: '*:api' });
    assert.deepEqual(ch, { channels: { 'open:api': { num_clients: 1 }, 'pres:api': { num_clients: 1 } } });
    const all = await cent.getChannels({ pattern: '' });
    assert.ok('open:api' in all.channels);

    const info = await cent.getInfo();
    assert.equal(info.nodes.length, 1);
    const node = info.nodes[0] as unknown;
    assert.ok(isRecord(node));
    assert.equal(typeof node['uid'], 'string');
    assert.equal(typeof node['name'], 'string');
    assert.equal(typeof node['version'], 'string');
    assert.ok((node['num_clients'] as number) >= 1);
    assert.ok((node['num_users'] as number) >= 1);
    assert.ok((node['num_channels'] as number) >= 2);
    assert.ok((node['num_subs'] as number) >= 2);

    const pres = await cent.getPresence({ channel: 'pres:api' });
    assert.deepEqual(pres, { presence: { [a.id]: { user: 'api-a', client: a.id } } });
    assert.deepEqual(await cent.getPresenceStats({ channel: 'pres:api' }), { num_clients: 1, num_users: 1 });

    const hist = await cent.getHistory({ channel: 'pres:api', limit: 10 });
    assert.deepEqual(hist.publications.map((p) => p.data), [{ a: 1 }, { b: 1 }]);
    assert.deepEqual(await cent.removeHistory({ channel: 'pres:api' }), {});
    assert.deepEqual(await cent.getHistory({ channel: 'pres:api', limit: 10 }), {
      publications: [],
      epoch: p1.epoch,
      offset: 2,
    });
  });

  it('subscribe, unsubscribe, disconnect, refresh for a user with no connection ⇒ {}', async () => {
    assert.deepEqual(await cent.subscribe({ user: 'nobody', channel: 'open:z' }), {});
    assert.deepEqual(await cent.unsubscribe({ user: 'nobody', channel: 'open:z' }), {});
    assert.deepEqual(await cent.disconnect({ user: 'nobody' }), {});
    assert.deepEqual(await cent.refresh({ user: 'nobody' }), {});
  });

  it('cent.js errors are CentException; raw envelopes carry the API code', async () => {
    await assert.rejects(cent.publish({ channel: 'nope:x', data: {} }), CentException);
    await assert.rejects(cent.getPresence({ channel: 'open:x' }), CentException);
    const r = await callApi(gyre.apiUrl, 'publish', { channel: 'nope:x', data: {} });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(r.body, { error: { code: 102, message: 'unknown channel' } });
    const pr = await callApi(gyre.apiUrl, 'presence', { channel: 'open:x' });
    assert.deepEqual(pr.body, { error: { code: 108, message: 'not available' } });
  });

  it('/api/batch: replies without a result wrapper, per-command errors', async () => {
    const r = await callApi(gyre.apiUrl, 'batch', {
      commands: [
        { publish: { channel: 'open:batch', data: { x: 1 } } },
        { publish: { channel: 'nope:batch', data: { x: 1 } } },
        { presence_stats: { channel: 'pres:batch' } },
      ],
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      replies: [
        { publish: {} },
        { error: { code: 102, message: 'unknown channel' } },
        { presence_stats: { num_clients: 0, num_users: 0 } },
      ],
    });
  });

  it('cent.js pipeline (legacy POST /api with newline-delimited commands)', async () => {
    const results = (await cent.pipeline([
      { method: CentMethods.Publish, params: { channel: 'open:pipe', data: { y: 1 } } },
      { method: CentMethods.PresenceStats, params: { channel: 'pres:pipe' } },
    ])) as unknown[];
    assert.deepEqual(results, [{}, { num_clients: 0, num_users: 0 }]);
  });

  it('wrong payloads ⇒ 400 "Bad Request" or error 107 in the body; unknown method path ⇒ 404; GET ⇒ 405', async () => {
    const notJson = await callApi(gyre.apiUrl, 'publish', null, { rawBody: '{"channel": ' });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.text.trim(), 'Bad Request');
    const wrongType = await callApi(gyre.apiUrl, 'publish', { channel: 42, data: {} });
    assert.equal(wrongType.status, 400);

    const bad = { error: { code: 107, message: 'bad request' } };
    assert.deepEqual((await callApi(gyre.apiUrl, 'publish', { channel: '', data: {} })).body, bad);
    assert.deepEqual((await callApi(gyre.apiUrl, 'publish', { channel: 'open:x' })).body, bad);
    assert.deepEqual((await callApi(gyre.apiUrl, 'broadcast', { channels: [], data: {} })).body, bad);
    assert.deepEqual((await callApi(gyre.apiUrl, 'presence', { channel: '' })).body, bad);
    assert.deepEqual((await callApi(gyre.apiUrl, 'subscribe', { user: 'u', channel: '' })).body, bad);
    assert.deepEqual((await callApi(gyre.apiUrl, 'rpc', { method: 'nope' })).body, {
      error: { code: 104, message: 'not found' },
    });

    const transportMode = await callApi(gyre.apiUrl, 'publish', { channel: '', data: {} }, {
      headers: { 'X-Centrifugo-Error-Mode': 'transport' },
    });
    assert.equal(transportMode.status, 400);
    assert.deepEqual(transportMode.body, { code: 107, message: 'bad request' });
    const transport102 = await callApi(gyre.apiUrl, 'publish', { channel: 'nope:x', data: {} }, {
      headers: { 'X-Centrifugo-Error-Mode': 'transport' },
    });
    assert.equal(transport102.status, 404);

    assert.equal((await callApi(gyre.apiUrl, 'no_such_method', {})).status, 404);
    assert.equal((await callApi(gyre.apiUrl, 'publish', null, { httpMethod: 'GET' })).status, 405);
    assert.equal((await callApi(gyre.apiUrl, 'publish', null, { httpMethod: 'GET', key: null })).status, 405);
  });

  it('API auth: missing/wrong key ⇒ 401 empty body; X-API-Key, Authorization: apikey, ?api_key= accepted', async () => {
    const info = {};
    const missing = await callApi(gyre.apiUrl, 'info', info, { key: null });
    assert.equal(missing.status, 401);
    assert.equal(missing.text, '');
    assert.equal((await callApi(gyre.apiUrl, 'info', info, { key: 'wrong' })).status, 401);
    const wrongCent = new CentClient({ url: gyre.apiUrl, apiKey: 'wrong' });
    await assert.rejects(wrongCent.getInfo());
    assert.equal((await callApi(gyre.apiUrl, 'info', info)).status, 200);
    const bearer = await callApi(gyre.apiUrl, 'info', info, { key: null, headers: { Authorization: `apikey ${API_KEY}` } });
    assert.equal(bearer.status, 200);
    const upper = await callApi(gyre.apiUrl, 'info', info, { key: null, headers: { Authorization: `APIKEY ${API_KEY}` } });
    assert.equal(upper.status, 200);
    const query = await callApi(gyre.apiUrl, 'info', info, { key: null, query: `?api_key=${API_KEY}` });
    assert.equal(query.status, 200);
    const wrongScheme = await callApi(gyre.apiUrl, 'info', info, { key: null, headers: { Authorization: `Bearer ${API_KEY}` } });
    assert.equal(wrongScheme.status, 401);
  });
});
