// Shared poll (docs/shared-poll.md) with the official centrifuge client against a real Gyre process and a real
// HTTP poll backend (test/harness/poll-backend.ts): subscribe type 4, track/untrack with signed keys, updates when
// the backend's data changes, late joiners, removals, versionless mode, shared_poll_publish from the API, the
// Protobuf protocol, bad input codes, and backends that fail, answer garbage or hang (other channels keep going,
// the loop stops when the last tracker leaves).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Centrifuge, SharedPollSubscription, SharedPollUpdateContext } from 'centrifuge';
import { Centrifuge as PbCentrifuge } from 'centrifuge/build/protobuf';
import WebSocket from 'ws';
import { signTrack } from '../../src/core/shared-poll/signature.js';
import { API_KEY, callApi, ClientPool } from '../harness/clients.js';
import { GrpcApiClient } from '../harness/grpc.js';
import { freePort } from '../harness/ports.js';
import { mergeConfig, startGyre, type GyreProcess } from '../harness/gyre.js';
import { startPollBackend, type PollBackend } from '../harness/poll-backend.js';
import { parseScrape, total } from '../harness/prom-text.js';
import { connToken } from '../harness/tokens.js';
import { nextEvent, waitFor } from '../harness/wait.js';
import { baseConfig } from './base-config.js';

const SECRET = 'poll-test-secret';
const USER = 'u1';

function sign(channel: string, keys: string[], ttl = 3600, user = USER, secret = SECRET): string {
  const now = Math.floor(Date.now() / 1000);
  return signTrack(secret, channel, keys, user, now, now + ttl);
}

const getSignature = (channel: string) => (ctx: { keys: string[] }) => Promise.resolve({ keys: ctx.keys, signature: sign(channel, ctx.keys) });

let seq = 0;
const unique = (ns: string): string => `${ns}:c${Date.now()}_${++seq}`;

describe('shared poll', () => {
  let gyre: GyreProcess;
  let backend: PollBackend;
  let grpcApi: GrpcApiClient;
  let startConfig: Record<string, unknown>;
  const pool = new ClientPool();

  before(async () => {
    backend = await startPollBackend();
    const sp = (extra: Record<string, unknown>) => ({ proxy_name: 'poll', refresh_interval: '150ms', channel_shutdown_delay: '100ms', ...extra });
    const base = baseConfig();
    const namespaces = (base['channel'] as { namespaces: unknown[] }).namespaces;
    const grpcPort = await freePort();
    startConfig = mergeConfig(base, {
        log: { level: 'info' },
        prometheus: { enabled: true },
        shared_poll: { hmac_secret_key: SECRET, concurrency_limit: 4 },
        proxies: [
          { name: 'poll', endpoint: backend.endpoint, timeout: '400ms' },
          { name: 'pollg', endpoint: backend.grpcEndpoint, timeout: '400ms' },
        ],
        grpc_api: { enabled: true, address: '127.0.0.1', port: grpcPort, key: API_KEY },
        channel: {
          namespaces: [
            ...namespaces,
            { name: 'poll', subscription_type: 'shared_poll', shared_poll: sp({ mode: 'versioned', max_keys_per_connection: 3 }), allow_subscribe_for_client: true },
            { name: 'pollvl', subscription_type: 'shared_poll', shared_poll: sp({}), allow_subscribe_for_client: true },
            { name: 'pollpub', subscription_type: 'shared_poll', shared_poll: sp({ mode: 'versioned', publish_enabled: true, refresh_interval: '30s' }), allow_subscribe_for_client: true },
            { name: 'pollg', subscription_type: 'shared_poll', shared_poll: sp({ proxy_name: 'pollg', mode: 'versioned', publish_enabled: true }), allow_subscribe_for_client: true },
          ],
        },
      });
    gyre = await startGyre(startConfig);
    grpcApi = new GrpcApiClient(`127.0.0.1:${grpcPort}`, API_KEY);
  });

  after(async () => {
    grpcApi?.close();
    pool.closeAll();
    await gyre?.stop();
    await backend?.close();
  });

  async function connect(protobuf = false): Promise<Centrifuge> {
    const token = await connToken({ sub: USER });
    const c = protobuf
      ? pool.track(new PbCentrifuge(gyre.url, { websocket: WebSocket, token }) as unknown as Centrifuge)
      : pool.json(gyre.url, { token }).client;
    c.connect();
    await c.ready(5000);
    return c;
  }

  async function subscribed(c: Centrifuge, channel: string, withSignature = true): Promise<SharedPollSubscription> {
    const sub = c.newSharedPollSubscription(channel, withSignature ? { getSignature: getSignature(channel) } : {});
    sub.subscribe();
    await sub.ready(5000);
    return sub;
  }

  const nextUpdate = (sub: SharedPollSubscription, ms = 5000): Promise<SharedPollUpdateContext> => nextEvent(sub, 'update', ms);

  it('tracks keys, delivers the data and every later version, and stops after untrack', async () => {
    const ch = unique('poll');
    backend.set(ch, 'a', { data: { v: 1 }, version: 1 });
    backend.set(ch, 'b', { data: { v: 10 }, version: 5 });
    const sub = await subscribed(await connect(), ch);
    const got: SharedPollUpdateContext[] = [];
    sub.on('update', (u) => got.push(u));
    sub.track(['a', 'b']);
    await waitFor(() => got.length === 2, { what: 'both keys' });
    assert.deepEqual(
      got.map((u) => [u.key, u.data, u.version]).sort(),
      [
        ['a', { v: 1 }, 1],
        ['b', { v: 10 }, 5],
      ],
    );
    backend.set(ch, 'a', { data: { v: 2 }, version: 2 });
    const u = await nextUpdate(sub);
    assert.deepEqual([u.key, u.data, u.version], ['a', { v: 2 }, 2]);
    sub.untrack(['a']);
    await waitFor(() => backend.requestsFor(ch).at(-1)?.items.every((i) => i.key !== 'a') === true, { what: 'a no longer polled' });
    const before = got.length;
    backend.set(ch, 'a', { data: { v: 3 }, version: 3 });
    backend.set(ch, 'b', { data: { v: 11 }, version: 6 });
    const next = await nextUpdate(sub);
    assert.equal(next.key, 'b');
    assert.equal(got.filter((x) => x.key === 'a').length, before - 1);
  });

  it('a client tracking a key others already track gets its current data; one already up to date gets nothing', async () => {
    const ch = unique('poll');
    backend.set(ch, 'k', { data: { flag: true }, version: 4 });
    const s1 = await subscribed(await connect(), ch);
    const first = nextUpdate(s1);
    s1.track(['k']);
    assert.equal((await first).version, 4);
    const s1Later: SharedPollUpdateContext[] = [];
    s1.on('update', (x) => s1Later.push(x));
    const s2 = await subscribed(await connect(), ch);
    const second = nextUpdate(s2);
    s2.track(['k']);
    assert.deepEqual((await second).data, { flag: true });
    // A client that already holds version 4 is filtered.
    const s3 = await subscribed(await connect(), ch);
    const s3Got: SharedPollUpdateContext[] = [];
    s3.on('update', (x) => s3Got.push(x));
    s3.track([{ key: 'k', version: 4 }], sign(ch, ['k']));
    backend.set(ch, 'k', { data: { flag: false }, version: 5 });
    await waitFor(() => s3Got.length === 1, { what: 'version 5 at s3' });
    assert.equal(s3Got[0]!.version, 5);
    assert.deepEqual(s1Later.map((x) => x.version), [5]);
  });

  it('delivers removals and versionless updates with synthetic versions', async () => {
    const ch = unique('poll');
    backend.set(ch, 'r', { data: { x: 1 }, version: 1 });
    const sub = await subscribed(await connect(), ch);
    const first = nextUpdate(sub);
    sub.track(['r']);
    await first;
    const removal = nextUpdate(sub);
    backend.set(ch, 'r', { data: null, version: 2, removed: true });
    const r = await removal;
    assert.equal(r.removed, true);
    assert.equal(sub.trackedKeys().has('r'), false);

    const vl = unique('pollvl');
    backend.set(vl, 'k', { data: { val: 'a' }, version: 0 });
    const vsub = await subscribed(await connect(), vl);
    const u1p = nextUpdate(vsub);
    vsub.track(['k']);
    const u1 = await u1p;
    assert.ok((u1.version ?? 0) > 0);
    const u2p = nextUpdate(vsub);
    backend.set(vl, 'k', { data: { val: 'b' }, version: 0 });
    const u2 = await u2p;
    assert.deepEqual(u2.data, { val: 'b' });
    assert.ok((u2.version ?? 0) > (u1.version ?? 0));
  });

  it('shared_poll_publish delivers newer versions at once; the API checks its input', async () => {
    const ch = unique('pollpub');
    backend.set(ch, 'p', { data: { n: 1 }, version: 1 });
    const sub = await subscribed(await connect(), ch);
    const first = nextUpdate(sub);
    sub.track(['p']);
    await first;
    const next = nextUpdate(sub);
    const ok = await callApi(gyre.apiUrl, 'shared_poll_publish', { channel: ch, key: 'p', version: 7, data: { n: 7 } });
    assert.deepEqual(ok.body, { result: {} });
    const u = await next;
    assert.deepEqual([u.data, u.version], [{ n: 7 }, 7]);
    const cases: Array<[Record<string, unknown>, number]> = [
      [{ channel: ch, key: 'p', data: {} }, 107],
      [{ channel: ch, version: 1, data: {} }, 107],
      [{ channel: unique('poll'), key: 'p', version: 1, data: {} }, 108],
      [{ channel: unique('open'), key: 'p', version: 1, data: {} }, 107],
      [{ channel: 'nosuchns:x', key: 'p', version: 1, data: {} }, 102],
    ];
    for (const [body, code] of cases) {
      const res = await callApi(gyre.apiUrl, 'shared_poll_publish', body);
      assert.deepEqual((res.body as { error?: { code: number } }).error?.code, code, JSON.stringify(body));
    }
    const pub = await callApi(gyre.apiUrl, 'publish', { channel: ch, data: {} });
    assert.equal((pub.body as { error?: { code: number } }).error?.code, 107);
  });

  it('works over the Protobuf protocol', async () => {
    const ch = unique('poll');
    backend.set(ch, 'pb', { data: { hello: 'pb' }, version: 3 });
    const sub = await subscribed(await connect(true), ch);
    const first = nextUpdate(sub);
    sub.track(['pb']);
    const u = await first;
    assert.equal(Number(u.version), 3);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(u.data as Uint8Array)), { hello: 'pb' });
  });

  it('polls a GRPC backend (SharedPollRefresh) and takes SharedPollPublish over the GRPC API', async () => {
    const ch = unique('pollg');
    backend.set(ch, 'g', { data: { via: 'grpc' }, version: 2 });
    const sub = await subscribed(await connect(), ch);
    const first = nextUpdate(sub);
    sub.track(['g']);
    const u = await first;
    assert.deepEqual([u.data, u.version], [{ via: 'grpc' }, 2]);
    assert.ok(backend.requestsFor(ch).length > 0);
    const next = nextUpdate(sub);
    assert.deepEqual(await grpcApi.ok('SharedPollPublish', { channel: ch, key: 'g', version: 9, data: Buffer.from('{"via":"api"}') }), {});
    const p = await next;
    assert.deepEqual([p.data, p.version], [{ via: 'api' }, 9]);
    const refused = await grpcApi.call('SharedPollPublish', { channel: unique('poll'), key: 'g', version: 1, data: Buffer.from('{}') });
    assert.equal((refused.response?.['error'] as { code?: number } | undefined)?.code, 108);
  });

  it('answers bad requests with Centrifugo codes', async () => {
    const ch = unique('poll');
    const sub = await subscribed(await connect(), ch, false);
    const errors: Array<{ code: number }> = [];
    sub.on('error', (e) => {
      if (e.type === 'track') errors.push(e.error);
    });
    sub.track([{ key: 'a', version: 0 }], 'not-a-signature');
    sub.track([{ key: 'a', version: 0 }], sign(ch, ['a'], 3600, 'someone-else'));
    sub.track([{ key: 'a', version: 0 }], sign(ch, ['a'], 3600, USER, 'wrong-secret'));
    sub.track(['w', 'x', 'y', 'z'].map((key) => ({ key, version: 0 })), sign(ch, ['w', 'x', 'y', 'z']));
    await waitFor(() => errors.length === 4, { what: 'four track errors' });
    assert.deepEqual(errors.map((e) => e.code), [103, 103, 103, 106]);

    const raw = pool.raw(gyre.url);
    await nextEvent(raw, 'open');
    const replies: Array<Record<string, unknown>> = [];
    raw.on('message', (m: Buffer) => {
      for (const line of m.toString().split('\n')) if (line !== '') replies.push(JSON.parse(line) as Record<string, unknown>);
    });
    raw.send(JSON.stringify({ id: 1, connect: { token: await connToken({ sub: USER }) } }));
    raw.send(
      [
        { id: 2, subscribe: { channel: unique('open'), type: 4 } },
        { id: 3, subscribe: { channel: unique('poll') } },
        { id: 4, subscribe: { channel: ch.replace('poll:', 'poll:x'), type: 4 } },
        { id: 5, sub_refresh: { channel: ch.replace('poll:', 'poll:x'), type: 1, track: [] } },
        { id: 6, sub_refresh: { channel: ch.replace('poll:', 'poll:x'), type: 2, untrack: [] } },
        { id: 7, sub_refresh: { channel: ch.replace('poll:', 'poll:x'), type: 1, track: [{ signature: sign(ch, ['a'], -60), items: [{ key: 'a' }] }] } },
      ]
        .map((c) => JSON.stringify(c))
        .join('\n'),
    );
    await waitFor(() => replies.some((r) => r['id'] === 7), { what: 'reply 7' });
    const code = (id: number): unknown => (replies.find((r) => r['id'] === id)?.['error'] as { code?: number } | undefined)?.code;
    assert.deepEqual([2, 3, 5, 6, 7].map(code), [108, 107, 107, 107, 103]);
    assert.deepEqual(replies.find((r) => r['id'] === 4)?.['subscribe'], { type: 4 });
  });

  it('a failing, garbage-answering or hanging backend (HTTP or GRPC) stalls nobody else, and polling stops with the last tracker', async () => {
    const bad = [unique('poll'), unique('poll'), unique('poll'), unique('pollg'), unique('pollg')] as const;
    const behaviours = ['error500', 'garbage', 'hang', 'garbage', 'error500'] as const;
    const good = unique('poll');
    const c = await connect();
    const badSubs: SharedPollSubscription[] = [];
    for (let i = 0; i < bad.length; i++) {
      backend.behave(bad[i]!, behaviours[i]!);
      backend.set(bad[i]!, 'k', { data: { bad: i }, version: 1 });
      const s = await subscribed(c, bad[i]!);
      s.track(['k']);
      badSubs.push(s);
    }
    backend.set(good, 'k', { data: { n: 1 }, version: 1 });
    const gsub = await subscribed(c, good);
    const versions: number[] = [];
    gsub.on('update', (u) => versions.push(u.version ?? 0));
    gsub.track(['k']);
    for (let v = 2; v <= 4; v++) {
      await waitFor(() => versions.includes(v - 1), { what: `version ${v - 1}` });
      backend.set(good, 'k', { data: { n: v }, version: v });
    }
    await waitFor(() => versions.includes(4), { what: 'version 4 while three backends fail' });
    const scrape = parseScrape(await (await fetch(`${gyre.baseUrl}/metrics`)).text());
    assert.ok(total(scrape, 'centrifugo_shared_poll_handler_error_count') >= 5, 'errors counted');
    assert.ok(total(scrape, 'centrifugo_proxy_errors', { type: 'shared_poll_refresh', protocol: 'grpc' }) >= 2, 'GRPC errors counted');
    assert.ok(total(scrape, 'centrifugo_shared_poll_num_channels') >= 6);
    // A broken backend that recovers is polled again.
    const up = nextUpdate(badSubs[0]!);
    backend.behave(bad[0], 'ok');
    assert.deepEqual((await up).data, { bad: 0 });

    // The last tracker leaves: after the shutdown delay (100 ms) the channel is not polled any more.
    // A running loop polls every 150 ms, so 600 ms without a request means it stopped.
    c.disconnect();
    let seen = backend.requestsFor(good).length;
    let quietSince = Date.now();
    await waitFor(
      () => {
        const n = backend.requestsFor(good).length;
        if (n !== seen) [seen, quietSince] = [n, Date.now()];
        return Date.now() - quietSince >= 600;
      },
      { what: 'the loop to stop with the last tracker', timeoutMs: 6000, intervalMs: 50 },
    );
  });

  it('rotates the signing key on SIGHUP: the previous key keeps working, others do not', async () => {
    const reloaded = (): number => gyre.stdout().split('\n').filter((l) => l.includes('"configuration reloaded"')).length;
    const before = reloaded();
    writeFileSync(gyre.configFile, JSON.stringify(mergeConfig(startConfig, { shared_poll: { hmac_secret_key: 'rotated', hmac_previous_secret_key: SECRET } })));
    process.kill(gyre.pid, 'SIGHUP');
    await waitFor(() => reloaded() > before, { what: 'the reload', timeoutMs: 15_000 });
    const ch = unique('poll');
    for (const k of ['a', 'b', 'c']) backend.set(ch, k, { data: k, version: 1 });
    const sub = await subscribed(await connect(), ch, false);
    const got: string[] = [];
    const errors: number[] = [];
    sub.on('update', (u) => got.push(u.key));
    sub.on('error', (e) => errors.push(e.error.code));
    sub.track([{ key: 'a', version: 0 }], sign(ch, ['a'], 3600, USER, SECRET));
    sub.track([{ key: 'b', version: 0 }], sign(ch, ['b'], 3600, USER, 'rotated'));
    sub.track([{ key: 'c', version: 0 }], sign(ch, ['c'], 3600, USER, 'unknown'));
    await waitFor(() => got.length === 2 && errors.length === 1, { what: 'two updates and one error' });
    assert.deepEqual([got.sort(), errors], [['a', 'b'], [103]]);
  });
});
