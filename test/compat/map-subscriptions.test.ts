// Map subscriptions (docs/map-subscriptions.md) with the official centrifuge client 5.7.4 against a Gyre process:
// state on subscribe, live changes from the API and from the client, key TTL expiry, stream recovery after a
// dropped connection, map_clients presence, the protobuf client, and the codes for bad input.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { MapSyncContext, MapUpdateContext, SubscribedContext } from 'centrifuge';
import { Centrifuge as PbCentrifuge } from 'centrifuge/build/protobuf';
import WebSocket from 'ws';
import { API_KEY, ClientPool, callApi, type TestClient } from '../harness/clients.js';
import { GrpcApiClient, type Msg } from '../harness/grpc.js';
import { freePort } from '../harness/ports.js';
import { connToken } from '../harness/tokens.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { nextEvent, waitFor } from '../harness/wait.js';
import { baseConfig } from './base-config.js';

function mapConfig(backend = 'http://127.0.0.1:9'): Record<string, unknown> {
  const base = baseConfig();
  const channel = base['channel'] as { namespaces: unknown[] };
  const rw = { allow_publish_for_client: true, allow_remove_for_client: true };
  return mergeConfig(base, {
    channel: {
      namespaces: [
        ...channel.namespaces,
        { name: 'eph', subscription_type: 'map', map: { mode: 'ephemeral', key_ttl: '60s', ...rw }, allow_subscribe_for_client: true, map_clients_presence_channel_prefix: 'who:' },
        { name: 'ttl', subscription_type: 'map', map: { mode: 'ephemeral', key_ttl: '1s', ...rw }, allow_subscribe_for_client: true },
        { name: 'per', subscription_type: 'map', map: { mode: 'persistent', ...rw }, allow_subscribe_for_client: true },
        { name: 'who', subscription_type: 'map_clients', map: { mode: 'ephemeral', key_ttl: '60s' }, allow_subscribe_for_client: true },
        { name: 'room', subscription_type: 'map', map: { mode: 'ephemeral', key_ttl: '60s' }, allow_subscribe_for_client: true, map_users_presence_channel_prefix: 'usr:' },
        { name: 'usr', subscription_type: 'map_users', map: { mode: 'ephemeral', key_ttl: '60s' }, allow_subscribe_for_client: true },
        {
          name: 'slow',
          subscription_type: 'map',
          map: { mode: 'ephemeral', key_ttl: '60s', min_page_size: 1, subscribe_catch_up_timeout: '200ms' },
          allow_subscribe_for_client: true,
        },
        {
          name: 'prx',
          subscription_type: 'map',
          allow_subscribe_for_client: true,
          map: { mode: 'persistent', publish_proxy_enabled: true, publish_proxy_name: 'mapb', remove_proxy_enabled: true, remove_proxy_name: 'mapb' },
        },
      ],
    },
    proxies: [{ name: 'mapb', endpoint: backend, timeout: '2s' }],
  });
}

describe('compat: map subscriptions', () => {
  let gyre: GyreProcess;
  let grpcApi: GrpcApiClient;
  let backend: Server;
  const proxied: Array<Record<string, unknown>> = [];
  const pool = new ClientPool();
  let n = 0;
  const chan = (ns: string): string => `${ns}:m${++n}`;
  const api = async (method: string, body: unknown): Promise<Record<string, unknown>> =>
    (await callApi(gyre.apiUrl, method, body)).body as Record<string, unknown>;

  before(async () => {
    // The application backend of the map proxies: it renames keys, wraps data and refuses the key "deny".
    backend = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const r = JSON.parse(body) as Record<string, unknown>;
        proxied.push(r);
        const key = String(r['key']);
        const answer =
          key === 'deny'
            ? { error: { code: 4001, message: 'not yours' } }
            : 'data' in r
              ? { result: { key: `srv-${key}`, data: { wrapped: r['data'] }, tags: { by: 'backend' } } }
              : { result: { key: `srv-${key}` } };
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const addr = backend.address();
    const backendUrl = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}/map`;
    const port = await freePort();
    gyre = await startGyre(mergeConfig(mapConfig(backendUrl), { grpc_api: { enabled: true, address: '127.0.0.1', port, key: API_KEY } }));
    grpcApi = new GrpcApiClient(`127.0.0.1:${port}`, API_KEY);
  });
  after(async () => {
    grpcApi?.close();
    pool.closeAll();
    await gyre?.stop();
    await new Promise((r) => backend?.close(r));
  });

  async function connected(): Promise<TestClient & { id: string }> {
    return pool.connected(gyre.url, { sub: `u${++n}`, expIn: 3600 });
  }

  it('subscribe gets the state; API and client changes arrive as updates', async () => {
    const ch = chan('eph');
    await api('map_publish', { channel: ch, key: 'a', data: { v: 1 } });
    await api('map_publish', { channel: ch, key: 'b', data: { v: 2 }, tags: { t: 'x' } });
    const { client } = await connected();
    const sub = client.newMapSubscription(ch);
    const sync = nextEvent<MapSyncContext>(sub, 'sync');
    sub.subscribe();
    const s = await sync;
    assert.deepEqual(s.entries.map((e) => [e.key, e.data]).sort(), [['a', { v: 1 }], ['b', { v: 2 }]]);
    const updates: MapUpdateContext[] = [];
    sub.on('update', (u) => updates.push(u));
    await api('map_publish', { channel: ch, key: 'c', data: { v: 3 } });
    await sub.publish('d', { v: 4 });
    await sub.remove('a');
    await api('map_remove', { channel: ch, key: 'b' });
    await waitFor(() => updates.length === 4, { what: 'four updates' });
    assert.deepEqual(updates.map((u) => [u.key, u.removed === true]), [['c', false], ['d', false], ['a', true], ['b', true]]);
    const state = await api('map_read_state', { channel: ch, limit: -1 });
    const entries = ((state['result'] as { entries?: Array<{ key: string }> }).entries ?? []).map((e) => e.key).sort();
    assert.deepEqual(entries, ['c', 'd']);
    assert.deepEqual(await api('map_stats', { channel: ch }), { result: { num_keys: 2 } });
  });

  it('an ephemeral key expires after key_ttl: the subscriber gets its removal', async () => {
    const ch = chan('ttl');
    const { client } = await connected();
    const sub = client.newMapSubscription(ch);
    sub.subscribe();
    await sub.ready(5000);
    const updates: MapUpdateContext[] = [];
    sub.on('update', (u) => updates.push(u));
    await api('map_publish', { channel: ch, key: 'gone', data: { v: 1 } });
    await waitFor(() => updates.some((u) => u.removed === true), { what: 'expiry removal', timeoutMs: 8000 });
    assert.deepEqual(updates.map((u) => [u.key, u.removed === true]), [['gone', false], ['gone', true]]);
  });

  it('persistent mode: a dropped connection recovers the changes it missed, without a new sync', async () => {
    const ch = chan('per');
    const { client, rec } = await connected();
    const sub = client.newMapSubscription(ch);
    const first = nextEvent<SubscribedContext>(sub, 'subscribed');
    sub.subscribe();
    assert.equal((await first).recoverable, true);
    const updates: MapUpdateContext[] = [];
    sub.on('update', (u) => updates.push(u));
    await api('map_publish', { channel: ch, key: 'k1', data: { v: 1 } });
    await waitFor(() => updates.length === 1, { what: 'live update' });
    let syncs = 0;
    sub.on('sync', () => syncs++);
    const again = nextEvent<SubscribedContext>(sub, 'subscribed', 15_000);
    rec.sockets[rec.sockets.length - 1]?.terminate();
    await api('map_publish', { channel: ch, key: 'k2', data: { v: 2 } });
    await api('map_remove', { channel: ch, key: 'k1' });
    const re = await again;
    assert.equal(re.recovered, true);
    await waitFor(() => updates.length === 3, { what: 'recovered updates' });
    assert.deepEqual(updates.slice(1).map((u) => [u.key, u.removed === true]), [['k2', false], ['k1', true]]);
    assert.equal(syncs, 0);
  });

  it('map_clients presence: subscribers of the channel are listed under their client id', async () => {
    const ch = chan('eph');
    const watcher = await connected();
    const pres = watcher.client.newMapClientsSubscription(`who:${ch}`);
    const sync = nextEvent<MapSyncContext>(pres, 'sync');
    pres.subscribe();
    assert.equal((await sync).entries.length, 0);
    const changes: MapUpdateContext[] = [];
    pres.on('update', (u) => changes.push(u));
    const member = await connected();
    const sub = member.client.newMapSubscription(ch);
    sub.subscribe();
    await waitFor(() => changes.length === 1, { what: 'presence add' });
    assert.equal(changes[0]?.key, member.id);
    assert.equal(changes[0]?.info?.client, member.id);
    sub.unsubscribe();
    await waitFor(() => changes.length === 2, { what: 'presence removal' });
    assert.deepEqual([changes[1]?.key, changes[1]?.removed], [member.id, true]);
  });

  it('map_users presence: a user is listed once under the user id and stays after the unsubscribe (its TTL ends it)', async () => {
    const ch = chan('room');
    const watcher = await connected();
    const pres = watcher.client.newMapUsersSubscription(`usr:${ch}`);
    pres.subscribe();
    await pres.ready(5000);
    const changes: MapUpdateContext[] = [];
    pres.on('update', (u) => changes.push(u));
    const a = await pool.connected(gyre.url, { sub: 'same-user', expIn: 3600 });
    const b = await pool.connected(gyre.url, { sub: 'same-user', expIn: 3600 });
    const subA = a.client.newMapSubscription(ch);
    subA.subscribe();
    await subA.ready(5000);
    const subB = b.client.newMapSubscription(ch);
    subB.subscribe();
    await subB.ready(5000);
    await waitFor(() => changes.length >= 1, { what: 'user presence add' });
    subA.unsubscribe();
    subB.unsubscribe();
    const state = await api('map_read_state', { channel: `usr:${ch}`, limit: -1 });
    assert.deepEqual(((state['result'] as { entries?: Array<{ key: string }> }).entries ?? []).map((e) => e.key), ['same-user']);
    assert.deepEqual(changes.map((u) => [u.key, u.removed === true]), [['same-user', false]]);
  });

  it('the protobuf client gets the state and binary updates', async (t) => {
    const ch = chan('per');
    await api('map_publish', { channel: ch, key: 'p', data: { v: 1 } });
    const c = new PbCentrifuge(gyre.url.replace('websocket', 'websocket?format=protobuf'), { websocket: WebSocket, token: await connToken({ sub: 'pb', expIn: 3600 }) });
    t.after(() => c.disconnect());
    c.connect();
    const sub = c.newMapSubscription(ch);
    const sync = nextEvent<MapSyncContext>(sub, 'sync');
    sub.subscribe();
    const s = await sync;
    const decode = (d: unknown): unknown => JSON.parse(new TextDecoder().decode(d as Uint8Array));
    assert.deepEqual(s.entries.map((e) => [e.key, decode(e.data)]), [['p', { v: 1 }]]);
    const upd = nextEvent<MapUpdateContext>(sub, 'update');
    await api('map_publish', { channel: ch, key: 'q', data: { v: 2 } });
    const u = await upd;
    assert.deepEqual([u.key, decode(u.data)], ['q', { v: 2 }]);
  });

  it('the GRPC API has the map methods: publish, remove, read state and stream, stats, clear', async () => {
    const ch = chan('per');
    const p1 = await grpcApi.ok('MapPublish', { channel: ch, key: 'g1', data: Buffer.from('{"v":1}') });
    assert.equal(p1['offset'], 1);
    await grpcApi.ok('MapPublish', { channel: ch, key: 'g2', data: Buffer.from([0, 1, 2]) });
    const dup = await grpcApi.ok('MapPublish', { channel: ch, key: 'g1', data: Buffer.from('{}'), key_mode: 'if_new' });
    assert.deepEqual([dup['suppressed'], dup['suppress_reason']], [true, 'key_exists']);
    await grpcApi.ok('MapRemove', { channel: ch, key: 'g2' });
    const state = await grpcApi.ok('MapReadState', { channel: ch, limit: -1 });
    const entries = state['entries'] as Msg[];
    assert.deepEqual(entries.map((e) => [e['key'], Buffer.from(e['data'] as Uint8Array).toString()]), [['g1', '{"v":1}']]);
    const stream = await grpcApi.ok('MapReadStream', { channel: ch, limit: -1 });
    assert.deepEqual((stream['entries'] as Msg[]).map((e) => [e['key'], e['removed'] === true]), [['g1', false], ['g2', false], ['g2', true]]);
    assert.equal((await grpcApi.ok('MapStats', { channel: ch }))['num_keys'], 1);
    await grpcApi.ok('MapClear', { channel: ch });
    assert.equal((await grpcApi.ok('MapStats', { channel: ch }))['num_keys'] ?? 0, 0);
    const bad = await grpcApi.call('MapPublish', { channel: ch, data: Buffer.from('{}') });
    assert.equal(((bad.response?.['error'] as Msg | undefined)?.['code']), 107);
  });

  it('map publish and remove proxies: the backend picks the key and data, or refuses', async () => {
    const ch = chan('prx');
    const { client, id } = await connected();
    const sub = client.newMapSubscription(ch);
    sub.subscribe();
    await sub.ready(5000);
    const updates: MapUpdateContext[] = [];
    sub.on('update', (u) => updates.push(u));
    await sub.publish('a', { v: 1 });
    await assert.rejects(sub.publish('deny', { v: 2 }), (e: { code: number }) => e.code === 4001);
    await sub.remove('a');
    await waitFor(() => updates.length === 2, { what: 'proxied updates' });
    assert.deepEqual(updates.map((u) => [u.key, u.removed === true, u.data, u.tags]), [
      ['srv-a', false, { wrapped: { v: 1 } }, { by: 'backend' }],
      ['srv-a', true, undefined, { by: 'backend' }],
    ]);
    const first = proxied.find((r) => r['key'] === 'a' && 'data' in r);
    assert.deepEqual([first?.['client'], first?.['channel'], first?.['data'], first?.['encoding']], [id, ch, { v: 1 }, 'json']);
  });

  it('bad input gets Centrifugo codes', async () => {
    assert.deepEqual(await api('map_publish', { channel: chan('eph'), data: { v: 1 } }), { error: { code: 107, message: 'bad request' } });
    assert.equal(((await api('map_publish', { channel: 'open:x', key: 'k', data: {} }))['error'] as { code: number }).code, 107);
    assert.equal(((await api('map_publish', { channel: 'nope:x', key: 'k', data: {} }))['error'] as { code: number }).code, 102);
    assert.equal(((await api('map_publish', { channel: chan('eph'), key: 'k', key_mode: 'sometimes' }))['error'] as { code: number }).code, 107);
    const res = await callApi(gyre.apiUrl, 'map_read_stream', { channel: chan('per'), since_offset: 'x' });
    assert.equal(res.status, 400);

    // Raw protocol: wrong subscription type either way, a stream page without a subscribe, a map publish without key.
    const ws = pool.raw(gyre.url);
    await new Promise((r) => ws.once('open', r));
    const replies = new Map<number, Record<string, unknown>>();
    ws.on('message', (d: Buffer) => {
      for (const line of d.toString().split('\n')) {
        const m = JSON.parse(line) as Record<string, unknown> & { id?: number };
        if (m.id !== undefined) replies.set(m.id, m);
      }
    });
    const call = async (id: number, cmd: Record<string, unknown>): Promise<number | undefined> => {
      ws.send(JSON.stringify({ id, ...cmd }));
      await waitFor(() => replies.has(id), { what: `reply ${id}` });
      return (replies.get(id)?.['error'] as { code: number } | undefined)?.code;
    };
    const token = await connToken({ sub: 'raw', expIn: 3600 });
    assert.equal(await call(1, { connect: { token } }), undefined);
    assert.equal(await call(2, { subscribe: { channel: chan('eph') } }), 103);
    assert.equal(await call(3, { subscribe: { channel: 'open:m', type: 1, phase: 2 } }), 103);
    assert.equal(await call(4, { subscribe: { channel: chan('per'), type: 1, phase: 1, offset: 3 } }), 103);
    assert.equal(await call(5, { subscribe: { channel: chan('eph'), type: 1, phase: 2, cursor: 'x' } }), 103);
    assert.equal(await call(6, { publish: { channel: chan('eph'), type: 1, data: { v: 1 } } }), 107);
    assert.equal(await call(7, { subscribe: { channel: chan('eph'), type: 1, phase: 1, recover: true } }), 107);
    assert.equal(ws.readyState, WebSocket.OPEN);

    // A paginated subscribe that takes longer than subscribe_catch_up_timeout: the next page closes with 3008.
    const slow = chan('slow');
    for (const k of ['a', 'b', 'c']) await api('map_publish', { channel: slow, key: k, data: 1 });
    const page = replies;
    ws.send(JSON.stringify({ id: 8, subscribe: { channel: slow, type: 1, phase: 2, limit: 1 } }));
    await waitFor(() => page.has(8), { what: 'first state page' });
    const first = page.get(8)?.['subscribe'] as { cursor?: string; state?: unknown[] };
    assert.deepEqual([first.cursor, first.state?.length], ['a', 1]);
    const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
    await new Promise((r) => setTimeout(r, 400));
    ws.send(JSON.stringify({ id: 9, subscribe: { channel: slow, type: 1, phase: 2, limit: 1, cursor: 'a' } }));
    assert.equal(await closed, 3008);
  });
});
